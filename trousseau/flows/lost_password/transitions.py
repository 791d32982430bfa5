"""'Mot de passe perdu': identifier + channel, then a new password (seeds 000, 004).

Diagram: trousseau/flows/lost_password/diagram.mermaid. By email: a state-bound link (Django's reset tokens: a
reset or a login since it was sent voids it). By SMS: a flow with a code sent to the mobile the
school recorded. Whatever the identifier, the same pages follow: with nothing to send to, a decoy
code is made that behaves like a real one, so no answer tells whether the identifier exists.

Both routes end at the service where the person started (flows/steps/ending.py): the SMS flow keeps the
pending login in its context; the emailed link carries the service's key, signed, because it may be
opened in another browser, where no pending login exists but the "request gone" page can still name
the service and offer its home page.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from trousseau.accounts.authentication import login_guards
from trousseau.accounts.identifiers import normalize_identifier
from trousseau.accounts.models import Account, AccountState
from trousseau.accounts.recovery import account_reset_password, recorded_mobile, reset_tokens
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.core import ratelimit, throttle
from trousseau.core.http import address_block
from trousseau.flows.exceptions import LinkInvalid, SendLimitReached
from trousseau.flows.models import CodePurpose, Flow, FlowKind, FlowState, binding_digest
from trousseau.flows.steps import codes
from trousseau.flows.steps.ending import CONTEXT_KEY
from trousseau.notifications.services import send_email

PURPOSE = CodePurpose.LOST_PASSWORD
HOUR = timedelta(hours=1)
SERVICE_SALT = "trousseau.flows.lost_password.service"
LINK_SERVICE_PARAM = "service"


def _requests_allowed(ip: str) -> bool:
    return ratelimit.consume(
        ratelimit.Budget("lost_password:ip:hour", settings.SMS_PER_IP_PER_HOUR * 2, HOUR), address_block(ip)
    )


def _service_key(kept: Mapping[str, Any] | None) -> str:
    """The key of the service in a flow context's snapshot of the pending login ("" if none)."""
    snapshot = (kept or {}).get(CONTEXT_KEY) or {}
    return str(snapshot.get("service", "")) if isinstance(snapshot, Mapping) else ""


def make_link(account: Account, kept: Mapping[str, Any] | None = None) -> str:
    """The emailed link, with the service the request started at: signed, because the page at the end
    names that service and links to its home page, and only Trousseau may choose which."""
    uid = urlsafe_base64_encode(force_bytes(account.pk))
    path = reverse("flows:lost_password_link", args=[uid, reset_tokens.link_for(account)])
    service_key = _service_key(kept)
    if service_key:
        path += "?" + urlencode({LINK_SERVICE_PARAM: signing.dumps(service_key, salt=SERVICE_SALT)})
    return settings.PUBLIC_URL.rstrip("/") + path


def link_context(signed: str) -> dict[str, Any]:
    """What an emailed link tells of where the request started, shaped as a flow context for `finish`."""
    try:
        service_key = signing.loads(signed, salt=SERVICE_SALT) if signed else ""
    except signing.BadSignature:
        return {}
    return {CONTEXT_KEY: {"service": service_key}} if isinstance(service_key, str) and service_key else {}


def by_email(*, identifier: str, ip: str, kept: Mapping[str, Any] | None = None) -> None:
    """Send a reset link if the identifier names an active account with a verified email; else nothing.

    `kept` is what the journey keeps of the pending login (`kept_for_flow`): the link names its service.
    """
    account = Account.objects.filter(identifier=normalize_identifier(identifier), state=AccountState.ACTIVE).first()
    audit(EventTag.LOST_PASSWORD_REQUESTED, account=account, ip=ip, channel="email")
    if account is None or not account.email_verified or not _requests_allowed(ip):
        return
    send_email(
        to=account.email,
        subject="Changer votre mot de passe Trousseau",
        template="flows/lost_password/email.txt",
        context={"account": account, "link": make_link(account, kept)},
    )
    audit(EventTag.LOST_PASSWORD_LINK_SENT, account=account, ip=ip)


def _send_code(flow: Flow, *, ip: str) -> None:
    phone = recorded_mobile(flow.account) if flow.account else None
    if phone:
        try:
            codes.issue(flow, purpose=PURPOSE, phone=phone, ip=ip)
        except SendLimitReached:
            pass  # told the same way as "nothing to send to": the decoy below
        else:
            return
    codes.issue_decoy(flow, purpose=PURPOSE)


def by_sms(*, identifier: str, ip: str, browser_secret: str, kept: Mapping[str, Any] | None = None) -> Flow:
    """Start the SMS route -> AWAITING_CODE, always, with a real code only when there is a recorded mobile.

    `kept` (`kept_for_flow`) goes into the flow's context: the journey ends at that service.
    """
    account = Account.objects.filter(identifier=normalize_identifier(identifier), state=AccountState.ACTIVE).first()
    audit(EventTag.LOST_PASSWORD_REQUESTED, account=account, ip=ip, channel="sms")
    flow = Flow.objects.start(
        kind=FlowKind.LOST_PASSWORD,
        account=account,
        expires_at=timezone.now() + settings.SELF_SERVICE_FLOW_LIFESPAN,
        session_binding=binding_digest(browser_secret),
        context=dict(kept or {}),
    )
    if _requests_allowed(ip):
        _send_code(flow, ip=ip)
    else:
        codes.issue_decoy(flow, purpose=PURPOSE)
    return flow


def resend_code(flow: Flow, *, ip: str) -> None:
    """AWAITING_CODE -> AWAITING_CODE with a fresh code (same delay for real and decoy codes)."""
    flow.expect(FlowState.AWAITING_CODE)
    _send_code(flow, ip=ip)


def submit_code(flow: Flow, *, code: str, ip: str) -> None:
    """AWAITING_CODE -> CHOOSING_PASSWORD; code errors from `codes.verify` (a decoy never verifies)."""
    flow.expect(FlowState.AWAITING_CODE)
    codes.verify(flow, purpose=PURPOSE, code=code, ip=ip)
    flow.advance(FlowState.CHOOSING_PASSWORD)


def _reset(account: Account, *, password: str, ip: str) -> Account:
    account = account_reset_password(account=account, password=password, ip=ip)
    # Proving control of the phone or mailbox lifts the guessing delay on the identifier.
    throttle.settle(reset=login_guards(account.identifier, ip)[:2])  # the identifier's, and from this address
    return account


def choose_password(flow: Flow, *, password: str, ip: str) -> Account:
    """CHOOSING_PASSWORD -> COMPLETED: new password, every session of the account ended."""
    flow.expect(FlowState.CHOOSING_PASSWORD)
    assert flow.account is not None  # noqa: S101 - only a real code reaches this state
    account = _reset(flow.account, password=password, ip=ip)
    flow.advance(FlowState.COMPLETED)
    return account


def link_account(uidb64: str, token: str) -> Account | None:
    """The account an emailed link speaks for, if the link is intact, recent and unused."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError, OverflowError):
        return None
    account = Account.objects.filter(pk=pk, state=AccountState.ACTIVE).first()
    if account is None or not reset_tokens.check_token(account, token):
        return None
    return account


def reset_by_link(*, uidb64: str, token: str, password: str, ip: str) -> Account:
    """Set the new password from an emailed link; LinkInvalid (audited) if it is stale or forged."""
    account = link_account(uidb64, token)
    if account is None:
        audit(EventTag.LOST_PASSWORD_LINK_REFUSED, ip=ip)
        raise LinkInvalid
    return _reset(account, password=password, ip=ip)
