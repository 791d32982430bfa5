"""'Je n'ai pas de compte': the page that says what is needed, the identity form, then one handler per state.

Seed 004 case 2: "Je n'ai pas encore d'identifiant" -> "Créer mon compte" -> the names and the mobile
-> the SMS code -> the children -> the password -> "Votre compte a été activé avec succès" with the
identifier, and on to the service the person came from (flows/steps/ending.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from trousseau.accounts.exceptions import AlreadyActive
from trousseau.accounts.passwords import COMPOSITION_RULES
from trousseau.accounts.sessions import session_open
from trousseau.core import continuation
from trousseau.core.http import client_ip
from trousseau.core.refusals import TooManyTries
from trousseau.flows.exceptions import (
    FlowError,
    IncompleteAnswers,
    NoMatch,
    NothingConfirmed,
    SendLimitReached,
    WrongBirthDate,
    WrongState,
)
from trousseau.flows.models import Flow, FlowKind, FlowState
from trousseau.flows.self_registration import transitions as self_registration
from trousseau.flows.self_registration.forms import IdentityForm
from trousseau.flows.steps.children import children as listed_children
from trousseau.flows.steps.children import wrong_date_message
from trousseau.flows.steps.ending import CONTEXT_KEY, continue_url, kept_for_flow, pending_service
from trousseau.flows.steps.forms import ChildrenForm, NewPasswordForm
from trousseau.flows.steps.sms_code import code_error, code_then_next_step, refusal_page
from trousseau.flows.views.common import browser_secret, load_flow, run_step

NO_MATCH = gettext_lazy(
    "Les informations saisies ne permettent pas de poursuivre l'inscription par SMS : vérifiez la saisie "
    "ou contactez votre établissement."
)
START_AGAIN = gettext_lazy("Cette inscription n'est plus en cours. Recommencez depuis le début.")


@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """ "Je n'ai pas encore d'identifiant": what is needed, then "Créer mon compte".

    The identity form was posted here before this page existed: a POST is still the identity form's.
    """
    if request.method == "POST":
        return identity(request)
    back = continue_url(request, fallback="flows:login")
    return render(request, "flows/self_registration/intro.html", {"back_url": back})


@require_http_methods(["GET", "POST"])
def identity(request: HttpRequest) -> HttpResponse:
    """ "Je confirme mon identité"."""
    form = IdentityForm(request.POST if request.method == "POST" else None)
    error = ""
    refused: FlowError | TooManyTries | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            flow = self_registration.start(
                last_name=data["last_name"],
                first_name=data["first_name"],
                phone=data["phone"],
                ip=client_ip(request),
                browser_secret=browser_secret(request),
                kept=kept_for_flow(request.session),
            )
            return redirect("flows:self_registration_step", flow_id=flow.pk)
        except NoMatch:
            # Said with a 200, like the form itself: the seed's page (docs/security.md).
            error = str(NO_MATCH)
        except (TooManyTries, SendLimitReached) as exc:
            error, refused = code_error(exc), exc
    context = {"form": form, "error": error, "back_url": continue_url(request, fallback="flows:login")}
    return refusal_page(request, "flows/self_registration/identity.html", context, refused=refused)


def _code_step(request: HttpRequest, flow: Flow) -> HttpResponse:
    return code_then_next_step(
        request,
        flow,
        transitions=self_registration,
        step_url="flows:self_registration_step",
        template="flows/steps/code.html",
        context={"phone_end": flow.context["phone"][-2:]},
        resent=_("Un nouveau code vous a été envoyé."),
        # The code was right but the guardian already has an account: the next state says so.
        settled_by=(AlreadyActive,),
    )


def _children_step(request: HttpRequest, flow: Flow) -> HttpResponse:
    children = listed_children(flow)
    form = ChildrenForm(request.POST if request.method == "POST" else None, children=children)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            self_registration.confirm_children(flow, answers=form.cleaned_data["answers"], ip=client_ip(request))
            return redirect("flows:self_registration_step", flow_id=flow.pk)
        except WrongBirthDate as exc:
            error = wrong_date_message(exc.remaining)
        except IncompleteAnswers:
            error = _("Répondez pour chacun des élèves.")
        except NothingConfirmed:
            messages.error(request, _("Aucun élève n'a été confirmé : contactez votre établissement."))
            return redirect("flows:self_registration")
    return render(request, "flows/steps/children.html", {"form": form, "error": error}, status=400 if error else 200)


def _password_step(request: HttpRequest, flow: Flow) -> HttpResponse:
    names, birth_dates = self_registration.personal_details(flow)
    form = NewPasswordForm(
        request.POST if request.method == "POST" else None,
        identifier=flow.context["identifier"],
        names=names,
        birth_dates=birth_dates,
    )
    if request.method == "POST" and form.is_valid():
        try:
            account = self_registration.choose_password(
                flow, password=form.cleaned_data["password"], ip=client_ip(request)
            )
        except AlreadyActive:
            return redirect("flows:self_registration_step", flow_id=flow.pk)
        session_open(request, account)  # rotates the session key, keeps its data (the pending login)
        return redirect("flows:self_registration_step", flow_id=flow.pk)
    context = {"form": form, "identifier": flow.context["identifier"], "rules": COMPOSITION_RULES}
    return render(request, "flows/self_registration/password.html", context)


def _completed(request: HttpRequest, flow: Flow) -> HttpResponse:
    """Seed 001 step 5: "Votre compte a été activé avec succès", the identifier, then on to the service.

    Shown only to the account the flow created, logged in in this browser; anyone else starts again.
    """
    if flow.account is None or request.user.pk != flow.account.pk:
        raise WrongState
    service = pending_service(request)
    ending = continuation.ending(request.session, flow.context.get(CONTEXT_KEY))
    context = {
        "identifier": flow.account.identifier,
        "service": service,
        "next_url": continue_url(request, fallback="accounts:services"),
        # The service's login request expired while the person registered: say so, offer its home page.
        "gone": ending.gone if service is None else None,
    }
    return render(request, "flows/self_registration/done.html", context)


def _already_active(request: HttpRequest, flow: Flow) -> HttpResponse:
    return render(request, "flows/self_registration/already_active.html")


STEPS: dict[str, Callable[[HttpRequest, Flow], HttpResponse]] = {
    FlowState.AWAITING_CODE: _code_step,
    FlowState.CONFIRMING_CHILDREN: _children_step,
    FlowState.CHOOSING_PASSWORD: _password_step,
    FlowState.ALREADY_ACTIVE: _already_active,
    FlowState.COMPLETED: _completed,
}


@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, flow_id: uuid.UUID) -> HttpResponse:
    flow = load_flow(request, flow_id, FlowKind.SELF_REGISTRATION)
    try:
        return run_step(request, flow, STEPS)
    except FlowError:
        messages.error(request, str(START_AGAIN))
        return redirect("flows:self_registration")
