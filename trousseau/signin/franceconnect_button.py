"""'S'identifier avec FranceConnect': the button, the callback, the return from FranceConnect's logout, unlinking.

Thin: the upstream client is `trousseau.franceconnect`; an identity not yet linked goes on to
the first-login journey (`trousseau.flows.franceconnect_first_login`).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from trousseau.accounts.franceconnect_link import NoOtherLogin, account_unlink_franceconnect
from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.core import continuation
from trousseau.core.http import client_ip
from trousseau.flows.franceconnect_first_login import transitions as journey
from trousseau.flows.franceconnect_first_login.views import DISABLED, note_started
from trousseau.flows.franceconnect_first_login.views import refused_page as _refused
from trousseau.flows.steps.ending import continue_url, kept_for_flow
from trousseau.flows.views.common import browser_secret, safe_next
from trousseau.franceconnect import client
from trousseau.franceconnect import session as fc_session
from trousseau.franceconnect.config import enabled
from trousseau.franceconnect.errors import (
    FranceConnectError,
    NotConfigured,
    ProviderRefusal,
    ProviderUnavailable,
)

UNAVAILABLE = gettext_lazy(
    "FranceConnect est momentanément indisponible. Réessayez dans quelques minutes ou utilisez vos identifiants."
)
NOT_VERIFIED = gettext_lazy(
    "La réponse de FranceConnect n'a pas pu être vérifiée : par sécurité, vous n'êtes pas connecté. "
    "Recommencez depuis la page de connexion."
)


@require_GET
def start(request: HttpRequest) -> HttpResponse:
    """The FranceConnect button: off to FranceConnect with a fresh state and nonce."""
    title = _("S'identifier avec FranceConnect")
    if not enabled():
        return _refused(request, title, _("FranceConnect n'est pas proposé sur ce service."), status=404)
    try:
        auth = client.authorization_request()
    except FranceConnectError as exc:
        audit(EventTag.FRANCECONNECT_PROVIDER_ERROR, ip=client_ip(request), reason=exc.reason)
        return _refused(request, title, str(UNAVAILABLE), status=503)
    next_url = safe_next(request)  # explicit `next`, else the pending service, as after a password login
    continuation.remember(request.session, next_url)  # for "Annuler" and "Ce n'est pas vous ?" (a no-op if kept)
    fc_session.pending_add(request.session, auth, next_url=next_url)
    return redirect(auth.url)


def _callback_refused(request: HttpRequest, exc: FranceConnectError, ip: str) -> HttpResponse:
    """The page for a callback that did not give a verified identity; every case is audited."""
    title = _("Connexion avec FranceConnect")
    if isinstance(exc, ProviderRefusal) and exc.cancelled:
        # "Annuler et revenir au service": back on the service's login page, told why.
        audit(EventTag.FRANCECONNECT_CANCELLED, ip=ip, description=exc.detail)
        messages.info(
            request,
            _("Vous avez annulé la connexion avec FranceConnect. Vous pouvez réessayer ou utiliser vos identifiants."),
        )
        return redirect(continue_url(request, fallback="flows:login"))
    if isinstance(exc, ProviderRefusal):
        audit(EventTag.FRANCECONNECT_PROVIDER_ERROR, ip=ip, error=exc.error, description=exc.detail)
        message = _("FranceConnect n'a pas pu vous identifier. Réessayez ou utilisez vos identifiants.")
        return _refused(request, title, message, status=400)
    if isinstance(exc, ProviderUnavailable | NotConfigured):
        audit(EventTag.FRANCECONNECT_PROVIDER_ERROR, ip=ip, reason=exc.reason, detail=exc.detail[:200])
        return _refused(request, title, str(UNAVAILABLE), status=503)
    audit(EventTag.FRANCECONNECT_REFUSED, ip=ip, reason=exc.reason, detail=exc.detail[:200])
    return _refused(request, title, str(NOT_VERIFIED), status=400)


@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """FranceConnect's answer: an identity verified in every way, or a clear refusal (audited)."""
    ip = client_ip(request)
    pending = fc_session.pending_pop(request.session, request.GET.get("state", ""))
    try:
        identity = client.complete(
            request.GET, expected_state=pending.state if pending else None, nonce=pending.nonce if pending else ""
        )
    except FranceConnectError as exc:
        return _callback_refused(request, exc, ip)
    assert pending is not None  # noqa: S101 - complete() refuses a callback without a pending state
    try:
        outcome = journey.arrive(
            identity, ip=ip, browser_secret=browser_secret(request), kept=kept_for_flow(request.session)
        )
    except journey.AccountDisabled:
        return _refused(request, _("Connexion avec FranceConnect"), str(DISABLED), status=403)
    if isinstance(outcome, Account):
        fc_session.open_login(request, outcome, identity.id_token)
        return redirect(pending.next_url)
    note_started(request, outcome, id_token=identity.id_token)
    return redirect("flows:franceconnect_first_login_step", flow_id=outcome.pk)


@require_GET
def logged_out(request: HttpRequest) -> HttpResponse:
    """Back from FranceConnect's /session/end (the registered post_logout_redirect_uri)."""
    purpose = fc_session.logout_purpose(request.GET.get("state", ""))
    if purpose == "logout":
        messages.success(request, _("Vous êtes déconnecté de Trousseau et de FranceConnect."))
    elif purpose == "not_me":
        # "Ce n'est pas vous ?" during a first login: back on the login page of the service it started at.
        messages.info(
            request, _("Vous êtes déconnecté de FranceConnect. Vous pouvez vous connecter avec une autre identité.")
        )
        return redirect(continue_url(request, fallback="flows:login"))
    return redirect("flows:login")


@login_required
@require_POST
def unlink(request: HttpRequest) -> HttpResponse:
    """ "Délier FranceConnect" from "Gérer mon compte"."""
    assert isinstance(request.user, Account)  # noqa: S101 - login_required guarantees it
    try:
        if account_unlink_franceconnect(account=request.user, ip=client_ip(request)):
            messages.success(request, _("FranceConnect n'est plus lié à votre compte."))
    except NoOtherLogin:
        messages.error(
            request,
            _(
                "Votre compte n'a pas encore de mot de passe : choisissez-en un avec « Mot de passe perdu » "
                "avant de délier FranceConnect."
            ),
        )
    return redirect("accounts:home")
