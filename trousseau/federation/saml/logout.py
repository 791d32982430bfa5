"""What SAML registers with sign-in's logout (trousseau/signin/logout.py): before the local session
closes, note the SPs that got an assertion in it; after, send each a LogoutRequest through the browser
(front channel, `slo`), one per step of the chain."""

from __future__ import annotations

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from trousseau.accounts.models import Account
from trousseau.federation.saml import slo, state
from trousseau.federation.saml.pages import post_page
from trousseau.signin.logout import Carry, Participant


def _leave(request: HttpRequest, account: Account | None) -> Carry:
    participations = state.participations(request.session)
    saved = slo.snapshot(request.session)

    def carry(session: SessionBase) -> None:
        slo.start(session, participations, saved)

    return carry


def _next_step(request: HttpRequest) -> HttpResponse | None:
    outgoing = slo.next_message(request.session)
    if outgoing is None:
        return None
    if outgoing.fields is None:
        return redirect(outgoing.url)
    return post_page(request, outgoing.url, outgoing.fields)


PARTICIPANT = Participant("saml", leave=_leave, next_step=_next_step)
