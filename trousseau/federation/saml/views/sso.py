"""Single sign-on at /idp/profile/SAML2/{Redirect,POST,Unsolicited}/SSO, as ÉduConnect's clients drive it.

The sequence (research/educonnect.md §4.1, checklist §4.3): the request is checked, then 302 to the
same path with `?execution=eNs1` (GET); the steps from there are `login` (local-storage page, login
form, local-storage page, then the auto-POST page whose first form carries SAMLResponse and always
RelayState). A browser already logged in gets the auto-POST page at once.

These views take no Django CSRF token: clients written for ÉduConnect do not send one. The login
POST is bound instead to a pending request in this browser's session (an execution key), reached only
with the session cookie, which `SameSite=Lax` keeps off cross-site POSTs, and the page's own
`csrf_token` is checked whenever it is sent ("strict" mode wants it always).
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.core import continuation
from trousseau.core.http import client_ip
from trousseau.federation.saml import login, outbound, state
from trousseau.federation.saml.inbound import Pending, Refused, authn_request, unsolicited
from trousseau.flows.steps.ending import gone_page

logger = logging.getLogger("trousseau.saml")

UNKNOWN_SP = _(
    "Ce service n'est pas connu de Trousseau : la connexion est impossible. Vérifiez l'adresse du service ou "
    "contactez-le."
)
REFUSED = _(
    "La demande de connexion envoyée par le service n'est pas valable. Retournez sur le service et recommencez. "
    "Si le problème continue, contactez le service."
)
EXPIRED = _("Cette demande de connexion a expiré. Retournez sur le service et recommencez.")


def refused_page(request: HttpRequest, exc: Refused) -> HttpResponse:
    logger.warning("SAML message refused (%s) from %s", exc, request.META.get("REMOTE_ADDR", ""))
    audit(EventTag.SAML_REFUSED, account=login.logged_in(request), ip=client_ip(request), reason=str(exc)[:300])
    message = UNKNOWN_SP if exc.reason == "unknown_sp" else EXPIRED if exc.reason == "handoff_expired" else REFUSED
    context = {"title": _("Connexion impossible"), "message": message}
    return render(request, "saml/error.html", context, status=400)


def _start(request: HttpRequest, pending: Pending) -> HttpResponse:
    if request.method == "POST" and not state.has_session_cookie(request):
        # Cross-site POST: leave the session alone, carry the request to the next GET (see `state`).
        return redirect(f"{request.path}?{urlencode({'handoff': state.handoff_dumps(pending)})}")
    account = login.logged_in(request)
    if account is not None and not pending.force_authn:
        return login.answer(request, pending, account)
    if pending.is_passive:
        return login.answer_page(request, outbound.error_response(pending, outbound.NO_PASSIVE))
    execution = state.begin(request.session, pending)
    return redirect(f"{request.path}?execution={execution}")


def _step(request: HttpRequest, execution: str) -> HttpResponse:
    current = state.step(request.session, execution)
    if current is None:
        # Answered already, dropped, or opened in another browser: name the service if this very
        # login page was this browser's way to it, and offer its home page, where a new login starts.
        audit(
            EventTag.SAML_REFUSED, account=login.logged_in(request), ip=client_ip(request), reason="unknown execution"
        )
        service = continuation.remembered_service(request.session, request.get_full_path())
        return gone_page(request, service, status=400)
    return login.run(request, current)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def sso(request: HttpRequest, binding: str) -> HttpResponse:
    execution = request.GET.get("execution")
    if execution:
        return _step(request, execution)
    try:
        if "handoff" in request.GET:
            pending = state.handoff_loads(request.GET["handoff"])
        elif binding == "unsolicited":
            target = request.GET.get("target") or request.GET.get("RelayState")
            pending = unsolicited(request.GET.get("providerId", ""), target)
        elif binding == "post":
            pending = authn_request(request, BINDING_HTTP_POST)
        else:
            pending = authn_request(request, BINDING_HTTP_REDIRECT)
    except Refused as exc:
        return refused_page(request, exc)
    return _start(request, pending)
