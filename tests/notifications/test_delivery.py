"""Durable delivery: a provider outage delays messages and loses none; nothing is sent twice."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.db import transaction
from django_tasks.backends.dummy import DummyBackend

from trousseau.notifications import delivery as deliveries
from trousseau.notifications.models import Channel, Delivery, DeliveryState, OutboxMessage
from trousseau.notifications.services import send_email, send_sms
from trousseau.notifications.tasks import deliver

pytestmark = pytest.mark.django_db

PHONE = "+33612345678"


def deliver_pending() -> str:
    out = StringIO()
    call_command("deliver_pending", "--once", stdout=out)
    return out.getvalue()


# --- Commit boundaries ---------------------------------------------------------------------------


def test_sent_at_once_and_settled():
    send_sms(to=PHONE, body="Votre code : 123456")
    assert OutboxMessage.objects.get().body == "Votre code : 123456"
    delivery = Delivery.objects.get()
    assert (delivery.channel, delivery.recipient, delivery.state, delivery.attempts) == (
        Channel.SMS,
        "+33 •• •• •• 78",  # settled: support keeps the last two digits, not the number
        DeliveryState.SENT,
        1,
    )
    assert delivery.body == ""


def test_a_rolled_back_journey_sends_nothing():
    def journey():
        with transaction.atomic():
            send_sms(to=PHONE, body="Votre code : 123456")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        journey()
    assert not Delivery.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_nothing_leaves_before_the_journey_commits():
    with transaction.atomic():
        send_email(
            to="a@example.fr",
            subject="Sujet",
            template="flows/email_verification/email.txt",
            context={"account": {"first_name": "Léa", "identifier": "l.x01"}, "link": "http://x/y"},
        )
        assert mail.outbox == []
        assert Delivery.objects.get().state == DeliveryState.PENDING
    assert [m.to for m in mail.outbox] == [["a@example.fr"]]
    assert Delivery.objects.get().state == DeliveryState.SENT


# --- Outages -------------------------------------------------------------------------------------


def break_gateway(gateway, how):
    if how == "500":
        gateway.status = 500
    elif how == "drop":
        gateway.drop = True
    else:
        gateway.stop()


def repair_gateway(gateway, how):
    gateway.status, gateway.drop = 201, False
    if how == "down":
        gateway.start()  # same port, as a provider coming back


@pytest.mark.parametrize("how", ["500", "drop", "down"])
def test_outage_delays_the_sms_and_a_later_pass_sends_it_once(http_gateway, clock, how):
    break_gateway(http_gateway, how)
    send_sms(to=PHONE, body="Votre code : 123456")

    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 1)
    assert ("HTTP 500" if how == "500" else "unreachable") in delivery.last_error
    assert delivery.body == "Votre code : 123456"
    first_delay = delivery.next_attempt_at - clock.now
    assert timedelta(seconds=15) <= first_delay <= timedelta(seconds=30)

    # Not due yet: a pass right away leaves it alone, even with the gateway back.
    repair_gateway(http_gateway, how)
    attempts_so_far = len(http_gateway.requests)
    deliver_pending()
    assert len(http_gateway.requests) == attempts_so_far

    clock.advance(seconds=31)
    assert "1 sent" in deliver_pending()
    deliver_pending()  # and again: nothing left to do

    assert len(http_gateway.answered(201)) == 1
    assert http_gateway.answered(201)[0].json()["text"] == "Votre code : 123456"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_error) == (DeliveryState.SENT, 2, "")
    assert delivery.sent_at == clock.now


def test_retries_back_off_until_max_attempts_then_fail(settings, http_gateway, clock, caplog):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 4
    http_gateway.status = 503
    send_sms(to=PHONE, body="Votre code : 123456")
    delays = []
    for _ in range(3):
        delivery = Delivery.objects.get()
        assert delivery.state == DeliveryState.PENDING
        delays.append(delivery.next_attempt_at - clock.now)
        clock.now = delivery.next_attempt_at
        with caplog.at_level(logging.ERROR, logger="trousseau.notifications.delivery"):
            deliver_pending()

    # Doubling steps of 30 s, each jittered within its upper half.
    for delay, step in zip(delays, (30, 60, 120), strict=True):
        assert timedelta(seconds=step / 2) <= delay <= timedelta(seconds=step)
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, 4)
    assert "HTTP 503" in delivery.last_error
    assert delivery.body == ""
    assert len(http_gateway.requests) == 4
    assert any("failed for good" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)

    clock.advance(days=2)
    http_gateway.status = 201
    deliver_pending()
    assert len(http_gateway.requests) == 4  # a failed delivery is never picked up again


def test_too_old_a_message_fails_even_with_attempts_left(settings, http_gateway, clock):
    settings.NOTIFICATIONS_MAX_AGE = timedelta(hours=1)
    http_gateway.status = 500
    send_sms(to=PHONE, body="x")
    clock.advance(hours=2)
    deliver_pending()
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, 2)


@pytest.mark.parametrize(("back_after_minutes", "sent"), [(20, True), (40, False)])
def test_a_code_sms_is_dropped_once_its_code_has_expired(http_gateway, clock, back_after_minutes, sent):
    http_gateway.status = 503
    send_sms(to=PHONE, body="Votre code : 123456", expires_at=clock.now + timedelta(minutes=30))
    http_gateway.status = 201
    clock.advance(minutes=back_after_minutes)
    deliver_pending()

    delivery = Delivery.objects.get()
    assert len(http_gateway.answered(201)) == (1 if sent else 0)
    assert delivery.state == (DeliveryState.SENT if sent else DeliveryState.FAILED)
    assert delivery.body == ""  # settled either way: the code leaves the database
    if not sent:
        assert "expired" in delivery.last_error


def test_a_number_that_cannot_be_an_sms_fails_at_once(http_gateway):
    send_sms(to="0612345678", body="x")
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, 1)
    assert "E.164" in delivery.last_error
    assert http_gateway.requests == []


class FlakySmtp(EmailBackend):
    """Django's locmem backend behind an SMTP server that is down until `up` is set."""

    up = False

    def send_messages(self, email_messages):
        if not FlakySmtp.up:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(email_messages)


