"""Activation du compte (letter journey): the form, then "Votre compte est activé", then the service."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from trousseau.accounts.exceptions import LetterBudgetSpent, PasswordRefused
from trousseau.accounts.models import AccountKind
from trousseau.accounts.passwords import COMPOSITION_RULES
from trousseau.accounts.sessions import session_open
from trousseau.core import continuation
from trousseau.core.continuation import allow_continuation
from trousseau.core.http import client_ip
from trousseau.flows.activation_by_letter import transitions as activation_by_letter
from trousseau.flows.activation_by_letter.forms import ActivationForm
from trousseau.flows.exceptions import (
    FlowExpired,
    LetterNoLongerValid,
    TooManyAttempts,
    WrongBirthDate,
    WrongState,
)
from trousseau.flows.letter_refusals import CONTINUE_AFTER_ACTIVATION, LETTER_EXPIRED, LETTER_MESSAGES
from trousseau.flows.models import Flow, FlowKind, FlowState
from trousseau.flows.steps import ending
from trousseau.flows.views.common import load_flow

FLOW_OVER = _(
    "Cette activation n'est plus en cours. Reconnectez-vous avec l'identifiant et le mot de passe du courrier."
)
OWN_EMAIL_MIN_AGE = 15


def _continue_to(request: HttpRequest) -> str:
    """Where the person goes on once active: the login they came from (the mire kept it), else the
    pending service of this browser (core/continuation.py), else the account page."""
    return request.session.get(CONTINUE_AFTER_ACTIVATION) or ending.continue_url(request)


@require_http_methods(["GET", "POST"])
def activation(request: HttpRequest, flow_id: uuid.UUID) -> HttpResponse:
    """ "Activation du compte": new password, birth date, optional email; every problem said at once."""
    flow = load_flow(request, flow_id, FlowKind.ACTIVATION_BY_LETTER)
    account = flow.account
    assert account is not None  # noqa: S101 - activation flows always carry their account
    if flow.state == FlowState.COMPLETED and request.user.is_authenticated and request.user.pk == account.pk:
        return _activated(request, flow)
    form = ActivationForm(request.POST if request.method == "POST" else None, account=account)
    error = ""
    try:
        activation_by_letter.ensure_open(flow)
        if request.method == "POST":
            done = _submit(request, flow, form)
            if done is not None:
                return done
    except WrongBirthDate as exc:
        # "essai(s)" stays as the seed wording in French; English gets a real plural.
        error = ngettext(
            "La date de naissance ne correspond pas. Il vous reste %(remaining)s essai(s).",
            "La date de naissance ne correspond pas. Il vous reste %(remaining)s essai(s).",
            exc.remaining,
        ) % {"remaining": exc.remaining}
    except LetterNoLongerValid:
        messages.error(request, LETTER_EXPIRED)
        return redirect("flows:login")
    except LetterBudgetSpent as exc:
        messages.error(request, LETTER_MESSAGES.get(exc.status, LETTER_EXPIRED))
        return redirect("flows:login")
    except (TooManyAttempts, FlowExpired, WrongState):
        messages.error(request, FLOW_OVER)
        return redirect("flows:login")
    pupil = account.pupils().first() if account.kind == AccountKind.PUPIL else None
    context = {
        "form": form,
        "error": error,
        "account": account,
        "is_pupil": account.kind == AccountKind.PUPIL,
        "rules": COMPOSITION_RULES,
        "pupil_under_age": pupil is not None and pupil.age_on(flow.created_at.date()) < OWN_EMAIL_MIN_AGE,
    }
    status = 400 if error or form.errors else 200
    page = render(request, "flows/activation_by_letter/activation.html", context, status=status)
    # Without an email, the form's answer redirects on to the service that asked for the login (CSP form-action).
    return allow_continuation(page, _continue_to(request))


def _submit(request: HttpRequest, flow: Flow, form: ActivationForm) -> HttpResponse | None:
    """The form's answer, or None to show the form again with its errors.

    A birth date that parses is checked (and a wrong one counted) even when the rest of the form has
    problems, once per submit, so that the page says everything at once.
    """
    if not form.is_valid():
        birth_date = form.cleaned_data.get("birth_date")
        if birth_date is not None:
            activation_by_letter.prove_birth_date(flow, birth_date=birth_date, ip=client_ip(request))
        return None
    data = form.cleaned_data
    try:
        activated = activation_by_letter.submit(
            flow, password=data["password"], birth_date=data["birth_date"], email=data["email"], ip=client_ip(request)
        )
    except PasswordRefused as exc:  # a birth date of the account's, judged once the date was proven
        for problem in exc.problems:
            form.add_error("password", problem)
        return None
    session_open(request, activated)  # rotates the session key
    if activated.email:
        # "Votre compte est activé" and the email to confirm, then on to the service (seed 004, step 3).
        return redirect("flows:activation_by_letter", flow_id=flow.pk)
    messages.success(request, gettext("Votre compte est activé."))
    return redirect(request.session.pop(CONTINUE_AFTER_ACTIVATION, None) or ending.continue_url(request))


def _activated(request: HttpRequest, flow: Flow) -> HttpResponse:
    """ "Votre compte est activé": the email to confirm, and "Continuer vers « <service> »"."""
    account = flow.account
    assert account is not None  # noqa: S101 - checked by the caller
    next_url = _continue_to(request)
    context = {
        "account": account,
        "email": account.email,
        "next": next_url,
        "service": continuation.service_for(next_url, request.session),
    }
    return render(request, "flows/activation_by_letter/activated.html", context)
