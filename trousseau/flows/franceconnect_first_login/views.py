"""The FranceConnect first-login steps, one thin view per state (transitions in `transitions`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from trousseau.core import continuation
from trousseau.core.http import client_ip
from trousseau.core.refusals import TooManyTries
from trousseau.flows.exceptions import (
    FlowError,
    IncompleteAnswers,
    NoMatch,
    NothingConfirmed,
    ResendTooSoon,
    SendLimitReached,
    WrongBirthDate,
    WrongState,
)
from trousseau.flows.franceconnect_first_login import transitions as journey
from trousseau.flows.models import Flow, FlowKind, FlowState
from trousseau.flows.steps.children import wrong_date_message
from trousseau.flows.steps.ending import CONTEXT_KEY, continue_url, pending_service
from trousseau.flows.steps.forms import ChildrenForm, MobileForm
from trousseau.flows.steps.sms_code import code_error, code_then_next_step, refusal_page
from trousseau.flows.views.common import load_flow, run_step
from trousseau.franceconnect import client
from trousseau.franceconnect import session as fc_session
from trousseau.franceconnect.errors import FranceConnectError

FIRST_LOGIN_KEY = "franceconnect_first_login"  # {flow id: {"id_token"}} while a first login runs
REFUSED_TEMPLATE = "signin/franceconnect/refused.html"
START_AGAIN = gettext_lazy("Cette connexion avec FranceConnect n'est plus en cours. Recommencez depuis le début.")
NO_MATCH = gettext_lazy(
    "Nous ne trouvons pas de responsable d'élève à votre nom avec ce numéro de téléphone portable. "
    "Vérifiez le numéro saisi : ce doit être celui communiqué à l'établissement lors de l'inscription de "
    "votre enfant. S'il est juste, contactez votre établissement pour qu'il mette à jour votre nom ou votre numéro."
)
DISABLED = gettext_lazy("Votre compte est désactivé. Contactez le secrétariat de votre établissement.")


def note_started(request: HttpRequest, flow: Flow, *, id_token: str) -> None:
    """What the callback keeps for the steps: FranceConnect's ID token (three first logins at most).

    Where the journey ends is not kept here: it is the browser's pending login (core/continuation.py),
    which the flow also keeps (`kept_for_flow`) to name the service if its request is gone by then."""
    running = dict(request.session.get(FIRST_LOGIN_KEY, {}))
    running[str(flow.pk)] = {"id_token": id_token}
    request.session[FIRST_LOGIN_KEY] = dict(list(running.items())[-3:])


def _take_started(request: HttpRequest, flow: Flow) -> dict[str, str]:
    """What the callback noted for this first login (FranceConnect's ID token)."""
    running = dict(request.session.get(FIRST_LOGIN_KEY, {}))
    started: dict[str, str] = running.pop(str(flow.pk), {})
    request.session[FIRST_LOGIN_KEY] = running
    return started


def refused_page(request: HttpRequest, title: str, message: str, *, status: int) -> HttpResponse:
    """A FranceConnect login that could not go on; "Retour à la page de connexion" is the service's."""
    back = continue_url(request, fallback="flows:login")
    return render(request, REFUSED_TEMPLATE, {"title": title, "message": message, "back": back}, status=status)


def _phone_step(request: HttpRequest, flow: Flow) -> HttpResponse:
    form = MobileForm(request.POST if request.method == "POST" else None)
    error = ""
    refused: FlowError | TooManyTries | None = None
    if request.method == "POST" and form.is_valid():
        try:
            journey.submit_phone(flow, phone=form.cleaned_data["phone"], ip=client_ip(request))
            return redirect("flows:franceconnect_first_login_step", flow_id=flow.pk)
        except NoMatch as exc:
            error, refused = str(NO_MATCH), exc
        except (TooManyTries, SendLimitReached, ResendTooSoon) as exc:
            error, refused = code_error(exc), exc
    context = {"form": form, "error": error, "flow": flow, "name": journey.display_name(flow)}
    return refusal_page(request, "flows/franceconnect_first_login/identity.html", context, refused=refused)


def _code_step(request: HttpRequest, flow: Flow) -> HttpResponse:
    return code_then_next_step(
        request,
        flow,
        transitions=journey,
        step_url="flows:franceconnect_first_login_step",
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
            error = wrong_date_message(exc.remaining)
        except IncompleteAnswers:
            error = _("Répondez pour chacun des élèves.")
        except NothingConfirmed:
            message = _("Aucun élève n'a été confirmé : contactez votre établissement.")
            return refused_page(request, _("Connexion avec FranceConnect"), message, status=400)
        except journey.AccountDisabled:
            return refused_page(request, _("Connexion avec FranceConnect"), str(DISABLED), status=403)
        except journey.AlreadyLinked:
            message = _("Cette identité FranceConnect est déjà liée à un compte : reconnectez-vous avec FranceConnect.")
            return refused_page(request, _("Connexion avec FranceConnect"), message, status=409)
        else:
            started = _take_started(request, flow)
            fc_session.open_login(request, account, started.get("id_token", ""))
            return redirect("flows:franceconnect_first_login_step", flow_id=flow.pk)  # "Votre compte est activé"
    return render(request, "flows/steps/children.html", {"form": form, "error": error}, status=400 if error else 200)


def _activated_step(request: HttpRequest, flow: Flow) -> HttpResponse:
    """Seed 001 step 6, "Vous êtes notifié de l'activation de votre compte": the identifier, then on to
    the service where the login started (or its home page if that request is gone), else "Mes services"."""
    if flow.account_id is None or request.user.pk != flow.account_id:
        raise WrongState  # logged out since, or another account: nothing to tell this browser
    end = continuation.ending(request.session, flow.context.get(CONTEXT_KEY))
    context = {
        "identifier": flow.account.identifier if flow.account else "",
        "next_url": end.next_url,
        "service": pending_service(request) if end.next_url else end.gone,
    }
    return render(request, "flows/franceconnect_first_login/activated.html", context)


STEPS: dict[str, Callable[[HttpRequest, Flow], HttpResponse]] = {
    FlowState.AWAITING_PHONE: _phone_step,
    FlowState.AWAITING_CODE: _code_step,
    FlowState.CONFIRMING_CHILDREN: _children_step,
    FlowState.COMPLETED: _activated_step,
}


@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, flow_id: uuid.UUID) -> HttpResponse:
    flow = load_flow(request, flow_id, FlowKind.FRANCECONNECT_FIRST_LOGIN)
    try:
        return run_step(request, flow, STEPS)
    except FlowError:
        return refused_page(request, _("Connexion avec FranceConnect"), str(START_AGAIN), status=400)


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
    return redirect(continue_url(request, fallback="flows:login"))  # the service's login page
