"""'Changer mon numéro de téléphone portable' from "Gérer mon compte".

Diagram: docs/flows/change_mobile.mermaid. The logged-in holder types a new mobile; a code goes to
that NEW number, so only someone holding the phone can make it the account's. The flow is bound to
this browser and to the account: only the last step, the right code, changes the account.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from trousseau.accounts.audit import audit
from trousseau.accounts.changes import mobile_set_verified
from trousseau.accounts.events import EventTag
from trousseau.accounts.models import Account
from trousseau.flows.exceptions import FlowError
from trousseau.flows.journeys import codes
from trousseau.flows.models import CodePurpose, Flow, FlowKind, FlowState, binding_digest

PURPOSE = CodePurpose.CHANGE_MOBILE


def start(*, account: Account, phone: str, ip: str, browser_secret: str) -> Flow:
    """-> AWAITING_CODE with a code sent to `phone`; SendLimitReached (flow FAILED) when a budget is spent."""
    flow = Flow.objects.create(
        kind=FlowKind.CHANGE_MOBILE,
        state=FlowState.AWAITING_CODE,
        account=account,
        expires_at=timezone.now() + settings.SELF_SERVICE_FLOW_LIFESPAN,
        context={"phone": phone},
        session_binding=binding_digest(browser_secret),
    )
    audit(EventTag.MOBILE_CHANGE_STARTED, account=account, ip=ip, flow=str(flow.pk), ending=phone[-2:])
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
