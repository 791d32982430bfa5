"""'Changer mon numéro de téléphone portable' from "Gérer mon compte".

Diagram: trousseau/flows/change_mobile/diagram.mermaid. The logged-in holder proves it is them again (password, or
a fresh FranceConnect login) and types a new mobile; a code goes to that NEW number, so only someone
holding the phone can make it the account's. The flow is bound to this browser and to the account:
only the last step, the right code, changes the account, and then the previous mobile and the email
are told (issue #15, finding 5).

The new number is one no school recorded, so each start is also taken from the account's daily
budget of mobile changes (finding 9), on top of the SMS budgets every code passes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from trousseau.accounts.changes import confirm_holder, mobile_set_verified
from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.core import ratelimit
from trousseau.flows.exceptions import FlowError, MobileChangeLimitReached
from trousseau.flows.models import CodePurpose, Flow, FlowKind, FlowState, binding_digest
from trousseau.flows.steps import codes

PURPOSE = CodePurpose.CHANGE_MOBILE
DAY = timedelta(days=1)


def _take_from_account_budget(account: Account, ip: str) -> None:
    """One of the account's mobile changes of the day, or MobileChangeLimitReached (audited)."""
    budget = ratelimit.Budget("mobile_change:account:day", settings.MOBILE_CHANGES_PER_ACCOUNT_PER_DAY, DAY)
    if ratelimit.take([(budget, str(account.pk))]) is None:
        return
    audit(EventTag.CHANGE_MOBILE_LIMIT_REACHED, account=account, ip=ip, limit=budget.limit)
    day = int(DAY.total_seconds())
    raise MobileChangeLimitReached(day - int(timezone.now().timestamp()) % day)


def start(  # noqa: PLR0913 - the holder's proof, the number and the binding, all named
    *,
    account: Account,
    phone: str,
    ip: str,
    browser_secret: str,
    password: str,
    authenticated_at: datetime | None,
) -> Flow:
    """-> AWAITING_CODE with a code sent to `phone`.

    Refusals, each changing nothing on the account: TooManyTries, WrongCurrentPassword or
    FreshLoginRequired (the holder's proof, nothing taken from any budget), MobileChangeLimitReached
    (no flow), SendLimitReached (flow FAILED) when an SMS budget is spent.
    """
    confirm_holder(
        account=account,
        password=password,
        authenticated_at=authenticated_at,
        ip=ip,
        refused=EventTag.CHANGE_MOBILE_FAILURE,
    )
    _take_from_account_budget(account, ip)
    flow = Flow.objects.start(
        kind=FlowKind.CHANGE_MOBILE,
        account=account,
        expires_at=timezone.now() + settings.SELF_SERVICE_FLOW_LIFESPAN,
        context={"phone": phone},
        session_binding=binding_digest(browser_secret),
    )
    audit(EventTag.CHANGE_MOBILE_STARTED, account=account, ip=ip, flow=str(flow.pk), ending=phone[-2:])
    try:
        codes.issue(flow, purpose=PURPOSE, phone=phone, ip=ip)
    except FlowError:
        flow.advance(FlowState.FAILED)
        raise
    return flow


def phone(flow: Flow) -> str:
    return str(flow.context["phone"])


def resend_code(flow: Flow, *, ip: str) -> None:
    """AWAITING_CODE -> AWAITING_CODE with a fresh code (ResendTooSoon, SendLimitReached)."""
    flow.expect(FlowState.AWAITING_CODE)
    codes.issue(flow, purpose=PURPOSE, phone=phone(flow), ip=ip)


def submit_code(flow: Flow, *, code: str, ip: str) -> Account:
    """AWAITING_CODE -> COMPLETED: the right code makes the number the account's verified mobile."""
    flow.expect(FlowState.AWAITING_CODE)
    assert flow.account is not None  # noqa: S101 - start() always binds an account
    codes.verify(flow, purpose=PURPOSE, code=code, ip=ip)
    account = mobile_set_verified(account=flow.account, phone=phone(flow), ip=ip)
    flow.advance(FlowState.COMPLETED)
    return account
