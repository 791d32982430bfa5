"""Email verification pages, and "Renvoyer le mail" from the account home."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from trousseau.accounts.models import Account
from trousseau.accounts.services import email_awaiting_verification
from trousseau.core.http import client_ip
from trousseau.flows.journeys import email_verification


@require_http_methods(["GET", "POST"])
def email_verify(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners prefetch links); POST verifies."""
    if request.method == "POST":
        account = email_verification.confirm(token, ip=client_ip(request))
        if account is None:
            return render(request, "flows/email_invalid.html", status=400)
        return render(request, "flows/email_verified.html", {"account": account})
    found = email_verification.read(token)
    if found is None or email_awaiting_verification(found[0]) != found[1]:
        return render(request, "flows/email_invalid.html", status=400)
    return render(request, "flows/email_confirm.html", {"email": found[1]})


@login_required
@require_http_methods(["POST"])
def email_resend(request: HttpRequest) -> HttpResponse:
    account = request.user
    assert isinstance(account, Account)  # noqa: S101 - login_required guarantees it
    if email_awaiting_verification(account):
        email_verification.send(account, ip=client_ip(request))
        messages.info(request, gettext("Un nouvel email de confirmation a été envoyé."))
    return redirect("accounts:home")