def test_an_smtp_outage_delays_the_email(settings, clock):
    settings.EMAIL_BACKEND = f"{__name__}.FlakySmtp"
    FlakySmtp.up = False
    send_email(
        to="a@example.fr",
        subject="Confirmez votre adresse email",
        template="flows/email_verification/email.txt",
        context={"account": {"first_name": "Léa", "identifier": "l.x01"}, "link": "http://x/y"},
    )
    assert mail.outbox == []
    assert "SMTPServerDisconnected" in Delivery.objects.get().last_error

    FlakySmtp.up = True
    clock.advance(minutes=1)
    deliver_pending()
    [message] = mail.outbox
    assert (message.to, message.subject, message.from_email) == (
        ["a@example.fr"],
        "Confirmez votre adresse email",
        settings.DEFAULT_FROM_EMAIL,
    )
    assert "Bonjour Léa" in message.body


# --- One sender per delivery ---------------------------------------------------------------------


def test_a_claimed_delivery_is_not_taken_twice(clock):
    delivery = Delivery.objects.create(channel=Channel.SMS, recipient=PHONE, body="x", next_attempt_at=clock.now)
    assert deliveries.claim(delivery.pk) is not None
    assert deliveries.claim(delivery.pk) is None
    deliver_pending()
    assert not OutboxMessage.objects.exists()


def test_a_worker_that_died_mid_send_is_taken_over_after_its_lease(settings, clock):
    delivery = Delivery.objects.create(channel=Channel.SMS, recipient=PHONE, body="x", next_attempt_at=clock.now)
    stale = deliveries.claim(delivery.pk)  # ... and the worker dies before recording anything
    assert stale is not None
    clock.advance(seconds=settings.NOTIFICATIONS_CLAIM_LEASE.total_seconds() + 1)
    deliver_pending()
    assert OutboxMessage.objects.count() == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 2)

    # The late worker wakes up: its outcome is fenced off and cannot undo what the other recorded.
    deliveries.attempt(stale)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 2)


def test_the_task_is_a_no_op_for_a_settled_delivery():
    send_sms(to=PHONE, body="x")
    deliver.call(Delivery.objects.get().pk)
    assert OutboxMessage.objects.count() == 1


def test_a_queue_that_can_defer_gets_the_retry(settings, http_gateway, clock):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    queue = deliver.get_backend()
    assert isinstance(queue, DummyBackend)
    send_sms(to=PHONE, body="x")
    [queued] = queue.results
    delivery = Delivery.objects.get()
    assert (list(queued.args), delivery.attempts) == ([delivery.pk], 0)  # queued, not run in the request

    http_gateway.status = 500
    deliver.call(delivery.pk)  # what a worker of that queue does
    delivery.refresh_from_db()
    retry = queue.results[-1]
    assert retry.task.run_after == delivery.next_attempt_at > clock.now
    assert list(retry.args) == [delivery.pk]


def test_backoff_doubles_up_to_the_cap_with_jitter(settings):
    base, cap = settings.NOTIFICATIONS_RETRY_BASE_DELAY, settings.NOTIFICATIONS_RETRY_MAX_DELAY
    for attempts in range(1, 15):
        step = min(cap, base * 2 ** (attempts - 1))
        for _ in range(20):
            assert step / 2 <= deliveries.backoff(attempts) <= step
    assert len({deliveries.backoff(3) for _ in range(20)}) > 1
