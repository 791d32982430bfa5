"""What outlives its purpose, kind by kind: the rows each retention rule selects at a given instant.

One rule per kind of row, each with its reason (docs/security.md, "Retention"). A rule either deletes
its rows or, for activation letters that the console still shows, scrubs their secret. Rules are read
by `services.purge_expired`, which applies them in batches, in this order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.db.models import Q, QuerySet
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from trousseau.accounts.models import AccountSession, ActivationLetter
from trousseau.audit.models import AuditEvent
from trousseau.console.models import ImportJob, ImportJobState, LetterEmail, LetterEmailBatch, PendingImport
from trousseau.console.services.imports import PENDING_LIFESPAN
from trousseau.core.models import RateCounter, ThrottleCounter
from trousseau.core.ratelimit import LONGEST_PERIOD
from trousseau.federation.oidc.models import Authorization
from trousseau.federation.saml.models import SeenRequest
from trousseau.flows.models import Flow, OneTimeCode
from trousseau.notifications.models import Delivery, DeliveryState, OutboxMessage

# Django's database-backed session engines keep rows that must be purged; the others expire by themselves.


@dataclass(frozen=True)
class Cascade:
    """Rows deleted with the rule's rows (ON DELETE CASCADE), counted under their own name."""

    name: str
    rows_of: Callable[[QuerySet[Any]], QuerySet[Any]]


@dataclass(frozen=True)
class Rule:
    name: str
    reason: str
    rows: Callable[[datetime], QuerySet[Any]]
    # Fields set instead of deleting the row (the row is kept, its secret goes); empty: delete.
    scrub: dict[str, Any] = field(default_factory=dict)
    cascade: Cascade | None = None


def _flows_ended(now: datetime) -> QuerySet[Flow]:
    return Flow.objects.filter(expires_at__lt=now - settings.RETENTION_FLOWS)


def _codes_of(flows: QuerySet[Flow]) -> QuerySet[OneTimeCode]:
    return OneTimeCode.objects.filter(flow__in=flows)


def _deliveries(now: datetime) -> QuerySet[Delivery]:
    # Settled: sent or failed for good. Written as the partial index's own condition, so it is used.
    settled = Delivery.objects.exclude(state=DeliveryState.PENDING)
    return settled.filter(created_at__lt=now - settings.RETENTION_DELIVERIES)


def _outbox(now: datetime) -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(created_at__lt=now - settings.RETENTION_OUTBOX)


def _letters_revoked(now: datetime) -> QuerySet[ActivationLetter]:
    return ActivationLetter.objects.filter(revoked_at__lt=now - settings.RETENTION_LETTER_SECRETS)


def _letter_secrets(now: datetime) -> QuerySet[ActivationLetter]:
    cutoff = now - settings.RETENTION_LETTER_SECRETS
    ended = Q(used_at__lt=cutoff) | Q(used_at=None, revoked_at=None, expires_at__lt=cutoff)
    return ActivationLetter.objects.exclude(password_hash="").filter(ended)


def _audit(now: datetime) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(created_at__lt=now - settings.RETENTION_AUDIT)


def _sessions(now: datetime) -> QuerySet[Session]:
    # Only a store that keeps sessions in this table (Django's, or core.session_store built on it).
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not issubclass(store, DatabaseSessionStore):
        return Session.objects.none()
    return Session.objects.filter(expire_date__lt=now)


def _account_sessions(now: datetime) -> QuerySet[AccountSession]:
    return AccountSession.objects.filter(created_at__lt=now - settings.SESSION_ABSOLUTE_AGE)


def _throttle_counters(now: datetime) -> QuerySet[ThrottleCounter]:
    forgotten = Q(last_failure_at__lt=now - settings.THROTTLE_FORGET_AFTER) | Q(last_failure_at=None)
    # A counter locked until a recovery (hard limit) stays, however old its last failure.
    open_now = Q(blocked_until=None) | Q(blocked_until__lt=now)
    return ThrottleCounter.objects.filter(forgotten & open_now)


