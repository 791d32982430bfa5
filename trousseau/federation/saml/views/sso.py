"""Single sign-on at /idp/profile/SAML2/{Redirect,POST,Unsolicited}/SSO, as ÉduConnect's clients drive it.

The sequence (research/educonnect.md §4.1, checklist §4.3): the request is checked, then 302 to the
same path with `?execution=eNs1` (GET), which shows the mire; its form posts j_username, j_password
and _eventId_proceed back to that same URL. A browser already logged in gets the auto-POST page at
once. Wrong credentials: 200 with the form and the error, no SAMLResponse. Success: 200 with the
auto-POST page, whose first form carries SAMLResponse and always RelayState.

These views take no Django CSRF token: clients written for ÉduConnect do not send one. The login
POST is bound instead to a pending request in this browser's session (an execution key), reached only
with the session cookie, which `SameSite=Lax` keeps off cross-site POSTs; "faithful" mode also asks
for the page's own `csrf_token`.
"""

from __future__ import annotations

import hmac
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.samlp import STATUS_NO_PASSIVE

from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.core import continuation
from trousseau.core.http import client_ip
from trousseau.federation.saml import outbound, state
from trousseau.federation.saml.forms import ShibbolethLoginForm
from trousseau.federation.saml.inbound import Pending, Refused, authn_request, unsolicited
from trousseau.federation.saml.pages import post_page
from trousseau.flows.steps.ending import gone_page
from trousseau.signin.mire import attempt, remember_device, render_mire

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
PAGE_EXPIRED = _("La page de connexion a expiré. Recommencez la connexion.")


def refused_page(request: HttpRequest, exc: Refused) -> HttpResponse:
    logger.warning("SAML message refused (%s) from %s", exc, request.META.get("REMOTE_ADDR", ""))
    audit(EventTag.SAML_REFUSED, account=_logged_in(request), ip=client_ip(request), reason=str(exc)[:300])
    message = UNKNOWN_SP if exc.reason == "unknown_sp" else EXPIRED if exc.reason == "handoff_expired" else REFUSED
    context = {"title": _("Connexion impossible"), "message": message}
    return render(request, "saml/error.html", context, status=400)


def _answer_page(request: HttpRequest, answer: outbound.Answer) -> HttpResponse:
    return post_page(
        request, answer.acs_url, [("SAMLResponse", answer.saml_response), ("RelayState", answer.relay_state)]
    )


def _logged_in(request: HttpRequest) -> Account | None:
    user = request.user
    return user if isinstance(user, Account) and user.is_active else None


def _answer(request: HttpRequest, pending: Pending, account: Account, execution: str | None = None) -> HttpResponse:
    answer = outbound.authn_response(pending, account, authn_instant=state.authn_instant(request.session))
    state.participate(request.session, pending, answer)
    continuation.forget(request.session)  # the service has its answer: no detour leads back to it now
    if execution:
        state.finish(request.session, execution)
    audit(EventTag.SAML_ASSERTION_ISSUED, account=account, ip=client_ip(request), service=pending.entity_id)
    return _answer_page(request, answer)


def _start(request: HttpRequest, pending: Pending) -> HttpResponse:
    if request.method == "POST" and not state.has_session_cookie(request):
        # Cross-site POST: leave the session alone, carry the request to the next GET (see `state`).
        return redirect(f"{request.path}?{urlencode({'handoff': state.handoff_dumps(pending)})}")
    account = _logged_in(request)
    if account is not None and not pending.force_authn:
        return _answer(request, pending, account)
    if pending.is_passive:
        return _answer_page(request, outbound.error_response(pending, STATUS_NO_PASSIVE))
    execution = state.begin(request.session, pending)
    return redirect(f"{request.path}?execution={execution}")


def _csrf_ok(request: HttpRequest, expected: str) -> bool:
    sent = request.POST.get("csrf_token")
    if sent is None:
        return settings.SAML_LOGIN_MODE == "compat"
    return hmac.compare_digest(sent, expected)


def _step(request: HttpRequest, execution: str) -> HttpResponse:
    found = state.entry(request.session, execution)
    if found is None:
        # Answered already, dropped, or opened in another browser: name the service if this very
        # login page was this browser's way to it, and offer its home page, where a new login starts.
        audit(EventTag.SAML_REFUSED, account=_logged_in(request), ip=client_ip(request), reason="unknown execution")
        service = continuation.remembered_service(request.session, request.get_full_path())
        return gone_page(request, service, status=400)
    pending, csrf = found
    account = _logged_in(request)
    if request.method == "GET" and account is not None and not pending.force_authn:
        return _answer(request, pending, account, execution)
    here = request.get_full_path()
    form = ShibbolethLoginForm(request.POST if request.method == "POST" else None)
    error: object = ""
    if request.method == "POST":
        faithful_missing = settings.SAML_LOGIN_MODE != "compat" and not request.POST.get("typeUser")
        if not _csrf_ok(request, csrf) or faithful_missing:
            error = PAGE_EXPIRED
        elif form.is_valid():
            result = attempt(request, form, continue_to=here)
            if isinstance(result, Account):
                return remember_device(request, _answer(request, pending, result, execution), result)
            if isinstance(result, HttpResponse):
                return result  # letter activation first; it comes back here
            error = result
    return render_mire(request, form, error, action=here, next=here, sso={"csrf": csrf})  # type: ignore[arg-type]


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
