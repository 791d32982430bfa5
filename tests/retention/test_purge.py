"""`purge_expired`: for each kind of row, one just inside its window stays, one just outside goes.

Every kind is built twice, a minute on either side of its cutoff, at a fixed `now`; the dry run
counts the outside one and changes nothing; the real run deletes it (or, for letters, erases the
hash) and leaves the inside one, then writes one summary audit event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from oauth2_provider.models import AccessToken, Application, Grant

from tests import factories
from tests.accounts.helpers import active_guardian
from tests.console import helpers as console
from trousseau.accounts.models import AccountSession, ActivationLetter
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.console.models import (
    ImportJob,
    ImportJobAction,
    ImportJobState,
    LetterEmail,
    LetterEmailBatch,
    PendingImport,
)
from trousseau.core.models import RateCounter, ThrottleCounter
from trousseau.core.throttle import LOCKED
from trousseau.federation.oidc.models import Authorization
from trousseau.federation.saml.models import SeenRequest, ServiceProvider
from trousseau.flows.models import CodePurpose, Flow, FlowKind, FlowState, OneTimeCode
from trousseau.notifications.models import Channel, Delivery, DeliveryState, OutboxMessage
from trousseau.retention.services import purge_expired
from trousseau.retention.tasks import purge_expired_task

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)
Exists = Callable[[], bool]


def _flow(at: datetime) -> Exists:
    flow = Flow.objects.create(
        kind=FlowKind.LOST_PASSWORD, state=FlowState.AWAITING_CODE, expires_at=at, session_binding="b"
    )
    OneTimeCode.objects.create(
        flow=flow, purpose=CodePurpose.LOST_PASSWORD, phone="+33612345678", code_digest="d", expires_at=at
    )
    return lambda: Flow.objects.filter(pk=flow.pk).exists() and OneTimeCode.objects.filter(flow=flow).exists()


def _delivery(at: datetime) -> Exists:
    row = Delivery.objects.create(
        channel=Channel.SMS, recipient="+33 •• •• •• 78", state=DeliveryState.SENT, created_at=at
    )
    return Delivery.objects.filter(pk=row.pk).exists


def _outbox(at: datetime) -> Exists:
    row = OutboxMessage.objects.create(channel=Channel.SMS, to="+33612345678", body="code", created_at=at)
    return OutboxMessage.objects.filter(pk=row.pk).exists


def _revoked_letter(at: datetime) -> Exists:
    _, letter, _ = factories.guardian_account()
    ActivationLetter.objects.filter(pk=letter.pk).update(revoked_at=at)
    return ActivationLetter.objects.filter(pk=letter.pk).exists


def _used_letter(at: datetime) -> Exists:
    _, letter, _ = factories.guardian_account()
    ActivationLetter.objects.filter(pk=letter.pk).update(used_at=at)
    return ActivationLetter.objects.filter(pk=letter.pk).exclude(password_hash="").exists


def _expired_letter(at: datetime) -> Exists:
    _, letter, _ = factories.guardian_account()
    ActivationLetter.objects.filter(pk=letter.pk).update(expires_at=at)
    return ActivationLetter.objects.filter(pk=letter.pk).exclude(password_hash="").exists


def _audit(at: datetime) -> Exists:
    row = AuditEvent.objects.create(tag=EventTag.LOGIN_FAILURE, created_at=at)
    return AuditEvent.objects.filter(pk=row.pk).exists


def _session(at: datetime) -> Exists:
    row = Session.objects.create(session_key=uuid.uuid4().hex, session_data="", expire_date=at)
    return Session.objects.filter(pk=row.pk).exists


def _account_session(at: datetime) -> Exists:
    row = AccountSession.objects.create(
        account=factories.guardian_account()[0], session_key=uuid.uuid4().hex, created_at=at
    )
    return AccountSession.objects.filter(pk=row.pk).exists


def _throttle(at: datetime) -> Exists:
    row = ThrottleCounter.objects.create(key=uuid.uuid4().hex, failures=3, last_failure_at=at)
    return ThrottleCounter.objects.filter(pk=row.pk).exists


def _rate(at: datetime) -> Exists:
    row = RateCounter.objects.create(key=uuid.uuid4().hex, window_start=at, count=2)
    return RateCounter.objects.filter(pk=row.pk).exists


def _authorization(at: datetime) -> Exists:
    application, _ = Application.objects.get_or_create(
        client_id="retention-test",
        defaults={"client_type": "confidential", "authorization_grant_type": "authorization-code"},
    )
    row = Authorization.objects.create(
        code_hash=uuid.uuid4().hex,
        application=application,
        account=active_guardian(),
        session_key="s",
        sid="sid",
        created_at=at,
    )
    return Authorization.objects.filter(pk=row.pk).exists


def _seen_request(at: datetime) -> Exists:
    sp, _ = ServiceProvider.objects.get_or_create(entity_id="https://sp.example/", defaults={"metadata_xml": "<x/>"})
    row = SeenRequest.objects.create(service_provider=sp, request_id=uuid.uuid4().hex, expires_at=at)
    return SeenRequest.objects.filter(pk=row.pk).exists


def _staff_and_school() -> tuple[Any, Any]:
    school = factories.school()
    return console.staff(school=school), school


def _import_job(at: datetime) -> Exists:
    staff, school = _staff_and_school()
    row = ImportJob.objects.create(
        staff=staff, school=school, action=ImportJobAction.CHECK, state=ImportJobState.DONE, created_at=at
    )
    return ImportJob.objects.filter(pk=row.pk).exists


def _task(at: datetime) -> Exists:
    row = DBTaskResult.objects.create(
        status=TaskResultStatus.SUCCESSFUL,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="trousseau.retention.tasks.purge_expired_task",
        backend_name="default",
        run_after=at,
        finished_at=at,
    )
    running = DBTaskResult.objects.create(
        status=TaskResultStatus.RUNNING,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="trousseau.retention.tasks.purge_expired_task",
        backend_name="default",
        run_after=at - timedelta(days=30),
    )
    return lambda: (
        DBTaskResult.objects.filter(pk=row.pk).exists() and DBTaskResult.objects.filter(pk=running.pk).exists()
    )


def _pending_import(at: datetime) -> Exists:
    staff, school = _staff_and_school()
    row = PendingImport.objects.create(staff=staff, school=school, pupils=b"ine;nom\n", created_at=at)
    return PendingImport.objects.filter(pk=row.pk).exists


def _letter_email_batch(at: datetime) -> Exists:
    staff, school = _staff_and_school()
    batch = LetterEmailBatch.objects.create(staff=staff, school=school, created_at=at)
    account, _, _ = factories.guardian_account()
    LetterEmail.objects.create(batch=batch, account=account, recipient="parent@example.fr", token=uuid.uuid4().hex)
    return LetterEmailBatch.objects.filter(pk=batch.pk).exists


# kind: (the cutoff at `now`, how to build a row ending at a given instant, the counts that change)
KINDS: dict[str, tuple[Callable[[datetime], datetime], Callable[[datetime], Exists], set[str]]] = {
    "flows": (lambda now: now - settings.RETENTION_FLOWS, _flow, {"flows", "codes"}),
    "deliveries": (lambda now: now - settings.RETENTION_DELIVERIES, _delivery, {"deliveries"}),
    "outbox": (lambda now: now - settings.RETENTION_OUTBOX, _outbox, {"outbox"}),
    "letters_revoked": (lambda now: now - settings.RETENTION_LETTER_SECRETS, _revoked_letter, {"letters_revoked"}),
    "letter_secrets (used)": (lambda now: now - settings.RETENTION_LETTER_SECRETS, _used_letter, {"letter_secrets"}),
    "letter_secrets (expired)": (
        lambda now: now - settings.RETENTION_LETTER_SECRETS,
        _expired_letter,
        {"letter_secrets"},
    ),
    "audit": (lambda now: now - settings.RETENTION_AUDIT, _audit, {"audit"}),
    "sessions": (lambda now: now, _session, {"sessions"}),
    "account_sessions": (lambda now: now - settings.SESSION_ABSOLUTE_AGE, _account_session, {"account_sessions"}),
    "throttle_counters": (lambda now: now - settings.THROTTLE_FORGET_AFTER, _throttle, {"throttle_counters"}),
    "rate_counters": (lambda now: now - timedelta(days=1), _rate, {"rate_counters"}),
    "oidc_authorizations": (
        lambda now: now - timedelta(seconds=settings.SESSION_COOKIE_AGE),
        _authorization,
        {"oidc_authorizations"},
    ),
    "saml_requests": (lambda now: now, _seen_request, {"saml_requests"}),
    "import_jobs": (lambda now: now - settings.RETENTION_IMPORT_JOBS, _import_job, {"import_jobs"}),
    "pending_imports": (lambda now: now - timedelta(hours=1), _pending_import, {"pending_imports"}),
    "tasks": (lambda now: now - settings.RETENTION_TASKS, _task, {"tasks"}),
    "letter_email_batches": (
        lambda now: now - settings.RETENTION_LETTER_SECRETS,
        _letter_email_batch,
        {"letter_email_batches", "letter_emails"},
    ),
}


@pytest.mark.parametrize("kind", KINDS)
def test_just_inside_stays_just_outside_goes_and_the_dry_run_only_counts(kind):
    now = timezone.now()
    cutoff_of, build, counted = KINDS[kind]
    cutoff = cutoff_of(now)
    inside, outside = build(cutoff + MINUTE), build(cutoff - MINUTE)
    baseline = purge_expired(dry_run=True, now=now - 2 * MINUTE)  # before the cutoff moved past `outside`
    assert all(baseline[name] == 0 for name in counted), baseline

    dry = purge_expired(dry_run=True, now=now)
    assert {name for name, n in dry.items() if n} == counted
    assert all(dry[name] == 1 for name in counted), dry
    assert inside(), "the dry run changed nothing"
    assert outside(), "the dry run changed nothing"
    assert not AuditEvent.objects.filter(tag=EventTag.RETENTION_PURGED).exists()

    done = purge_expired(now=now)
    assert done == dry
    assert inside()
    assert not outside()
    summary = AuditEvent.objects.get(tag=EventTag.RETENTION_PURGED)
    assert all(summary.data[name] == 1 for name in counted)


def test_a_locked_counter_stays_however_old_its_last_failure():
    now = timezone.now()
    old = now - settings.THROTTLE_FORGET_AFTER - timedelta(days=30)
    ThrottleCounter.objects.create(key="locked", failures=100, last_failure_at=old, blocked_until=old + LOCKED)
    ThrottleCounter.objects.create(key="delay over", failures=8, last_failure_at=old, blocked_until=old + MINUTE)
    purge_expired(now=now)
    assert set(ThrottleCounter.objects.values_list("key", flat=True)) == {"locked"}


def test_a_pending_delivery_stays_however_old():
    old = timezone.now() - settings.RETENTION_DELIVERIES - timedelta(days=1)
    kept = Delivery.objects.create(channel=Channel.SMS, recipient="+33612345678", body="x", created_at=old)
    purge_expired()
    assert Delivery.objects.filter(pk=kept.pk).exists()


def test_files_a_queued_import_waits_for_stay():
    staff, school = _staff_and_school()
    old = timezone.now() - timedelta(hours=3)
    files = PendingImport.objects.create(staff=staff, school=school, pupils=b"x", created_at=old)
    ImportJob.objects.create(staff=staff, school=school, pending=files, action=ImportJobAction.APPLY)
    assert purge_expired()["pending_imports"] == 0
    assert PendingImport.objects.filter(pk=files.pk).exists()


def test_an_erased_letter_keeps_what_the_console_shows():
    _, letter, _ = factories.guardian_account()
    used_at = timezone.now() - settings.RETENTION_LETTER_SECRETS - timedelta(days=1)
    ActivationLetter.objects.filter(pk=letter.pk).update(used_at=used_at)
    issued_at, expires_at = letter.issued_at, letter.expires_at
    purge_expired()
    letter.refresh_from_db()
    assert letter.password_hash == ""
    assert (letter.issued_at, letter.expires_at, letter.used_at, letter.revoked_at) == (
        issued_at,
        expires_at,
        used_at,
        None,
    )
    assert letter.status().value == "used"


def test_deletes_in_batches_until_nothing_is_left():
    old = timezone.now() - settings.RETENTION_AUDIT - timedelta(days=1)
    AuditEvent.objects.bulk_create(AuditEvent(tag=EventTag.LOGIN_FAILURE, created_at=old) for _ in range(7))
    assert purge_expired(batch_size=2)["audit"] == 7
    assert AuditEvent.objects.filter(created_at__lt=timezone.now() - settings.RETENTION_AUDIT).count() == 0


def test_expired_oidc_tokens_go_through_django_oauth_toolkit():
    account = active_guardian()
    application = Application.objects.create(
        client_id="rp", client_type="confidential", authorization_grant_type="authorization-code"
    )
    past, future = timezone.now() - MINUTE, timezone.now() + timedelta(hours=1)
    for expires, name in ((past, "old"), (future, "new")):
        Grant.objects.create(
            user=account, application=application, code=f"g-{name}", expires=expires, redirect_uri="https://rp/cb"
        )
        AccessToken.objects.create(user=account, application=application, token=f"t-{name}", expires=expires)
    assert purge_expired(dry_run=True)["oidc_tokens"] == 2
    assert Grant.objects.count() == AccessToken.objects.count() == 2
    assert purge_expired()["oidc_tokens"] == 2
    assert list(Grant.objects.values_list("code", flat=True)) == ["g-new"]
    assert list(AccessToken.objects.values_list("token", flat=True)) == ["t-new"]


def test_the_command_reports_each_kind_and_its_reason_and_the_dry_run_keeps_everything():
    old = timezone.now() - settings.RETENTION_AUDIT - timedelta(days=1)
    AuditEvent.objects.create(tag=EventTag.LOGIN_FAILURE, created_at=old)
    out = StringIO()
    call_command("purge_expired", "--dry-run", stdout=out)
    assert "audit: would purge 1 (audit events older than RETENTION_AUDIT" in out.getvalue()
    assert "flows: would purge 0" in out.getvalue()
    assert AuditEvent.objects.filter(created_at=old).exists()
    out = StringIO()
    call_command("purge_expired", stdout=out)
    assert "audit: purged 1" in out.getvalue()
    assert not AuditEvent.objects.filter(created_at=old).exists()


def test_the_task_runs_the_same_purge():
    old = timezone.now() - settings.RETENTION_OUTBOX - timedelta(days=1)
    OutboxMessage.objects.create(channel=Channel.SMS, to="+33612345678", body="x", created_at=old)
    result = purge_expired_task.enqueue()  # the immediate backend of the tests runs it now
    assert result.return_value is not None
    assert result.return_value["outbox"] == 1
    assert not OutboxMessage.objects.exists()
