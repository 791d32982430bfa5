"""Self-registration by SMS, "Je n'ai pas de compte" (seeds 001 procédure 1, 004 case 2).

Diagram: diagram.mermaid beside this module. Names + the mobile the school recorded -> SMS code ->
each child confirmed by birth date (or the link contested) -> the identifier shown with the password
form -> active account. Only `choose_password` creates or changes an account.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.conf import settings
from django.utils import timezone

from trousseau.accounts.exceptions import AlreadyActive
from trousseau.accounts.models import Account, AccountState
from trousseau.accounts.self_registration import (
    account_register_guardian,
    accounts_of_guardians,
    identifier_for_self_registration,
    self_registration_personal_details,
)
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.core import throttle
from trousseau.core.http import address_block
from trousseau.core.refusals import TooManyTries
from trousseau.directory.selectors import guardians_matching
from trousseau.flows.exceptions import NoMatch
from trousseau.flows.models import CodePurpose, Flow, FlowKind, FlowState, binding_digest
from trousseau.flows.steps import codes
from trousseau.flows.steps.children import judge_children


def _guard(ip: str) -> throttle.Guard:
    return throttle.Guard("register:ip", address_block(ip), settings.SELF_REGISTRATION_IP_FREE_FAILURES)


def start(  # noqa: PLR0913 - what the identity page gives, all named
    *,
    last_name: str,
    first_name: str,
    phone: str,
    ip: str,
    browser_secret: str,
    kept: Mapping[str, Any] | None = None,
) -> Flow:
    """Identity typed -> AWAITING_CODE with a code sent to the recorded mobile.

    `kept` is what the flow keeps of the browser's pending login (`steps.ending.kept_for_flow`), so that
    the last page can still name the service the person came from.

    Raises NoMatch (counted per address) when no guardian record has these names and this mobile,
    whatever part was wrong; TooManyTries after too many misses; SendLimitReached from the SMS budgets.
    """
    wait = throttle.admit([_guard(ip)])  # a miss is counted before the lookup (core.throttle.admit)
    if wait is not None:
        audit(EventTag.SELF_REGISTRATION_THROTTLED, ip=ip)
        raise TooManyTries(throttle.minutes(wait))
    guardians = guardians_matching(last_name=last_name, first_name=first_name, mobile=phone)
    if not guardians:
        audit(EventTag.SELF_REGISTRATION_NO_MATCH, ip=ip)
        raise NoMatch
    throttle.refund(_guard(ip))
    flow = Flow.objects.start(
        kind=FlowKind.SELF_REGISTRATION,
        expires_at=timezone.now() + settings.SELF_SERVICE_FLOW_LIFESPAN,
        context={"guardian_ids": [g.pk for g in guardians], "phone": phone, **(kept or {})},
        session_binding=binding_digest(browser_secret),
    )
    try:
        codes.issue(flow, purpose=CodePurpose.SELF_REGISTRATION, phone=phone, ip=ip)
    except Exception:
        flow.advance(FlowState.FAILED)
        raise
    return flow


def resend_code(flow: Flow, *, ip: str) -> None:
    """AWAITING_CODE -> AWAITING_CODE with a fresh code (resend delay and budgets apply)."""
    flow.expect(FlowState.AWAITING_CODE)
    codes.issue(flow, purpose=CodePurpose.SELF_REGISTRATION, phone=flow.context["phone"], ip=ip)


def submit_code(flow: Flow, *, code: str, ip: str) -> None:
    """AWAITING_CODE -> CONFIRMING_CHILDREN, or ALREADY_ACTIVE (then AlreadyActive is raised).

    Code errors come from `codes.verify`. Whether an account already exists is told only now,
    to someone who holds the recorded phone.
    """
    flow.expect(FlowState.AWAITING_CODE)
    codes.verify(flow, purpose=CodePurpose.SELF_REGISTRATION, code=code, ip=ip)
    existing = accounts_of_guardians(flow.context["guardian_ids"])
    if any(a.state == AccountState.ACTIVE for a in existing):
        flow.advance(FlowState.ALREADY_ACTIVE)
        audit(EventTag.SELF_REGISTRATION_ALREADY_ACTIVE, ip=ip)
        raise AlreadyActive
    flow.advance(FlowState.CONFIRMING_CHILDREN)


def personal_details(flow: Flow) -> tuple[tuple[str, ...], tuple[date, ...]]:
    """What the new password must not contain (the same details `account_register_guardian` checks)."""
    return self_registration_personal_details(flow.context["guardian_ids"])


def confirm_children(flow: Flow, *, answers: Mapping[int, date | None], ip: str) -> None:
    """CONFIRMING_CHILDREN -> CHOOSING_PASSWORD.

    `answers` maps every listed pupil id to the birth date typed ("Je suis le représentant légal")
    or None ("Je ne suis pas le représentant légal", recorded for the school). Any wrong date is one
    counted failure for the whole page, without saying which child: WrongBirthDate, then
    TooManyAttempts (FAILED). IncompleteAnswers if a child is left out; NothingConfirmed if all are
    contested.
    """
    flow.expect(FlowState.CONFIRMING_CHILDREN)
    judge_children(flow, answers=answers, ip=ip)
    flow.context["identifier"] = identifier_for_self_registration(flow.context["guardian_ids"])
    flow.save(update_fields=["context"])
    flow.advance(FlowState.CHOOSING_PASSWORD)


def choose_password(flow: Flow, *, password: str, ip: str) -> Account:
    """CHOOSING_PASSWORD -> COMPLETED: the account is created (or the provisional one activated).

    The form has shown the password rule's messages; the service enforces it (PasswordRefused).
    AlreadyActive (from the service) if an account became active meanwhile.
    """
    flow.expect(FlowState.CHOOSING_PASSWORD)
    try:
        account = account_register_guardian(
            guardian_ids=flow.context["guardian_ids"], identifier=flow.context["identifier"], password=password, ip=ip
        )
    except AlreadyActive:
        flow.advance(FlowState.ALREADY_ACTIVE)
        raise
    flow.advance(FlowState.COMPLETED, account=account)
    return account
