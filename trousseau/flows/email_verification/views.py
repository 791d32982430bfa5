"""Email verification pages, "Renvoyer le mail" from the account home, and the new email that starts one.

"Gérer mon compte" is the accounts app's page (`accounts.views`); the change of email lives here because
it sends a verification link, a journey of flows, and accounts never imports flows. Like every change
from that page, it asks the holder to prove it is them again first: `accounts.changes.confirm_holder`.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from trousseau.accounts.changes import email_change
from trousseau.accounts.exceptions import FreshLoginRequired, WrongCurrentPassword
from trousseau.accounts.forms import EmailForm, holder_proof_refused
from trousseau.accounts.models import Account
from trousseau.accounts.services import email_awaiting_verification
from trousseau.accounts.sessions import authenticated_at
from trousseau.core.http import client_ip
from trousseau.core.refusals import TooManyTries
from trousseau.flows.email_verification import transitions as email_verification


@require_http_methods(["GET", "POST"])
def email_verify(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners prefetch links); POST verifies."""
    if request.method == "POST":
        account = email_verification.confirm(token, ip=client_ip(request))
        if account is None:
            return render(request, "flows/email_verification/invalid.html", status=400)
        return render(request, "flows/email_verification/verified.html", {"account": account})
    found = email_verification.read(token)
    if found is None or email_awaiting_verification(found[0]) != found[1]:
        return render(request, "flows/email_verification/invalid.html", status=400)
    return render(request, "flows/email_verification/confirm.html", {"email": found[1]})


@login_required
@require_http_methods(["POST"])
def email_resend(request: HttpRequest) -> HttpResponse:
    account = request.user
    assert isinstance(account, Account)  # noqa: S101 - login_required guarantees it
    if email_awaiting_verification(account):
        email_verification.send(account, ip=client_ip(request))
        messages.info(request, gettext("Un nouvel email de confirmation a été envoyé."))
    return redirect("accounts:home")


@login_required
@require_http_methods(["GET", "POST"])
def change_email(request: HttpRequest) -> HttpResponse:
    account = request.user
    assert isinstance(account, Account)  # noqa: S101 - login_required guarantees it
    form = EmailForm(request.POST if request.method == "POST" else None, account=account)
    error = ""
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request)
        email = form.cleaned_data["email"]
        try:
            account = email_change(
                account=account,
                email=email,
                password=form.cleaned_data.get("current_password", ""),
                authenticated_at=authenticated_at(request.session),
                ip=ip,
            )
        except (WrongCurrentPassword, TooManyTries, FreshLoginRequired) as exc:
            error = holder_proof_refused(form, exc)
        else:
            email_verification.send(account, ip=ip)
            messages.success(
                request,
                _(
                    "Un email de confirmation a été envoyé à %(email)s. Suivez le lien qu'il contient pour "
                    "vérifier l'adresse : jusque-là, votre adresse actuelle reste en place."
                )
                % {"email": email},
            )
            return redirect("accounts:home")
    context = {"form": form, "error": error}
    return render(request, "flows/email_verification/change.html", context, status=400 if form.errors or error else 200)
