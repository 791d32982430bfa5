"""Activation with the school's letter (seeds 002, 003, 004 case 3).

Diagram: docs/flows/activation_by_letter.mermaid. The letter's password was checked at login;
this flow asks for a new password, a birth date (the pupil's own, or any child's for a guardian)
and an optional email. Only `submit` changes the account, and only when everything is right.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from trousseau.accounts import services as account_services
from trousseau.accounts.audit import audit
from trousseau.accounts.authentication import login_guards
from trousseau.accounts.events import EventTag
from trousseau.accounts.exceptions import NotAwaitingActivation
from trousseau.accounts.models import Account, ActivationLetter
from trousseau.core import throttle
from trousseau.flows.exceptions import LetterNoLongerValid, TooManyAttempts, WrongBirthDate
from trousseau.flows.journeys import email_verification
from trousseau.flows.models import Flow, FlowKind, FlowState, binding_digest


def start(*, account: Account, letter: ActivationLetter, browser_secret: str) -> Flow:
    """Login with a valid letter -> AWAITING_ACTIVATION. Earlier open flows of the account end."""
    Flow.objects.filter(
        account=account, kind=FlowKind.ACTIVATION_BY_LETTER, state=FlowState.AWAITING_ACTIVATION
    ).update(state=FlowState.FAILED)
    return Flow.objects.create(
        kind=FlowKind.ACTIVATION_BY_LETTER,
        state=FlowState.AWAITING_ACTIVATION,
        account=account,
        expires_at=timezone.now() + settings.ACTIVATION_FLOW_LIFESPAN,
        context={"letter_id": letter.pk},
        session_binding=binding_digest(browser_secret),
    )


def ensure_open(flow: Flow) -> None:
    """Raises unless the flow still awaits activation (the page is only shown while it does)."""
    flow.expect(FlowState.AWAITING_ACTIVATION)


def submit(flow: Flow, *, password: str, birth_date: date, email: str, ip: str) -> Account:
    """AWAITING_ACTIVATION -> COMPLETED, the account active with the new password.

    The form has already checked the password rule and the email's shape (errors that count for
    nothing). A wrong birth date is a counted failure: WrongBirthDate, then TooManyAttempts at the
    limit, which ends the flow (FAILED) so the holder has to log in with the letter again.
    """
    flow.expect(FlowState.AWAITING_ACTIVATION)
    account = flow.account
    assert account is not None  # noqa: S101 - an activation flow is always created with its account
    if birth_date not in account.known_birth_dates():
        failures = flow.count_failure()
        # The login counter grows too, so restarting the flow does not reset the guessing budget.
        for guard in login_guards(account.identifier, ip)[:2]:  # the identifier's, and from this address
            throttle.record_failure(guard)
        audit(EventTag.ACTIVATION_FAILURE, account=account, ip=ip, attempt=failures)
        remaining = settings.ACTIVATION_MAX_ATTEMPTS - failures
        if remaining <= 0:
            flow.advance(FlowState.FAILED)
            audit(EventTag.ACTIVATION_ABANDONED, account=account, ip=ip)
            raise TooManyAttempts
        raise WrongBirthDate(remaining)
    try:
        with transaction.atomic():
            activated = account_services.account_activate(
                account=account, letter_id=int(flow.context["letter_id"]), password=password, email=email, ip=ip
            )
            flow.advance(FlowState.COMPLETED)
    except NotAwaitingActivation as exc:
        flow.advance(FlowState.FAILED)
        raise LetterNoLongerValid from exc
    if activated.email:
        email_verification.send(activated, ip=ip)
    return activated
