"""Single logout: one place that ends the SSO session everywhere it reached.

Each protocol is a logout participant, registered from its AppConfig.ready() (`register`); sign-in
never imports one. Order: every participant's `leave` while we still know the account and the session
key (OpenID Connect notifies its clients by back-channel, SAML notes which SPs to tell); then the local
session closes; then, in the browser, each participant's `next_step` until none has one (SAML's
LogoutRequest to each SP, front channel); then FranceConnect's own logout page if the login came from
there, else the mire with "Vous avez été déconnecté(e) avec succès".

When the accounts app ends sessions itself (a password change, "se déconnecter partout", an account
grouped or disabled) it sends `sessions_ending`: each participant's `end_elsewhere` hears it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from trousseau.accounts.models import Account
from trousseau.accounts.sessions import session_close, sessions_ending
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.core.http import client_ip

logger = logging.getLogger("trousseau.signin")

LOGGED_OUT = _("Vous avez été déconnecté(e) avec succès")
FINAL_KEY = "logout_final"  # where the browser goes once every participant is done (FranceConnect's page)

Carry = Callable[[SessionBase], None]  # what a participant writes into the fresh session to go on


def _stays(request: HttpRequest, account: Account | None) -> Carry | None:
    return None


def _no_step(request: HttpRequest) -> HttpResponse | None:
    return None


def _nowhere(account: Account, keep: str | None) -> None:
    return None


@dataclass(frozen=True)
class Participant:
    """A protocol whose sessions end with ours; each part is optional."""

    name: str
    # Before the local session closes (server to server); may return what to carry into the new session.
    leave: Callable[[HttpRequest, Account | None], Carry | None] = _stays
    # The next message for the browser to carry, once the local session is closed; None when done.
    next_step: Callable[[HttpRequest], HttpResponse | None] = _no_step
    # Every session of `account` but `keep` ends (accounts' `sessions_ending`).
    end_elsewhere: Callable[[Account, str | None], None] = _nowhere


_participants: dict[str, Participant] = {}


def register(participant: Participant) -> None:
    """Called by a protocol's AppConfig.ready(); a second registration under a name replaces the first."""
    _participants[participant.name] = participant


def _leave_all(request: HttpRequest, account: Account | None) -> list[Carry]:
    carried = []
    for participant in _participants.values():
        try:
            carry = participant.leave(request, account)
        except Exception:
            # A service that is down must not keep the person logged in here.
            logger.exception("logout participant %s failed", participant.name)
            continue
        if carry is not None:
            carried.append(carry)
    return carried


def _continue(request: HttpRequest) -> HttpResponse:
    """The next message for the browser to carry, or the end of the logout."""
    for participant in _participants.values():
        step = participant.next_step(request)
        if step is not None:
            return step
    final = request.session.pop(FINAL_KEY, None)
    if final:
        return redirect(final)
    messages.success(request, LOGGED_OUT)
    return redirect("flows:login")


def logout(request: HttpRequest) -> HttpResponse:
    """End this browser's session everywhere (the audit entry is the caller's)."""
    account = request.user if isinstance(request.user, Account) else None
    carried = _leave_all(request, account)
    after = session_close(request)  # FranceConnect's logout page when the session came from there
    for carry in carried:
        carry(request.session)
    if after:
        request.session[FINAL_KEY] = after
    return _continue(request)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """The "Se déconnecter" button of our own pages."""
    if isinstance(request.user, Account):
        audit(EventTag.LOGOUT, account=request.user, ip=client_ip(request))
    return logout(request)


@require_http_methods(["GET", "POST"])
def idp_logout(request: HttpRequest) -> HttpResponse:
    """/idp/profile/Logout: the "Se déconnecter" button, FrEduUrlRetour links, and each step of the chain.

    GET ends the session too, as ÉduConnect's does: SPs link here (claims.FrEduUrlRetour).
    """
    if isinstance(request.user, Account):
        audit(EventTag.LOGOUT, account=request.user, ip=client_ip(request))
        return logout(request)
    return _continue(request)


def _sessions_ending(sender: Any, *, account: Account, keep: str | None, **kwargs: Any) -> None:
    for participant in _participants.values():
        participant.end_elsewhere(account, keep)


def listen() -> None:
    """Hear the accounts app end sessions (called once, from SigninConfig.ready())."""
    sessions_ending.connect(_sessions_ending, dispatch_uid="trousseau.signin.logout")
