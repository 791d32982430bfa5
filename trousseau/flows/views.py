"""One thin view per step: parse the form, call one transition, render or redirect."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from trousseau.accounts import authentication as auth
from trousseau.accounts.models import Account, AccountKind, LetterStatus
from trousseau.accounts.passwords import COMPOSITION_RULES
from trousseau.core.http import client_ip
from trousseau.core.secrets import token
from trousseau.flows.exceptions import (
    FlowExpired,
    ForeignFlow,
    LetterNoLongerValid,
    TooManyAttempts,
    WrongBirthDate,
    WrongState,
)
from trousseau.flows.forms import ActivationForm, LoginForm
from trousseau.flows.journeys import activation_by_letter, email_verification
from trousseau.flows.models import Flow, FlowKind

BROWSER_KEY = "flow_browser"
FAILED = "Identifiant ou mot de passe incorrect."
LETTER_MESSAGES = {
    LetterStatus.USED: (
        "Ce courrier a déjà servi à activer votre compte. Connectez-vous avec le mot de passe que vous avez "
        "choisi, utilisez « Mot de passe perdu » ou contactez votre établissement."
    ),
}
LETTER_EXPIRED = (
    "Ce courrier d'activation n'est plus valable. Contactez votre établissement pour en obtenir un nouveau."
)
DISABLED = "Ce compte est désactivé. Contactez votre établissement."
FLOW_OVER = "Cette activation n'est plus en cours. Reconnectez-vous avec l'identifiant et le mot de passe du courrier."


def _browser_secret(request: HttpRequest) -> str:
    """A random value kept in this browser's session; flows are bound to its digest."""
    secret = request.session.get(BROWSER_KEY)
    if not secret:
        secret = token()
        request.session[BROWSER_KEY] = secret
    return str(secret)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("accounts:home")


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """The mire: "J'accède aux services numériques des établissements scolaires"."""
    if request.user.is_authenticated and request.method == "GET":
        return render(request, "flows/already_logged_in.html", {"next": _safe_next(request)})
    form = LoginForm(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        outcome = auth.authenticate(identifier=data["identifier"], password=data["password"], ip=client_ip(request))
        match outcome:
            case auth.LoggedIn(account):
                login(request, account)  # rotates the session key
                return HttpResponseRedirect(_safe_next(request))
            case auth.ProvisionalLetter(account, letter):
                flow = activation_by_letter.start(
                    account=account, letter=letter, browser_secret=_browser_secret(request)
                )
                return redirect("flows:activation", flow_id=flow.pk)
            case auth.LetterUnusable(status):
                error = LETTER_MESSAGES.get(status, LETTER_EXPIRED)
            case auth.Disabled():
                error = DISABLED
            case auth.Throttled(minutes):
                error = f"Trop de tentatives. Patientez {minutes} minute(s) avant de réessayer."
            case _:
                error = FAILED
    context = {"form": form, "error": error, "next": request.POST.get("next") or request.GET.get("next", "")}
    return render(request, "flows/login.html", context)


def _load_flow(request: HttpRequest, flow_id: uuid.UUID, kind: FlowKind) -> Flow:
    flow = get_object_or_404(Flow.objects.select_related("account"), pk=flow_id, kind=kind)
    try:
        flow.check_binding(request.session.get(BROWSER_KEY))
    except ForeignFlow as exc:
        raise PermissionDenied from exc
    return flow


@require_http_methods(["GET", "POST"])
def activation(request: HttpRequest, flow_id: uuid.UUID) -> HttpResponse:
    """ "Activation du compte": new password, birth date, optional email."""
    flow = _load_flow(request, flow_id, FlowKind.ACTIVATION_BY_LETTER)
    account = flow.account
    assert account is not None  # noqa: S101 - activation flows always carry their account
    form = ActivationForm(request.POST if request.method == "POST" else None, account=account)
    error = ""
    try:
        activation_by_letter.ensure_open(flow)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            activated = activation_by_letter.submit(
                flow,
                password=data["password"],
                birth_date=data["birth_date"],
                email=data["email"],
                ip=client_ip(request),
            )
            login(request, activated)
            messages.success(request, "Votre compte est activé.")
            if activated.email:
                messages.info(request, f"Un email de confirmation a été envoyé à {activated.email}.")
            return redirect("accounts:home")
    except WrongBirthDate as exc:
        error = f"La date de naissance ne correspond pas. Il vous reste {exc.remaining} essai(s)."
    except LetterNoLongerValid:
        messages.error(request, LETTER_EXPIRED)
        return redirect("flows:login")
    except (TooManyAttempts, FlowExpired, WrongState):
        messages.error(request, FLOW_OVER)
        return redirect("flows:login")
    pupil = account.pupils().first() if account.kind == AccountKind.PUPIL else None
    context = {
        "form": form,
        "error": error,
        "account": account,
        "is_pupil": account.kind == AccountKind.PUPIL,
        "rules": COMPOSITION_RULES,
        "pupil_under_age": pupil is not None and pupil.age_on(flow.created_at.date()) < 15,  # noqa: PLR2004
    }
    return render(request, "flows/activation.html", context, status=400 if error else 200)


@require_http_methods(["GET", "POST"])
def email_verify(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners prefetch links); POST verifies."""
    if request.method == "POST":
        account = email_verification.confirm(token, ip=client_ip(request))
        if account is None:
            return render(request, "flows/email_invalid.html", status=400)
        return render(request, "flows/email_verified.html", {"account": account})
    found = email_verification.read(token)
    if found is None or found[0].email != found[1] or found[0].email_verified_at:
        return render(request, "flows/email_invalid.html", status=400)
    return render(request, "flows/email_confirm.html", {"email": found[1]})


@login_required
@require_http_methods(["POST"])
def email_resend(request: HttpRequest) -> HttpResponse:
    account = request.user
    assert isinstance(account, Account)  # noqa: S101 - login_required guarantees it
    if account.email and not account.email_verified_at:
        email_verification.send(account, ip=client_ip(request))
        messages.info(request, "Un nouvel email de confirmation a été envoyé.")
    return redirect("accounts:home")