def _rate_counters(now: datetime) -> QuerySet[RateCounter]:
    closed_before = now - max(LONGEST_PERIOD, settings.THROTTLE_FORGET_AFTER)
    return RateCounter.objects.filter(window_start__lt=closed_before)


def _oidc_authorizations(now: datetime) -> QuerySet[Authorization]:
    # Older than a login session: their codes and token chains are dead (federation.oidc.services).
    return Authorization.objects.filter(created_at__lt=now - timedelta(seconds=settings.SESSION_COOKIE_AGE))


def _saml_seen(now: datetime) -> QuerySet[SeenRequest]:
    return SeenRequest.objects.filter(expires_at__lt=now)


def _import_jobs(now: datetime) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(created_at__lt=now - settings.RETENTION_IMPORT_JOBS)


def _pending_imports(now: datetime) -> QuerySet[PendingImport]:
    waiting = ImportJob.objects.filter(state__in=[ImportJobState.QUEUED, ImportJobState.RUNNING])
    stale = PendingImport.objects.filter(created_at__lt=now - PENDING_LIFESPAN)
    return stale.exclude(pk__in=waiting.exclude(pending=None).values("pending"))


def _letter_email_batches(now: datetime) -> QuerySet[LetterEmailBatch]:
    # The report of a send serves while its letters can still be used; then the addresses go too.
    return LetterEmailBatch.objects.filter(created_at__lt=now - settings.RETENTION_LETTER_SECRETS)


def _emails_of(batches: QuerySet[LetterEmailBatch]) -> QuerySet[LetterEmail]:
    return LetterEmail.objects.filter(batch__in=batches)


def _tasks_finished(now: datetime) -> QuerySet[DBTaskResult[Any, Any]]:
    # Finished tasks of the database queue: their arguments (a sealed contact, a school's import id) and
    # tracebacks serve no one once the work is done. Queued and running ones are never touched.
    finished = DBTaskResult.objects.filter(status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED])
    return finished.filter(finished_at__lt=now - settings.RETENTION_TASKS)


RULES: list[Rule] = [
    Rule(
        "flows",
        "journeys ended (expired) more than RETENTION_FLOWS ago",
        _flows_ended,
        cascade=Cascade("codes", _codes_of),  # their SMS codes (phone, digest) go with them
    ),
    Rule("deliveries", "SMS and emails settled (sent or failed) more than RETENTION_DELIVERIES ago", _deliveries),
    Rule("outbox", "dev outbox messages older than RETENTION_OUTBOX", _outbox),
    Rule("letters_revoked", "letters replaced or revoked more than RETENTION_LETTER_SECRETS ago", _letters_revoked),
    Rule(
        "letter_secrets",
        "hashes of letters used or expired more than RETENTION_LETTER_SECRETS ago (dates kept for the console)",
        _letter_secrets,
        scrub={"password_hash": ""},
    ),
    Rule("audit", "audit events older than RETENTION_AUDIT (CNIL: 6 months to 1 year)", _audit),
    Rule("sessions", "browser sessions past their expiry", _sessions),
    Rule("account_sessions", "session list rows older than SESSION_ABSOLUTE_AGE", _account_sessions),
    Rule("throttle_counters", "failure counters idle for THROTTLE_FORGET_AFTER and not locked", _throttle_counters),
    Rule("rate_counters", "budget counters of closed windows", _rate_counters),
    Rule("oidc_authorizations", "OpenID Connect authorizations older than a login session", _oidc_authorizations),
    Rule("saml_requests", "SAML request ids past their replay window", _saml_seen),
    Rule("import_jobs", "console import jobs older than RETENTION_IMPORT_JOBS", _import_jobs),
    Rule("pending_imports", "uploaded record files no confirmation can use any more", _pending_imports),
    Rule("tasks", "background tasks finished more than RETENTION_TASKS ago", _tasks_finished),
    Rule(
        "letter_email_batches",
        "reports of letters sent by email, RETENTION_LETTER_SECRETS after the send (letters valid 3 months)",
        _letter_email_batches,
        cascade=Cascade("letter_emails", _emails_of),  # each email's recipient address goes with its report
    ),
]
