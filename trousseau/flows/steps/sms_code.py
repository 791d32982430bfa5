"""The SMS-code step every journey shares: type the code, or ask for a new one.

Self-registration, FranceConnect first login, lost password and change of mobile differ only in what a
right code does next; the form, the resend button, the French refusals and their statuses live here.
A refusal that time lifts (resend delay, SMS budget, throttle) answers 429 with Retry-After, so that
scripts back off as browsers are told to.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from trousseau.core.http import client_ip
from trousseau.core.refusals import TooManyTries, too_many_tries
from trousseau.flows.exceptions import (
    CodeExhausted,
    CodeExpired,
    CodeInvalid,
    FlowError,
    MobileChangeLimitReached,
    ResendTooSoon,
    SendLimitReached,
)
from trousseau.flows.models import Flow
from trousseau.flows.steps.codes import lifespan_minutes
from trousseau.flows.steps.forms import CodeForm

CODE_REFUSALS = (CodeInvalid, CodeExpired, CodeExhausted, ResendTooSoon, SendLimitReached)
START_AGAIN = gettext_lazy("Cette démarche n'est plus en cours. Recommencez depuis le début.")
# The SMS budgets are per hour (settings.SMS_PER_PHONE_PER_HOUR, SMS_PER_IP_PER_HOUR): the message says
# "dans une heure", and so does the header.
SEND_LIMIT_RETRY_SECONDS = 3600


def code_error(exc: FlowError | TooManyTries) -> str:  # noqa: PLR0911 - one message per refusal
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
        case MobileChangeLimitReached():
            return _(
                "Vous avez déjà demandé plusieurs changements de numéro aujourd'hui. Réessayez demain "
                "ou contactez votre établissement."
            )
        case SendLimitReached():
            return _("Trop de codes ont été envoyés. Réessayez dans une heure ou contactez votre établissement.")
        case TooManyTries(minutes=minutes):
            return too_many_tries(minutes)
    return str(START_AGAIN)


def retry_after(exc: Exception | None) -> int | None:
    """Seconds until a refusal that time lifts may succeed; None for the others."""
    match exc:
        case ResendTooSoon(seconds=seconds):
            return max(seconds, 1)
        case MobileChangeLimitReached(seconds=seconds):
            return max(seconds, 1)
        case SendLimitReached():
            return SEND_LIMIT_RETRY_SECONDS
        case TooManyTries(minutes=minutes):
            return max(minutes, 1) * 60
    return None


def refusal_page(
    request: HttpRequest, template: str, context: Mapping[str, Any], *, refused: Exception | None, invalid: bool = False
) -> HttpResponse:
    """The form page again: 429 + Retry-After for a limit, 400 for another refusal or invalid input, else 200."""
    wait = retry_after(refused)
    status = 429 if wait is not None else 400 if refused is not None or invalid else 200
    response = render(request, template, context, status=status)
    if wait is not None:
        response["Retry-After"] = str(wait)
    return response


def code_step(  # noqa: PLR0913 - what each journey plugs in, all named
    request: HttpRequest,
    flow: Flow,
    *,
    resend: Callable[[Flow, str], None],
    submit: Callable[[Flow, str, str], HttpResponse],
    again: Callable[[], HttpResponse],
    template: str,
    context: Mapping[str, Any],
    resent: str,
) -> HttpResponse:
    """Answer the code page of `flow`.

    `resend(flow, ip)` sends a new code, then the page is shown `again()` with the `resent` notice;
    `submit(flow, code, ip)` checks a code and answers what comes next. Their refusals come back as
    the same page with the French message.
    """
    context = {**context, "code_minutes": lifespan_minutes()}
    posted = request.method == "POST"
    form = CodeForm(request.POST if posted and "resend" not in request.POST else None)
    ip = client_ip(request)
    try:
        if posted and "resend" in request.POST:
            resend(flow, ip)
            messages.info(request, resent)
            return again()
        if form.is_valid():
            return submit(flow, form.cleaned_data["code"], ip)
    except CODE_REFUSALS as exc:
        return refusal_page(request, template, {**context, "form": form, "error": code_error(exc)}, refused=exc)
    return refusal_page(
        request, template, {**context, "form": form, "error": ""}, refused=None, invalid=bool(form.errors)
    )


class CodeTransitions(Protocol):
    """A journey's transitions module, as far as its code step calls it."""

    def submit_code(self, flow: Flow, *, code: str, ip: str) -> object: ...

    def resend_code(self, flow: Flow, *, ip: str) -> None: ...


def code_then_next_step(  # noqa: PLR0913 - what each journey plugs in, all named
    request: HttpRequest,
    flow: Flow,
    *,
    transitions: CodeTransitions,
    step_url: str,
    template: str,
    context: Mapping[str, Any],
    resent: str,
    settled_by: tuple[type[Exception], ...] = (),
) -> HttpResponse:
    """The code step of a journey whose right code only moves the flow on: back to its step URL
    (`step_url`, reversed with `flow_id`), where the next state's page shows.

    `settled_by`: exceptions a right code may raise that the flow's next state already tells the person
    about (self-registration's AlreadyActive), so the page is not a refusal.
    """

    def again() -> HttpResponse:
        return redirect(step_url, flow_id=flow.pk)

    def submit(flow: Flow, code: str, ip: str) -> HttpResponse:
        with contextlib.suppress(*settled_by):
            transitions.submit_code(flow, code=code, ip=ip)
        return again()

    return code_step(
        request,
        flow,
        resend=lambda flow, ip: transitions.resend_code(flow, ip=ip),
        submit=submit,
        again=again,
        template=template,
        context=context,
        resent=resent,
    )
