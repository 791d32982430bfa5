"""One action on the accounts ticked on a search or a waiting list: say what it will do, then do it."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from trousseau.console.models import StaffMember
from trousseau.console.services import batch
from trousseau.console.services.batch import BatchAction, BatchPlan, BatchRefused
from trousseau.console.views.accounts import pdf_response
from trousseau.console.views.common import CONFIRMED, confirmed, context, school_view
from trousseau.core.http import client_ip
from trousseau.directory.models import School


class _Ids(forms.Field):
    """Account ids, as the checkboxes (`comptes`) or the confirmation's hidden list (`prevus`) send them."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("La sélection envoyée n'est pas valide : cochez de nouveau les comptes.")}

    def to_python(self, value: object) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        try:
            return [int(str(v)) for v in values]
        except ValueError as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc


class BatchForm(forms.Form):
    comptes = _Ids(required=False)
    action = forms.ChoiceField(choices=[(a.value, a.value) for a in BatchAction])
    prevus = _Ids(required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        error = _("Choisissez une action parmi celles proposées sous la liste.")
        self.fields["action"].error_messages.update(required=error, invalid_choice=error)


def _back(request: HttpRequest, school: School) -> str:
    """The list the selection was made on (search or waiting list of this school), else the search.

    Without its "tout" (select all): back on the list after an action, no box is ticked in advance.
    """
    target = request.POST.get("retour", "")
    if not target.startswith(f"/console/etablissements/{school.uai}/") or not url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return reverse("console:search", args=[school.uai])
    parts = urlsplit(target)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "tout"])
    return urlunsplit(("", "", parts.path, query, ""))


def _confirmation(  # noqa: PLR0913 - the request, who and where, the plan and the ids ticked, a problem
    request: HttpRequest, staff: StaffMember, school: School, todo: BatchPlan, *, ids: list[int], error: str = ""
) -> HttpResponse:
    ctx = context(
        staff,
        school,
        plan=todo,
        action_label=batch.ACTION_LABELS[todo.action],
        selected=ids,
        back=_back(request, school),
        error=error,
        confirmed=CONFIRMED,
    )
    return render(request, "console/batch_confirm.html", ctx)


def _download(result: batch.BatchResult, school: School) -> HttpResponse:
    stamp = f"{school.uai}-{timezone.localtime():%Y%m%d-%H%M}"
    if result.plan.action == BatchAction.EXPORT:
        response = HttpResponse(result.payload, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="courriers-selection-{stamp}.csv"'
        response["Cache-Control"] = "no-store"
        return response
    return pdf_response(result.payload, f"courriers-selection-{stamp}.pdf")


@school_view(act=True)
def batch_view(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    """POST from a list: the confirmation page; POST from that page (`confirme=oui`): the action itself."""
    form = BatchForm(request.POST)
    if not form.is_valid():
        messages.error(request, str(next(iter(form.errors.values()))[0]))
        return redirect(_back(request, school))
    action, ids = BatchAction(form.cleaned_data["action"]), form.cleaned_data["comptes"]
    ip = client_ip(request)
    try:
        todo = batch.plan(school, action, ids)
    except BatchRefused as exc:
        if not isinstance(exc, batch.NothingTicked):
            batch.refuse(staff=staff, school=school, action=action, ids=ids, reason=str(exc.message), ip=ip)
        messages.error(request, str(exc.message))
        return redirect(_back(request, school))
    if not confirmed(request):
        return _confirmation(request, staff, school, todo, ids=ids)
    try:
        result = batch.apply(
            staff=staff, school=school, action=action, ids=ids, confirmed=form.cleaned_data["prevus"], ip=ip
        )
    except BatchRefused as exc:
        # Nothing was done: the page shows what the action would do now, and why it stopped.
        batch.refuse(staff=staff, school=school, action=action, ids=ids, reason=str(exc.message), ip=ip)
        return _confirmation(request, staff, school, batch.plan(school, action, ids), ids=ids, error=str(exc.message))
    if action == BatchAction.DISABLE:
        count = len(result.plan.accounts)
        messages.success(
            request,
            ngettext(
                "%(n)s compte a été désactivé. Ses sessions ont été fermées.",
                "%(n)s comptes ont été désactivés. Leurs sessions ont été fermées.",
                count,
            )
            % {"n": count},
        )
        return redirect(_back(request, school))
    return _download(result, school)
