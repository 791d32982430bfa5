"""Single logout across protocols: one place that ends the SSO session everywhere it reached.

Order: OpenID Connect relying parties first, by back-channel (server to server, while we still know
the account and the session key); then the local session; then, in the browser, a SAML LogoutRequest
to each SP that got an assertion in this session (front channel, `saml.slo`); then FranceConnect's own
logout page if the login came from there, else the mire with "Vous avez été déconnecté(e) avec succès".

This module sits above the protocol packages (which never import each other) and is the only one that
knows them all. The OpenID Connect part is looked up at run time and skipped if that package has none.
"""

from __future__ import annotations

import importlib
import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from trousseau.accounts.models import Account
from trousseau.accounts.sessions import session_close
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.core.http import client_ip
from trousseau.federation.saml import slo
from trousseau.federation.saml import state as saml_state
from trousseau.federation.saml.pages import post_page

logger = logging.getLogger("trousseau.federation")

LOGGED_OUT = _("Vous avez été déconnecté(e) avec succès")
FINAL_KEY = "logout_final"  # where the browser goes once every SAML SP was asked (FranceConnect's page)
OIDC_LOGOUT = "trousseau.federation.oidc.logout"


def _oidc_backchannel(account: Account, session_key: str | None) -> None:
    try:
        module = importlib.import_module(OIDC_LOGOUT)
    except ImportError:
        return
    backchannel = getattr(module, "backchannel_logout", None)
    if backchannel is None or not session_key:
        return
    try:
        backchannel(account=account, session_key=session_key)
    except Exception:
        # A relying party that is down must not keep the person logged in here.
        logger.exception("OpenID Connect back-channel logout failed")


def _continue(request: HttpRequest) -> HttpResponse:
    """The next SAML message for the browser to carry, or the end of the logout."""
    outgoing = slo.next_message(request.session)
    if outgoing is not None:
        if outgoing.fields is None:
            return redirect(outgoing.url)
        return post_page(request, outgoing.url, outgoing.fields)
    final = request.session.pop(FINAL_KEY, None)
    if final:
        return redirect(final)
    messages.success(request, LOGGED_OUT)
    return redirect("flows:login")


def logout(request: HttpRequest) -> HttpResponse:
    """End this browser's session everywhere (the audit entry is the caller's)."""
    account = request.user if isinstance(request.user, Account) else None
    session_key = request.session.session_key
    participations = saml_state.participations(request.session)
    saved = slo.snapshot(request.session)
    if account is not None:
        _oidc_backchannel(account, session_key)
    after = session_close(request)  # FranceConnect's logout page when the session came from there
    slo.start(request.session, participations, saved)
    if after:
        request.session[FINAL_KEY] = after
    return _continue(request)


@require_http_methods(["GET", "POST"])
def idp_logout(request: HttpRequest) -> HttpResponse:
    """/idp/profile/Logout: the "Se déconnecter" button, FrEduUrlRetour links, and each step of the chain.

    GET ends the session too, as ÉduConnect's does: SPs link here (claims.FrEduUrlRetour).
    """
    if isinstance(request.user, Account):
        audit(EventTag.LOGOUT, account=request.user, ip=client_ip(request))
        return logout(request)
    return _continue(request)
