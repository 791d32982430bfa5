"""Durable delivery: claim a pending `Delivery`, try it once, record the outcome.

Every attempt goes through `claim`, a conditional UPDATE that moves `next_attempt_at` past a lease and
counts the attempt. Only one worker can win it (the row must still be pending and due), whether the
attempt comes from the task enqueued at commit, from a deferred retry task or from `deliver_pending`.
The send itself happens outside any transaction, so a slow gateway holds no lock. A worker that dies
mid-send leaves the row leased; it becomes due again when the lease ends and is retried: a crash can
send a message twice, never lose it.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from trousseau.notifications.backends.base import ERROR_DETAIL_CHARS, PermanentDeliveryError
from trousseau.notifications.masking import mask_recipient, scrub
from trousseau.notifications.models import Channel, Delivery, DeliveryState
from trousseau.notifications.signals import delivery_attempted
from trousseau.notifications.sms import get_backend

logger = logging.getLogger(__name__)
PERMANENT_SMTP_CODE = 500  # RFC 5321: 5yz replies are permanent failures


@dataclass(frozen=True)
class Outcome:
    state: DeliveryState
    retry_at: datetime | None = None


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after `attempts` failed ones: doubling, capped, with jitter.

    "Equal jitter" (half fixed, half drawn with `secrets`): workers that failed together during an
    outage do not all come back at the same second, and no retry comes sooner than half the step.
    """
    base = settings.NOTIFICATIONS_RETRY_BASE_DELAY
    cap = settings.NOTIFICATIONS_RETRY_MAX_DELAY
    step = min(cap, base * 2 ** max(attempts - 1, 0))
    half_ms = max(int(step.total_seconds() * 1000) // 2, 1)
    return timedelta(milliseconds=half_ms + secrets.randbelow(half_ms + 1))


def claim(delivery_id: int, *, now: datetime | None = None) -> Delivery | None:
    """Take a due pending delivery for one attempt; None when it is settled, not due or taken by another."""
    now = now or timezone.now()
    won = Delivery.objects.filter(pk=delivery_id, state=DeliveryState.PENDING, next_attempt_at__lte=now).update(
        next_attempt_at=now + settings.NOTIFICATIONS_CLAIM_LEASE, attempts=F("attempts") + 1
    )
    return Delivery.objects.get(pk=delivery_id) if won else None


def claim_due(*, limit: int) -> list[Delivery]:
    """Claim up to `limit` due deliveries, oldest due first.

    On PostgreSQL, SKIP LOCKED lets several workers share the backlog: each passes over the rows another
    is claiming instead of queueing behind it. SQLite has no row locks (and Django drops the clause);
    there the conditional UPDATE in `claim` is what keeps two workers from taking the same row.
    """
    now = timezone.now()
    with transaction.atomic():
        candidates = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        claimed = [claim(pk, now=now) for pk in candidates]
    return [delivery for delivery in claimed if delivery is not None]


def _send(delivery: Delivery) -> None:
    if delivery.channel == Channel.SMS:
        get_backend().send(to=delivery.recipient, body=delivery.body)
        return
    try:
        send_mail(delivery.subject, delivery.body, settings.DEFAULT_FROM_EMAIL, [delivery.recipient])
    except smtplib.SMTPRecipientsRefused as exc:
        # A 5xx for the address ("no such mailbox") will be the same at every retry; a 4xx may pass later.
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(code >= PERMANENT_SMTP_CODE for code in codes):
            raise PermanentDeliveryError(f"{type(exc).__name__} (permanent): {exc}") from exc
        raise


def attempt(delivery: Delivery) -> Outcome:
    """Send a claimed delivery once, record how it went and announce it (metrics count it)."""
    outcome = _attempt(delivery)
    settled = {DeliveryState.SENT: "sent", DeliveryState.FAILED: "failed"}.get(outcome.state, "retry")
    delivery_attempted.send(sender=Delivery, channel=delivery.channel, outcome=settled)
    return outcome


def _attempt(delivery: Delivery) -> Outcome:
    if delivery.expires_at is not None and timezone.now() >= delivery.expires_at:
        return _record_failure(delivery, PermanentDeliveryError("expired before it could be sent"))
    try:
        _send(delivery)
    except Exception as exc:  # noqa: BLE001 - whatever a backend raises, the message must stay queued
        return _record_failure(delivery, exc)
    # The fence (same attempt count, still pending) keeps a late worker whose lease ran out from
    # overwriting what the worker that took over recorded.
    Delivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts, state=DeliveryState.PENDING).update(
        state=DeliveryState.SENT,
        sent_at=timezone.now(),
        body="",
        last_error="",
        recipient=mask_recipient(delivery.channel, delivery.recipient),
    )
    return Outcome(DeliveryState.SENT)


def _record_failure(delivery: Delivery, exc: Exception) -> Outcome:
    now = timezone.now()
    # What a server says back may quote the number or address: kept and logged without it.
    error = scrub(f"{type(exc).__name__}: {exc}", channel=delivery.channel, recipient=delivery.recipient)
    error = error[:ERROR_DETAIL_CHARS]
    mine = Delivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts, state=DeliveryState.PENDING)
    exhausted = (
        isinstance(exc, PermanentDeliveryError)
        or delivery.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS
        or now - delivery.created_at >= settings.NOTIFICATIONS_MAX_AGE
    )
    if exhausted:
        mine.update(
            state=DeliveryState.FAILED,
            last_error=error,
            body="",
            recipient=mask_recipient(delivery.channel, delivery.recipient),
        )
        logger.error(
            "Delivery %s (%s) failed for good after %s attempt(s): %s",
            delivery.pk,
            delivery.channel,
            delivery.attempts,
            error,
        )
        return Outcome(DeliveryState.FAILED)
    retry_at = now + backoff(delivery.attempts)
    mine.update(next_attempt_at=retry_at, last_error=error)
    logger.warning(
        "Delivery %s (%s) attempt %s failed, retry at %s: %s",
        delivery.pk,
        delivery.channel,
        delivery.attempts,
        retry_at.isoformat(),
        error,
    )
    return Outcome(DeliveryState.PENDING, retry_at)


def deliver_due(*, limit: int = 50) -> dict[str, int]:
    """One pass over what is due now, batch by batch; how many deliveries ended in each state."""
    counts = {state.value: 0 for state in DeliveryState}
    # A failed attempt is rescheduled into the future, so this loop ends once the due rows are done.
    while batch := claim_due(limit=limit):
        for delivery in batch:
            counts[attempt(delivery).state] += 1
    return counts
