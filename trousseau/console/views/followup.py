"""Activation follow-up: per school, per class, per kind and over time; tables, a chart, CSV exports."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from trousseau.audit.events import EventTag
from trousseau.console.audit import staff_audit
from trousseau.console.charts import activation_chart
from trousseau.console.forms import PeriodForm
from trousseau.console.models import StaffMember
from trousseau.console.scoping import schools_in_scope
from trousseau.console.selectors import followup
from trousseau.console.selectors.accounts import school_classes
from trousseau.console.spreadsheet import csv_bytes
from trousseau.console.views.common import context, school_view, staff_required
from trousseau.core.http import client_ip
from trousseau.directory.models import School


def _days(request: HttpRequest) -> tuple[PeriodForm, int]:
    form = PeriodForm(request.GET or None)
    days = form.cleaned_data["jours"] if form.is_valid() and form.cleaned_data["jours"] else 30
    return form, int(days)


@school_view()
def dashboard(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    form, days = _days(request)
    points = followup.timeline(school, days=days)
    ctx = context(
        staff,
        school,
        form=form,
        days=days,
        total=followup.school_total(school),
        classes=followup.per_class(school),
        points=points,
        recent=list(reversed(points)),
        chart=activation_chart(points, pupils_label=_("Élèves"), guardians_label=_("Responsables")),
    )
    return render(request, "console/followup.html", ctx)


def _csv(payload: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(payload, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _rate_rows(level: str, uai: str, line: followup.Line) -> list[list[object]]:
    """Two rows (pupils, guardians) for a school or a class; `nom` is the school's name or the class."""
    return [
        [level, uai, line.label, kind, rate.active, rate.total, "" if rate.percent is None else rate.percent]
        for kind, rate in (("eleves", line.pupils), ("responsables", line.guardians))
    ]


HEADER = ["niveau", "uai", "nom", "profil", "actifs", "comptes", "taux_pourcent"]


@school_view()
def dashboard_csv(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    rows = _rate_rows("etablissement", school.uai, followup.school_total(school))
    for line in followup.per_class(school):
        rows += _rate_rows("classe", school.uai, line)
    staff_audit(EventTag.CONSOLE_FOLLOWUP_EXPORTED, staff=staff, school=school, ip=client_ip(request), export="classes")
    return _csv(csv_bytes(HEADER, rows), f"suivi-{school.uai}-{timezone.localdate():%Y%m%d}.csv")


@school_view()
def timeline_csv(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    _, days = _days(request)
    header = ["date", "eleves_actifs", "eleves_comptes", "responsables_actifs", "responsables_comptes"]
    rows = [
        [p.day.isoformat(), p.pupils.active, p.pupils.total, p.guardians.active, p.guardians.total]
        for p in followup.timeline(school, days=days)
    ]
    staff_audit(
        EventTag.CONSOLE_FOLLOWUP_EXPORTED, staff=staff, school=school, ip=client_ip(request), export="timeline"
    )
    return _csv(csv_bytes(header, rows), f"suivi-chronologie-{school.uai}-{timezone.localdate():%Y%m%d}.csv")


@staff_required
def schools_csv(request: HttpRequest, staff: StaffMember) -> HttpResponse:
    rows: list[list[object]] = []
    for line in followup.per_school(schools_in_scope(staff)):
        rows += _rate_rows("etablissement", line.key, line)
    staff_audit(EventTag.CONSOLE_FOLLOWUP_EXPORTED, staff=staff, ip=client_ip(request), export="schools")
    return _csv(csv_bytes(HEADER, rows), f"suivi-etablissements-{timezone.localdate():%Y%m%d}.csv")


YES_NO = {None: "", True: "oui", False: "non"}  # a pupil account has no contact of the school's


def _class_of(request: HttpRequest, school: School) -> str:
    """The class asked for, if the school has it ("" for the whole school)."""
    asked = request.GET.get("classe", "")
    return asked if asked in school_classes(school) else ""


@school_view()
def waiting_view(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    class_name = _class_of(request, school)
    ctx = context(staff, school, class_name=class_name, waiting=followup.waiting(school, class_name))
    return render(request, "console/followup_waiting.html", ctx)


@school_view()
def waiting_csv(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    """The same list as a spreadsheet: names, profile, classes, whether a mobile and an email are recorded."""
    class_name = _class_of(request, school)
    header = ["nom", "prenom", "identifiant", "profil", "classes", "portable_enregistre", "email_enregistre"]

    rows = [
        [w.row.last_name, w.row.first_name, w.row.identifier, w.row.kind_label, ", ".join(w.row.classes),
         YES_NO[w.mobile], YES_NO[w.email]]
        for w in followup.waiting(school, class_name)
    ]  # fmt: skip
    staff_audit(
        EventTag.CONSOLE_FOLLOWUP_EXPORTED,
        staff=staff,
        school=school,
        ip=client_ip(request),
        export="waiting",
        class_name=class_name,
        rows=len(rows),
    )
    suffix = slugify(class_name) or "etablissement"
    return _csv(csv_bytes(header, rows), f"en-attente-{school.uai}-{suffix}.csv")
