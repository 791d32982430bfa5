"""Activation letters for a class or the whole school, as PDF (to print) or CSV (for a mail merge)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from trousseau.console.forms import LettersForm
from trousseau.console.models import StaffMember
from trousseau.console.selectors import followup
from trousseau.console.selectors.accounts import school_classes
from trousseau.console.services import letters
from trousseau.console.views.accounts import pdf_response
from trousseau.console.views.common import context, forbidden, school_view
from trousseau.core.http import client_ip
from trousseau.directory.models import School, SchoolLevel


@require_http_methods(["GET", "POST"])
@school_view()
def letters_view(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    if request.method == "POST" and not staff.can_act:
        return forbidden(request, staff, reason="read_only", uai=school.uai)
    form = LettersForm(
        request.POST if request.method == "POST" else None,
        classes=school_classes(school),
        primary=school.level == SchoolLevel.ECOLE,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        accounts = letters.accounts_to_notify(school, kinds=data["kinds"], class_name=data["classe"])
        replaced = letters.with_valid_letter(accounts)
        if replaced and not data["valides"]:
            # A new letter voids the one a family may already hold: say which, and let her choose.
            ctx = context(
                staff,
                school,
                form=form,
                classes=followup.per_class(school),
                replaced=[a for a in accounts if a.pk in replaced],
                total=len(accounts),
            )
            return render(request, "console/letters.html", ctx)
        if data["valides"] == "sans_courrier":
            accounts = [a for a in accounts if a.pk not in replaced]
        if not accounts:
            messages.info(
                request, _("Aucun compte de cette sélection n'attend d'activation : il n'y a rien à imprimer.")
            )
            return redirect("console:letters", uai=school.uai)
        scope = f"class:{data['classe']}" if data["classe"] else "school"
        name = "courriers-" + slugify(f"{school.uai}-{data['classe'] or 'etablissement'}-{data['kinds']}")
        if data["format"] == "csv":
            payload = letters.export_csv(
                staff=staff, school=school, accounts=accounts, scope=scope, ip=client_ip(request)
            )
            response = HttpResponse(payload, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
            response["Cache-Control"] = "no-store"
            return response
        pdf = letters.print_pdf(staff=staff, school=school, accounts=accounts, scope=scope, ip=client_ip(request))
        return pdf_response(pdf, f"{name}.pdf")
    ctx = context(
        staff,
        school,
        form=form,
        classes=followup.per_class(school),
    )
    return render(request, "console/letters.html", ctx, status=400 if form.errors else 200)
