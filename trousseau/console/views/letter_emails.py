"""Activation letters by email: the confirmation page, the send, the batches and their reports (issue #19)."""

from __future__ import annotations

import secrets
import uuid

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from trousseau.console.models import LetterEmailBatch, StaffMember
from trousseau.console.selectors.accounts import school_classes
from trousseau.console.services import letter_emails
from trousseau.console.views.common import context, forbidden, school_view
from trousseau.core.http import client_ip
from trousseau.directory.models import School

# The confirmation page's one-time value: a second POST of the same page (a double click, a reload)
# would issue every letter again and void the ones just emailed.
CONFIRMATION_KEY = "console_letter_emails_confirmation"


class SendForm(forms.Form):
    """Which guardians: the whole school or one class; `confirme` is the confirmation page's one-time value."""

    classe = forms.ChoiceField(label=gettext_lazy("Classe"), required=False)
    confirme = forms.CharField(required=False)

    def __init__(self, *args: object, classes: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["classe"].choices = [("", _("Tout l'établissement")), *((c, c) for c in classes)]  # type: ignore[attr-defined]
        self.fields["classe"].error_messages["invalid_choice"] = _("Cette classe n'existe pas dans l'établissement.")


@require_http_methods(["GET", "POST"])
@school_view()
def send_view(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    """GET: what the send will do, with the button that does it. POST with that page's `confirme`: send."""
    if not staff.can_act:
        return forbidden(request, staff, reason="read_only", uai=school.uai)
    form = SendForm(request.POST if request.method == "POST" else request.GET, classes=school_classes(school))
    if not form.is_valid():
        messages.error(request, str(form.errors["classe"][0]) if "classe" in form.errors else _("Demande invalide."))
        return redirect("console:letters", uai=school.uai)
    class_name = form.cleaned_data["classe"]
    if request.method == "POST" and form.cleaned_data["confirme"]:
        expected = request.session.pop(CONFIRMATION_KEY, "")
        if not (
            expected and secrets.compare_digest(expected, f"{school.uai}:{class_name}:{form.cleaned_data['confirme']}")
        ):
            messages.error(
                request,
                _(
                    "Cette confirmation a déjà servi ou a expiré : rien n'a été envoyé. "
                    "Vérifiez les comptes rendus avant de recommencer."
                ),
            )
            return redirect("console:letter_email_batches", uai=school.uai)
        try:
            batch = letter_emails.batch_send(staff=staff, school=school, class_name=class_name, ip=client_ip(request))
        except letter_emails.NothingToSend:
            messages.info(request, _("Aucun responsable de cette sélection n'a d'adresse email : rien n'a été envoyé."))
            return redirect("console:letters", uai=school.uai)
        messages.success(
            request, _("Les courriels sont en cours d'envoi. Ce compte rendu se met à jour au fil des envois.")
        )
        return redirect("console:letter_email_batch", uai=school.uai, batch_id=batch.pk)
    chosen = letter_emails.selection(school, class_name=class_name)
    confirmation = secrets.token_urlsafe(16)
    # Tied to the school and class shown: an operator's confirmation for one school sends nothing in another.
    request.session[CONFIRMATION_KEY] = f"{school.uai}:{class_name}:{confirmation}"
    ctx = context(staff, school, form=form, class_name=class_name, chosen=chosen, confirmation=confirmation)
    return render(request, "console/letter_emails_confirm.html", ctx)


@require_GET
@school_view()
def batches_view(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    ctx = context(staff, school, batches=letter_emails.batches(school)[:100])
    return render(request, "console/letter_email_batches.html", ctx)


@require_GET
@school_view()
def batch_view(request: HttpRequest, staff: StaffMember, school: School, batch_id: uuid.UUID) -> HttpResponse:
    batch = get_object_or_404(LetterEmailBatch.objects.select_related("staff"), pk=batch_id, school=school)
    ctx = context(staff, school, batch=batch, report=letter_emails.report(batch))
    return render(request, "console/letter_email_batch.html", ctx)
