"""The mire: "J'accède aux services numériques des établissements scolaires".

`attempt` and `render_mire` also serve the SAML login form, step e1s2 (trousseau/federation/saml/login.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from trousseau.accounts import authentication as auth
from trousseau.accounts import devices
from trousseau.accounts.models import Account, AccountKind
from trousseau.accounts.sessions import session_open
from trousseau.core import continuation
from trousseau.core.continuation import allow_continuation
from trousseau.core.http import client_ip
from trousseau.core.refusals import Throttled, too_many_tries
from trousseau.flows.activation_by_letter import transitions as activation_by_letter
from trousseau.flows.letter_refusals import CONTINUE_AFTER_ACTIVATION, LETTER_EXPIRED, LETTER_MESSAGES
from trousseau.flows.views.common import browser_secret, safe_next
from trousseau.signin.forms import PROFILE_KINDS, LoginForm
from trousseau.signin.mire_page import render_page

FAILED = _("Identifiant ou mot de passe incorrect.")
DISABLED = _("Ce compte est désactivé. Contactez votre établissement.")
LOCKED_RETRY_AFTER = 24 * 3600  # a locked identifier opens by a recovery, not by waiting: "not today"
# Said only once the password was right: before, nothing may tell whether an identifier exists.
WRONG_PROFILE = {
    AccountKind.GUARDIAN: _("Ce compte est un compte de responsable d'élève : choisissez « Responsable d'élève »."),
    AccountKind.PUPIL: _("Ce compte est un compte d'élève : choisissez « Élève »."),
}


@dataclass(frozen=True)
class Refusal:
    """What the mire says when the credentials open no session, and how long to wait, if that is why."""

    message: str | Promise
    retry_after: int | None = None  # seconds: the answer is then 429 with Retry-After (RFC 6585)


def attempt(
    request: HttpRequest,
    form: LoginForm,
    *,
    continue_to: str,
    at_login: Callable[[SessionBase], object] | None = None,
) -> Account | HttpResponse | Refusal:
    """Check the mire's credentials (form already valid).

    Returns the account, now logged in; or the response that goes on elsewhere (letter activation,
    which comes back to `continue_to`); or the error to show with the form. Shared by the mire and
    the single sign-on login form (trousseau/federation/saml/login.py), whose `at_login` writes its
    next step in the new session before its row is inserted (accounts/sessions.py, `also`).
    """
    data = form.cleaned_data
    outcome = auth.authenticate(
        identifier=data["identifier"],
        password=data["password"],
        ip=client_ip(request),
        device_cookie=request.COOKIES.get(devices.cookie_name(), ""),
        # Rotates the session key; on PostgreSQL its writes go with the attempt's (authentication.py).
        on_login=lambda account, writes: session_open(request, account, writes=writes, also=at_login),
        # No profile at all (clients written for ÉduConnect before `typeUser`, scripts) fits every account.
        # A right password under the other profile opens no session, and is not a login in the holder's
        # "Mes dernières connexions".
        kind=PROFILE_KINDS.get(data.get("profile", "")),
    )
    match outcome:
        case auth.LoggedIn(account):
            return account
        case auth.ProvisionalLetter(account, letter):
            flow = activation_by_letter.start(account=account, letter=letter, browser_secret=browser_secret(request))
            request.session[CONTINUE_AFTER_ACTIVATION] = continue_to
            return redirect("flows:activation_by_letter", flow_id=flow.pk)
        case auth.WrongProfile(kind):
            return Refusal(WRONG_PROFILE[kind])  # the password (or the letter's) was right: now it may be said
    return _refusal(outcome)


def remember_device(request: HttpRequest, response: HttpResponse, account: Account) -> HttpResponse:
    """The answer to a successful login, carrying this browser's device cookie for the account (fresh nonce)."""
    cookie = devices.remembered(request.COOKIES.get(devices.cookie_name(), ""), account.identifier)
    devices.give(response, cookie)
    return response


def _refusal(outcome: auth.Outcome) -> Refusal:
    """What the mire says when the credentials do not open a session."""
    match outcome:
        case auth.LetterUnusable(status):
            return Refusal(LETTER_MESSAGES.get(status, LETTER_EXPIRED))
        case auth.Disabled():
            return Refusal(DISABLED)
        case auth.Merged(into_identifier):
            return Refusal(
                _(
                    "Ce compte a été regroupé avec le compte %(identifier)s : connectez-vous avec l'identifiant "
                    "%(identifier)s."
                )
                % {"identifier": into_identifier}
            )
        case auth.Locked():
            locked = _(
                "Trop d'essais de connexion avec cet identifiant : il est bloqué. Pour le débloquer, "
                "utilisez « Mot de passe perdu » ou contactez votre établissement. Sur un appareil où vous "
                "vous êtes déjà connecté, la connexion reste possible."
            )
            return Refusal(locked, retry_after=LOCKED_RETRY_AFTER)
        case Throttled(minutes):
            return Refusal(too_many_tries(minutes), retry_after=minutes * 60)
    return Refusal(FAILED)


def render_mire(request: HttpRequest, form: LoginForm, error: str | Promise | Refusal, **extra: Any) -> HttpResponse:
    """The mire; `extra` may set `action` (where the form posts) and `sso` (the SAML login page's fields).

    A refusal that asks to wait answers 429 with Retry-After, so that scripts slow down too.
    """
    refusal = error if isinstance(error, Refusal) else Refusal(error)
    # The SAML login page is itself the way back to its service: it passes its own URL as `next`.
    next_url = str(extra.get("next") or request.POST.get("next") or request.GET.get("next", ""))
    if next_url:
        continuation.remember(request.session, next_url)  # for after "Identifiant perdu" and the other detours
    context = {"form": form, "error": refusal.message, "next": next_url, **extra}
    response = render_page(request, context, status=429 if refusal.retry_after else 200)  # kept HTML when it may
    if refusal.retry_after:
        response["Retry-After"] = str(refusal.retry_after)
    return allow_continuation(response, next_url)


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """The mire: "J'accède aux services numériques des établissements scolaires"."""
    # prompt=login: an OpenID Connect client asks for a fresh login even in a logged-in browser.
    if request.user.is_authenticated and request.method == "GET" and request.GET.get("prompt") != "login":
        next_url = safe_next(request)
        service = continuation.service_for(next_url, request.session)
        return render(request, "signin/already_logged_in.html", {"next": next_url, "service": service})
    form = LoginForm(request.POST if request.method == "POST" else None)
    error: str | Refusal = ""
    if request.method == "POST" and form.is_valid():
        result = attempt(request, form, continue_to=safe_next(request))
        if isinstance(result, Account):
            return remember_device(request, HttpResponseRedirect(safe_next(request)), result)
        if isinstance(result, HttpResponse):
            return result
        error = result
    return render_mire(request, form, error)
