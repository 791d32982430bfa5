"""SMS codes: issue with resend rules and budgets, verify with an atomic attempt cap.

A code is 6 digits from `secrets`, stored as an HMAC under the site secret (a cap of 5 tries makes
a slow hash unnecessary for 20 bits), bound to one flow, one purpose and one phone; a new code kills
the previous one; it lives 30 minutes (seed; settings.SMS_CODE_LIFESPAN) and dies at the 5th wrong try.
"""

from __future__ import annotations

import hmac
import math

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.core.secrets import keyed_digest, numeric_code, token
from trousseau.flows.exceptions import CodeExhausted, CodeExpired, CodeInvalid, ResendTooSoon, SendLimitReached
from trousseau.flows.models import CodePurpose, Flow, OneTimeCode
from trousseau.flows.steps import sms_budgets
from trousseau.notifications.services import send_sms

MESSAGE = (
    "Trousseau : votre code de sécurité est {code}. Il est valable {minutes} minutes. "
    "Ne le communiquez à personne, même pas à votre établissement."
)


def lifespan_minutes() -> int:
    """What the SMS and the code pages say of a code's life (settings.SMS_CODE_LIFESPAN)."""
    return int(settings.SMS_CODE_LIFESPAN.total_seconds() // 60)


def _digest(flow: Flow, purpose: str, code: str) -> str:
    return keyed_digest(f"{flow.pk}:{purpose}:{code}", purpose="sms-code")


def seconds_before_resend(flow: Flow) -> int:
    last = flow.codes.first()
    if last is None:
        return 0
    wait = (last.created_at + settings.SMS_RESEND_DELAY - timezone.now()).total_seconds()
    return math.ceil(wait) if wait > 0 else 0


def issue(flow: Flow, *, purpose: CodePurpose, phone: str, ip: str) -> OneTimeCode:
    """Send a new code to `phone`, superseding the flow's earlier codes.

    Raises ResendTooSoon inside the resend delay and SendLimitReached when a budget (per phone per
    hour and per day, per address per hour) is spent; nothing is sent then.
    """
    wait = seconds_before_resend(flow)
    if wait:
        raise ResendTooSoon(wait)
    if not sms_budgets.allowed(phone, ip):
        audit(EventTag.CODE_LIMIT_REACHED, account=flow.account, ip=ip, purpose=purpose)
        raise SendLimitReached
    now = timezone.now()
    flow.codes.filter(used_at=None, superseded_at=None).update(superseded_at=now)
    code = numeric_code()
    otc = OneTimeCode.objects.create(
        flow=flow,
        purpose=purpose,
        phone=phone,
        code_digest=_digest(flow, purpose, code),
        created_at=now,
        expires_at=now + settings.SMS_CODE_LIFESPAN,
    )
    send_sms(to=phone, body=MESSAGE.format(code=code, minutes=lifespan_minutes()), expires_at=otc.expires_at)
    audit(EventTag.CODE_SENT, account=flow.account, ip=ip, purpose=purpose, flow=str(flow.pk))
    return otc


def issue_decoy(flow: Flow, *, purpose: CodePurpose) -> OneTimeCode:
    """A code that was never sent, for journeys that must not reveal that nothing matched.

    It obeys the same resend delay, tries and expiry as a real one, so every later answer is the same.
    """
    wait = seconds_before_resend(flow)
    if wait:
        raise ResendTooSoon(wait)
    now = timezone.now()
    flow.codes.filter(used_at=None, superseded_at=None).update(superseded_at=now)
    return OneTimeCode.objects.create(
        flow=flow,
        purpose=purpose,
        phone="",
        code_digest=keyed_digest(token(), purpose="sms-code-decoy"),
        created_at=now,
        expires_at=now + settings.SMS_CODE_LIFESPAN,
    )


def verify(flow: Flow, *, purpose: CodePurpose, code: str, ip: str) -> OneTimeCode:
    """Check a typed code against the flow's live code; returns it, marked used.

    Every submission takes one of the 5 tries first, under a row lock, so parallel guesses cannot
    exceed the cap. Raises CodeExpired, CodeExhausted or CodeInvalid(remaining).
    """
    otc = flow.codes.filter(purpose=purpose, superseded_at=None, used_at=None).first()
    now = timezone.now()
    if otc is None or now >= otc.expires_at:
        audit(EventTag.CODE_FAILURE, account=flow.account, ip=ip, purpose=purpose, reason="expired")
        raise CodeExpired
    cap = settings.SMS_CODE_MAX_ATTEMPTS
    with transaction.atomic():
        # The row lock gives every parallel submission its own try number.
        otc = OneTimeCode.objects.select_for_update().get(pk=otc.pk)
        took = otc.attempts < cap and otc.used_at is None
        if took:
            otc.attempts += 1
            otc.save(update_fields=["attempts"])
    if not took:
        audit(EventTag.CODE_FAILURE, account=flow.account, ip=ip, purpose=purpose, reason="exhausted")
        raise CodeExhausted
    typed = "".join(c for c in code if c.isascii() and c.isdigit())
    # Single use even if two right submissions race: only one UPDATE finds used_at empty.
    if hmac.compare_digest(otc.code_digest, _digest(flow, purpose, typed)) and (
        OneTimeCode.objects.filter(pk=otc.pk, used_at=None).update(used_at=now)
    ):
        audit(EventTag.CODE_VERIFIED, account=flow.account, ip=ip, purpose=purpose)
        return otc
    remaining = cap - otc.attempts
    audit(EventTag.CODE_FAILURE, account=flow.account, ip=ip, purpose=purpose, reason="wrong", remaining=remaining)
    if remaining <= 0:
        raise CodeExhausted
    raise CodeInvalid(remaining)
