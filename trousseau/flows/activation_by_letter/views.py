"""Activation du compte (letter journey): one view, the form, the transition."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from trousseau.accounts.exceptions import LetterBudgetSpent
from trousseau.accounts.models import AccountKind
from trousseau.accounts.passwords import COMPOSITION_RULES
from trousseau.accounts.sessions import session_open
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
from trousseau.flows.models import FlowKind
from trousseau.flows.views.common import load_flow

FLOW_OVER = _(
    "Cette activation n'est plus en cours. Reconnectez-vous avec l'identifiant et le mot de passe du courrier."
)
OWN_EMAIL_MIN_AGE = 15


@require_http_methods(["GET", "POST"])
def activation(request: HttpRequest, flow_id: uuid.UUID) -> HttpResponse:
    """ "Activation du compte": new password, birth date, optional email."""
    flow = load_flow(request, flow_id, FlowKind.ACTIVATION_BY_LETTER)
    account = flow.account
    assert account is not None  # noqa: S101 - activation flows always carry their account
    form = ActivationForm(request.POST if request.method == "POST" else None, account=account)
    error = ""
    try:
        activation_by_letter.ensure_open(flow)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            activated = activation_by_letter.submit(
                flow,
                password=data["password"],
                birth_date=data["birth_date"],
                email=data["email"],
                ip=client_ip(request),
            )
            session_open(request, activated)  # rotates the session key
            messages.success(request, gettext("Votre compte est activé."))
            if activated.email:
                messages.info(
                    request,
                    gettext("Un email de confirmation a été envoyé à %(email)s.") % {"email": activated.email},
                )
            # Back to the service that asked for a login (a pending SAML request), if one did.
            return redirect(request.session.pop(CONTINUE_AFTER_ACTIVATION, None) or "accounts:home")
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
    page = render(request, "flows/activation_by_letter/activation.html", context, status=400 if error else 200)
    # The form's answer may redirect on to the OIDC client that asked for the login (CSP form-action).
    return allow_continuation(page, request.session.get(CONTINUE_AFTER_ACTIVATION, ""))
