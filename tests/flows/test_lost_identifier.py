"""'Identifiant perdu': a number that belongs to an account and one that does not cost the request the same
work; the SMS is queued after the commit and after the response (issue #15 finding 10)."""

from __future__ import annotations

import re
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.accounts.helpers import active_guardian
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.core import sealing
from trousseau.flows.lost_identifier import transitions as lost_identifier
from trousseau.notifications.models import Channel, Delivery, OutboxMessage

pytestmark = pytest.mark.django_db
KNOWN, UNKNOWN = "+33612345678", "+33698765432"


def _sealed(destination: str) -> str:
    return sealing.seal(destination, purpose=lost_identifier.SEAL_PURPOSE)


def _shape(sql: str) -> str:
    """A statement without its values: what it does, not to whom."""
    return re.sub(r"\b\d+(\.\d+)?\b", "?", re.sub(r"'(?:[^']|'')*'", "?", sql))


@pytest.fixture
def held(monkeypatch) -> list[Callable[[], None]]:
    """The work `later` holds until the response is sent, kept here so the test runs it itself."""
    work: list[Callable[[], None]] = []
    monkeypatch.setattr(lost_identifier, "later", work.append)
    return work


def _page(content: bytes) -> bytes:
    """The page without what every response draws afresh: the CSP nonce, the masked CSRF token."""
    content = re.sub(rb'nonce="[^"]*"', b'nonce=""', content)
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b'name="csrfmiddlewaretoken" value=""', content)


def _ask(client: Client, national: str) -> tuple[list[str], bytes]:
    data = {"contact": national, "country": "FR"}
    with CaptureQueriesContext(connection) as captured:
        answer = client.post(reverse("flows:lost_identifier"), data)
    assert answer.status_code == 200
    return [_shape(query["sql"]) for query in captured.captured_queries], _page(answer.content)


def test_a_match_and_a_decoy_make_the_same_statements_in_the_request(held):
    active_guardian(mobile=KNOWN)
    client = Client()
    client.get(reverse("flows:lost_identifier"))  # the session and the CSRF cookie exist for both
    matched, matched_page = _ask(client, "06 12 34 56 78")
    decoy, decoy_page = _ask(client, "06 98 76 54 32")
    assert matched == decoy
    assert matched_page == decoy_page
    assert not Delivery.objects.exists(), "nothing is queued inside the request"
    assert not OutboxMessage.objects.exists(), "nothing is sent inside the request"
    assert AuditEvent.objects.filter(tag=EventTag.LOST_IDENTIFIER_REQUESTED).count() == 2
    assert not AuditEvent.objects.filter(tag=EventTag.LOST_IDENTIFIER_SENT).exists()

    for work in held:  # the response is sent: the held work runs
        work()
    assert Delivery.objects.filter(channel=Channel.SMS).count() == 1
    assert [m.to for m in OutboxMessage.objects.filter(channel=Channel.SMS)] == [KNOWN]
    assert AuditEvent.objects.filter(tag=EventTag.LOST_IDENTIFIER_SENT).count() == 1


def test_the_reminder_waits_for_the_commit(held):
    active_guardian(mobile=KNOWN)
    with transaction.atomic():
        lost_identifier.by_mobile(phone=KNOWN, ip="198.51.100.7")
        assert not held, "not before the commit"
    assert len(held) == 1


def test_the_task_sends_only_to_a_match_and_within_the_budgets(settings):
    active_guardian(mobile=KNOWN)
    settings.SMS_PER_PHONE_PER_HOUR = 1
    lost_identifier.send_identifier_reminder.call("sms", _sealed(UNKNOWN), "198.51.100.7")
    lost_identifier.send_identifier_reminder.call("sms", _sealed(KNOWN), "198.51.100.7")
    lost_identifier.send_identifier_reminder.call("sms", _sealed(KNOWN), "198.51.100.7")  # the budget is spent
    assert [m.to for m in OutboxMessage.objects.filter(channel=Channel.SMS)] == [KNOWN]


def test_by_email_is_held_the_same_way(held):
    account = active_guardian(mobile=KNOWN)
    account.email = "sophie@exemple.fr"
    account.email_verified_at = account.activated_at
    account.save()
    lost_identifier.by_email(email="Sophie@Exemple.fr", ip="198.51.100.7")
    assert not Delivery.objects.exists()
    for work in held:
        work()
    assert Delivery.objects.filter(channel=Channel.EMAIL).count() == 1
    assert AuditEvent.objects.get(tag=EventTag.LOST_IDENTIFIER_SENT).account == account


def test_the_task_queue_holds_no_phone_or_email_in_clear(held, monkeypatch):
    """In production the task's arguments are a row of the queue (django_tasks_db): the contact is sealed."""
    queued: list[tuple[object, ...]] = []
    monkeypatch.setattr(
        lost_identifier, "send_identifier_reminder", SimpleNamespace(enqueue=lambda *a: queued.append(a))
    )
    lost_identifier.by_mobile(phone=KNOWN, ip="198.51.100.7")
    lost_identifier.by_email(email="sophie@exemple.fr", ip="198.51.100.7")
    for work in held:
        work()
    assert [args[0] for args in queued] == ["sms", "email"]
    assert all(KNOWN not in str(args) and "sophie" not in str(args) for args in queued)
    assert sealing.unseal(str(queued[0][1]), purpose=lost_identifier.SEAL_PURPOSE) == KNOWN
