"""Activation with the school's letter (seeds 002, 003, 004 case 3).

Diagram: trousseau/flows/activation_by_letter/diagram.mermaid. The letter's password was checked at login;
this flow asks for a new password, a birth date (the pupil's own, or any child's for a guardian)
and an optional email. Only `submit` changes the account, and only when everything is right.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from trousseau.accounts import services as account_services
from trousseau.accounts.exceptions import BirthDateMismatch, LetterBudgetSpent, NotAwaitingActivation
from trousseau.accounts.letter_budget import letter_birth_date_check
from trousseau.accounts.models import Account, ActivationLetter, LetterStatus
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.flows.email_verification import transitions as email_verification
from trousseau.flows.exceptions import LetterNoLongerValid, TooManyAttempts, WrongBirthDate
from trousseau.flows.models import Flow, FlowKind, FlowState, binding_digest


def start(*, account: Account, letter: ActivationLetter, browser_secret: str) -> Flow:
    """Login with a valid letter -> AWAITING_ACTIVATION. Earlier open flows of the account end."""
    Flow.objects.filter(account=account).advance(
        kind=FlowKind.ACTIVATION_BY_LETTER, source=FlowState.AWAITING_ACTIVATION, target=FlowState.FAILED
    )
    return Flow.objects.start(
        kind=FlowKind.ACTIVATION_BY_LETTER,
        account=account,
        expires_at=timezone.now() + settings.ACTIVATION_FLOW_LIFESPAN,
        context={"letter_id": letter.pk},
        session_binding=binding_digest(browser_secret),
    )


def ensure_open(flow: Flow) -> None:
    """Raises unless the flow still awaits activation (the page is only shown while it does)."""
    flow.expect(FlowState.AWAITING_ACTIVATION)


def prove_birth_date(flow: Flow, *, birth_date: date, ip: str) -> None:
    """The birth date asked with the letter, checked and counted once; no move when it is right.

    A wrong one is a failure counted on the flow and on the letter (`accounts.letter_budget`):
    WrongBirthDate, then TooManyAttempts at the flow's limit, which ends the flow (FAILED). The letter's
    budget does not refill with a new login: once it is spent the flow ends with LetterBudgetSpent
    (paused until tomorrow, or blocked until the school reissues it). The page calls this even when
    the password has problems too, so that one submit reports them all (issue #17), and only once
    per submit: `submit` calls it itself.
    """
    flow.expect(FlowState.AWAITING_ACTIVATION)
    account = flow.account
    assert account is not None  # noqa: S101 - an activation flow is always created with its account
    letter_id = int(flow.context["letter_id"])
    try:
        letter_birth_date_check(letter_id=letter_id, birth_date=birth_date, ip=ip, step="activation")
    except BirthDateMismatch as exc:
        failures = flow.count_failure()
        audit(EventTag.ACTIVATION_BY_LETTER_FAILURE, account=account, ip=ip, attempt=failures)
        if exc.status != LetterStatus.VALID:
            _abandon(flow, account, ip)
            raise LetterBudgetSpent(exc.status) from exc
        remaining = min(settings.ACTIVATION_MAX_ATTEMPTS - failures, exc.remaining)
        if remaining <= 0:
            _abandon(flow, account, ip)
            raise TooManyAttempts from exc
        raise WrongBirthDate(remaining) from exc
    except LetterBudgetSpent:
        flow.advance(FlowState.FAILED)
        raise


def submit(flow: Flow, *, password: str, birth_date: date, email: str, ip: str) -> Account:
    """AWAITING_ACTIVATION -> COMPLETED, the account active with the new password.

    The form has already checked what needs no secret (the password rule against the identifier,
    the names and the date typed, the confirmation, the email's shape). The birth date is proven
    first (`prove_birth_date`); only then does the account service judge the password against every
    birth date the account knows, and may refuse it (PasswordRefused, the flow still open): before
    that proof, "ne doit pas contenir de date de naissance" would tell a letter's thief the child's
    birth date without spending the letter's budget.
    """
    prove_birth_date(flow, birth_date=birth_date, ip=ip)
    account = flow.account
    assert account is not None  # noqa: S101 - checked by prove_birth_date
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


def _abandon(flow: Flow, account: Account, ip: str) -> None:
    flow.advance(FlowState.FAILED)
    audit(EventTag.ACTIVATION_BY_LETTER_ABANDONED, account=account, ip=ip)
