"""'S'identifier avec FranceConnect': the redirect, the callback, the first-login steps, logout, unlinking.

Thin: the protocol is `trousseau.federation.franceconnect`, the journey `journeys.franceconnect_first_login`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trousseau.accounts.franceconnect import NoOtherLogin, account_unlink_franceconnect
from trousseau.accounts.models import Account
from trousseau.accounts.sessions import LOGOUT_REDIRECT_KEY, session_open
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.core.http import client_ip
from trousseau.federation.franceconnect import client
from trousseau.federation.franceconnect import session as fc_session
from trousseau.federation.franceconnect.config import enabled
from trousseau.federation.franceconnect.errors import (
    FranceConnectError,
    NotConfigured,
    ProviderRefusal,
    ProviderUnavailable,
)
from trousseau.flows.exceptions import (
    FlowError,
    IncompleteAnswers,
    NoMatch,
    NothingConfirmed,
    ResendTooSoon,
    SendLimitReached,
    Throttled,
    WrongBirthDate,
)
from trousseau.flows.journeys import franceconnect_first_login as journey
from trousseau.flows.models import Flow, FlowKind, FlowState
from trousseau.flows.steps.forms import ChildrenForm, MobileForm
from trousseau.flows.steps.sms_code import code_error, code_step, refusal_page
from trousseau.flows.views.common import browser_secret, load_flow, run_step, safe_next

FIRST_LOGIN_KEY = "franceconnect_first_login"  # {flow id: {"id_token", "next"}} while a first login runs
UNAVAILABLE = gettext_lazy(
    "FranceConnect est momentanément indisponible. Réessayez dans quelques minutes ou utilisez vos identifiants."
)
NOT_VERIFIED = gettext_lazy(
    "La réponse de FranceConnect n'a pas pu être vérifiée : par sécurité, vous n'êtes pas connecté. "
    "Recommencez depuis la page de connexion."
)
START_AGAIN = gettext_lazy("Cette connexion avec FranceConnect n'est plus en cours. Recommencez depuis le début.")
NO_MATCH = gettext_lazy(
    "Nous ne trouvons pas de responsable d'élève à votre nom avec ce numéro de téléphone portable. "
    "Vérifiez le numéro saisi : ce doit être celui communiqué à l'établissement lors de l'inscription de "
    "votre enfant. S'il est juste, contactez votre établissement pour qu'il mette à jour votre nom ou votre numéro."
)
DISABLED = gettext_lazy("Votre compte est désactivé. Contactez le secrétariat de votre établissement.")


def _take_started(request: HttpRequest, flow: Flow) -> dict[str, str]:
    """What the callback noted for this first login (FranceConnect's ID token, where to go next)."""
    running = dict(request.session.get(FIRST_LOGIN_KEY, {}))
    started: dict[str, str] = running.pop(str(flow.pk), {})
    request.session[FIRST_LOGIN_KEY] = running
    return started


def _refused(request: HttpRequest, title: str, message: str, *, status: int) -> HttpResponse:
    return render(request, "flows/franceconnect/refused.html", {"title": title, "message": message}, status=status)


def _open_session(request: HttpRequest, account: Account, id_token: str) -> None:
    """Log in, keeping FranceConnect's ID token for the logout at both ends."""
    session_open(request, account)
    request.session[fc_session.ID_TOKEN_KEY] = id_token
    try:
        after = client.logout_url(id_token=id_token, state=fc_session.logout_state("logout"))
    except FranceConnectError:
        return  # FranceConnect unreachable now: our logout still works, theirs times out on its own
    request.session[LOGOUT_REDIRECT_KEY] = after


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
    fc_session.pending_add(request.session, auth, next_url=safe_next(request))
    return redirect(auth.url)


def _callback_refused(request: HttpRequest, exc: FranceConnectError, ip: str) -> HttpResponse:
    """The page for a callback that did not give a verified identity; every case is audited."""
    title = _("Connexion avec FranceConnect")
    if isinstance(exc, ProviderRefusal) and exc.cancelled:
        audit(EventTag.FRANCECONNECT_CANCELLED, ip=ip, description=exc.detail)
        message = _(
            "Vous avez annulé la connexion avec FranceConnect. Vous pouvez réessayer ou utiliser vos identifiants."
        )
        return _refused(request, _("Connexion avec FranceConnect annulée"), message, status=200)
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
        outcome = journey.arrive(identity, ip=ip, browser_secret=browser_secret(request))
    except journey.AccountDisabled:
        return _refused(request, _("Connexion avec FranceConnect"), str(DISABLED), status=403)
    if isinstance(outcome, Account):
        _open_session(request, outcome, identity.id_token)
        return redirect(pending.next_url)
    running = dict(request.session.get(FIRST_LOGIN_KEY, {}))
    running[str(outcome.pk)] = {"id_token": identity.id_token, "next": pending.next_url}
    request.session[FIRST_LOGIN_KEY] = dict(list(running.items())[-3:])
    return redirect("flows:franceconnect_step", flow_id=outcome.pk)


def _phone_step(request: HttpRequest, flow: Flow) -> HttpResponse:
    form = MobileForm(request.POST if request.method == "POST" else None)
    error = ""
    refused: FlowError | None = None
    if request.method == "POST" and form.is_valid():
        try:
            journey.submit_phone(flow, phone=form.cleaned_data["phone"], ip=client_ip(request))
            return redirect("flows:franceconnect_step", flow_id=flow.pk)
        except NoMatch as exc:
            error, refused = str(NO_MATCH), exc
        except (Throttled, SendLimitReached, ResendTooSoon) as exc:
            error, refused = code_error(exc), exc
    context = {"form": form, "error": error, "flow": flow, "name": journey.display_name(flow)}
    return refusal_page(request, "flows/franceconnect/identity.html", context, refused=refused)


def _code_step(request: HttpRequest, flow: Flow) -> HttpResponse:
    def again() -> HttpResponse:
        return redirect("flows:franceconnect_step", flow_id=flow.pk)

    def submit(flow: Flow, code: str, ip: str) -> HttpResponse:
        journey.submit_code(flow, code=code, ip=ip)
        return again()

    return code_step(
        request,
        flow,
        resend=lambda flow, ip: journey.resend_code(flow, ip=ip),
        submit=submit,
        again=again,
        template="flows/steps/code.html",
        context={"phone_end": flow.context["phone"][-2:]},
        resent=_("Un nouveau code vous a été envoyé."),
    )


def _children_step(request: HttpRequest, flow: Flow) -> HttpResponse:
    form = ChildrenForm(request.POST if request.method == "POST" else None, children=journey.children(flow))
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            account = journey.confirm_children(flow, answers=form.cleaned_data["answers"], ip=client_ip(request))
        except WrongBirthDate as exc:
            error = ngettext(
                "Une date de naissance ne correspond pas. Il vous reste %(n)s essai.",
                "Une date de naissance ne correspond pas. Il vous reste %(n)s essais.",
                exc.remaining,
            ) % {"n": exc.remaining}
        except IncompleteAnswers:
            error = _("Répondez pour chacun des élèves.")
        except NothingConfirmed:
            message = _("Aucun élève n'a été confirmé : contactez votre établissement.")
            return _refused(request, _("Connexion avec FranceConnect"), message, status=400)
        except journey.AccountDisabled:
            return _refused(request, _("Connexion avec FranceConnect"), str(DISABLED), status=403)
        except journey.AlreadyLinked:
            message = _("Cette identité FranceConnect est déjà liée à un compte : reconnectez-vous avec FranceConnect.")
            return _refused(request, _("Connexion avec FranceConnect"), message, status=409)
        else:
            started = _take_started(request, flow)
            _open_session(request, account, started.get("id_token", ""))
            messages.success(
                request,
                _("Votre compte est activé et lié à FranceConnect. Votre identifiant : %(id)s")
                % {"id": account.identifier},
            )
            return redirect(started.get("next") or "accounts:home")
    return render(request, "flows/steps/children.html", {"form": form, "error": error}, status=400 if error else 200)


STEPS: dict[str, Callable[[HttpRequest, Flow], HttpResponse]] = {
    FlowState.AWAITING_PHONE: _phone_step,
    FlowState.AWAITING_CODE: _code_step,
    FlowState.CONFIRMING_CHILDREN: _children_step,
}


@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, flow_id: uuid.UUID) -> HttpResponse:
    flow = load_flow(request, flow_id, FlowKind.FRANCECONNECT_FIRST_LOGIN)
    try:
        return run_step(request, flow, STEPS)
    except FlowError:
        return _refused(request, _("Connexion avec FranceConnect"), str(START_AGAIN), status=400)


@require_GET
def not_me(request: HttpRequest, flow_id: uuid.UUID) -> HttpResponse:
    """ "Ce n'est pas vous ? Retournez à la page d'accueil": end this journey and the FranceConnect session."""
    flow = load_flow(request, flow_id, FlowKind.FRANCECONNECT_FIRST_LOGIN)
    journey.abandon(flow)
    started = _take_started(request, flow)
    if started.get("id_token"):
        try:
            return redirect(client.logout_url(id_token=started["id_token"], state=fc_session.logout_state("not_me")))
        except FranceConnectError:
            pass
    return redirect("flows:login")


@require_GET
def logged_out(request: HttpRequest) -> HttpResponse:
    """Back from FranceConnect's /session/end (the registered post_logout_redirect_uri)."""
    purpose = fc_session.logout_purpose(request.GET.get("state", ""))
    if purpose == "logout":
        messages.success(request, _("Vous êtes déconnecté de Trousseau et de FranceConnect."))
    elif purpose == "not_me":
        messages.info(
            request, _("Vous êtes déconnecté de FranceConnect. Vous pouvez vous connecter avec une autre identité.")
        )
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
