"""'Je n'ai pas de compte': one URL per journey, one handler per state, each thin."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from trousseau.accounts.passwords import COMPOSITION_RULES
from trousseau.accounts.sessions import session_open
from trousseau.core.http import client_ip
from trousseau.flows.exceptions import (
    AccountExists,
    CodeExhausted,
    CodeExpired,
    CodeInvalid,
    FlowError,
    IncompleteAnswers,
    NoMatch,
    NothingConfirmed,
    ResendTooSoon,
    SendLimitReached,
    Throttled,
    WrongBirthDate,
)
from trousseau.flows.journeys import self_registration
from trousseau.flows.models import Flow, FlowKind, FlowState
from trousseau.flows.sms_forms import ChildrenForm, CodeForm, IdentityForm, NewPasswordForm
from trousseau.flows.views.common import browser_secret, load_flow, run_step

NO_MATCH = gettext_lazy(
    "Les informations saisies ne permettent pas de poursuivre l'inscription par SMS : vérifiez la saisie "
    "ou contactez votre établissement."
)
START_AGAIN = gettext_lazy("Cette inscription n'est plus en cours. Recommencez depuis le début.")


def code_error(exc: FlowError) -> str:
    """The French message for a refused code or send; shared by every SMS journey."""
    match exc:
        case CodeInvalid(remaining=remaining):
            return ngettext(
                "Ce code n'est pas le bon. Il vous reste %(n)s essai.",
                "Ce code n'est pas le bon. Il vous reste %(n)s essais.",
                remaining,
            ) % {"n": remaining}
        case CodeExpired():
            return _("Ce code a expiré ou n'est plus valable. Demandez un nouveau code.")
        case CodeExhausted():
            return _("Trop d'essais pour ce code. Demandez un nouveau code.")
        case ResendTooSoon(seconds=seconds):
            return ngettext(
                "Patientez %(n)s seconde avant de demander un nouveau code.",
                "Patientez %(n)s secondes avant de demander un nouveau code.",
                seconds,
            ) % {"n": seconds}
        case SendLimitReached():
            return _("Trop de codes ont été envoyés. Réessayez dans une heure ou contactez votre établissement.")
    return str(START_AGAIN)


@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """ "Je confirme mon identité"."""
    form = IdentityForm(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            flow = self_registration.start(
                last_name=data["last_name"],
                first_name=data["first_name"],
                phone=data["phone"],
                ip=client_ip(request),
                browser_secret=browser_secret(request),
            )
            return redirect("flows:registration_step", flow_id=flow.pk)
        except NoMatch:
            error = str(NO_MATCH)
        except Throttled as exc:
            error = ngettext(
                "Trop de tentatives. Patientez %(n)s minute avant de réessayer.",
                "Trop de tentatives. Patientez %(n)s minutes avant de réessayer.",
                exc.minutes,
            ) % {"n": exc.minutes}
        except SendLimitReached as exc:
            error = code_error(exc)
    return render(request, "flows/registration/identity.html", {"form": form, "error": error})


def _code_step(request: HttpRequest, flow: Flow) -> HttpResponse:
    form = CodeForm(request.POST if request.method == "POST" and "resend" not in request.POST else None)
    error = ""
    ip = client_ip(request)
    try:
        if request.method == "POST" and "resend" in request.POST:
            self_registration.resend_code(flow, ip=ip)
            messages.info(request, _("Un nouveau code vous a été envoyé."))
            return redirect("flows:registration_step", flow_id=flow.pk)
        if form.is_valid():
            self_registration.submit_code(flow, code=form.cleaned_data["code"], ip=ip)
            return redirect("flows:registration_step", flow_id=flow.pk)
    except AccountExists:
        return redirect("flows:registration_step", flow_id=flow.pk)
    except (CodeInvalid, CodeExpired, CodeExhausted, ResendTooSoon, SendLimitReached) as exc:
        error = code_error(exc)
    context = {"form": form, "error": error, "phone_end": flow.context["phone"][-2:]}
    return render(request, "flows/registration/code.html", context, status=400 if error else 200)


def _children_step(request: HttpRequest, flow: Flow) -> HttpResponse:
    children = self_registration.children(flow)
    form = ChildrenForm(request.POST if request.method == "POST" else None, children=children)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            self_registration.confirm_children(flow, answers=form.cleaned_data["answers"], ip=client_ip(request))
            return redirect("flows:registration_step", flow_id=flow.pk)
        except WrongBirthDate as exc:
            error = ngettext(
                "Une date de naissance ne correspond pas. Il vous reste %(n)s essai.",
                "Une date de naissance ne correspond pas. Il vous reste %(n)s essais.",
                exc.remaining,
            ) % {"n": exc.remaining}
        except IncompleteAnswers:
            error = _("Répondez pour chacun des élèves.")
        except NothingConfirmed:
            messages.error(request, _("Aucun élève n'a été confirmé : contactez votre établissement."))
            return redirect("flows:registration")
    return render(
        request, "flows/registration/children.html", {"form": form, "error": error}, status=400 if error else 200
    )


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
        except AccountExists:
            return redirect("flows:registration_step", flow_id=flow.pk)
        session_open(request, account)  # rotates the session key
        messages.success(
            request, _("Votre compte a été activé avec succès. Votre identifiant : %(id)s") % {"id": account.identifier}
        )
        return redirect("accounts:home")
    context = {"form": form, "identifier": flow.context["identifier"], "rules": COMPOSITION_RULES}
    return render(request, "flows/registration/password.html", context)


def _already_active(request: HttpRequest, flow: Flow) -> HttpResponse:
    return render(request, "flows/registration/already_active.html")


STEPS: dict[str, Callable[[HttpRequest, Flow], HttpResponse]] = {
    FlowState.AWAITING_CODE: _code_step,
    FlowState.CONFIRMING_CHILDREN: _children_step,
    FlowState.CHOOSING_PASSWORD: _password_step,
    FlowState.ALREADY_ACTIVE: _already_active,
}


@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, flow_id: uuid.UUID) -> HttpResponse:
    flow = load_flow(request, flow_id, FlowKind.SELF_REGISTRATION)
    try:
        return run_step(request, flow, STEPS)
    except FlowError:
        messages.error(request, str(START_AGAIN))
        return redirect("flows:registration")
