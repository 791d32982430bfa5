"""Email through a real SMTP server that is down, hangs, defers or refuses: nothing lost, nothing doubled.

The journeys only write a `Delivery` row; these tests stand a real SMTP server (aiosmtpd) on a fixed
port, stop and start it, or put a silent one in its place, and read what arrived.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from tests.smtp import Mailbox, free_port, hanging_smtp, running_smtp
from trousseau.notifications.models import Delivery, DeliveryState
from trousseau.notifications.services import send_email

pytestmark = pytest.mark.django_db
TO = "parent@example.fr"


@pytest.fixture
def smtp_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 1
    return settings


def _send() -> Delivery:
    send_email(
        to=TO,
        subject="Confirmez votre adresse email",
        template="flows/email_verification/email.txt",
        context={"account": {"first_name": "Léa", "identifier": "l.x01"}, "link": "http://x/y"},
    )
    return Delivery.objects.get()


def _retry_now() -> None:
    Delivery.objects.filter(state=DeliveryState.PENDING).update(next_attempt_at="2000-01-01T00:00:00Z")
    call_command("deliver_pending", "--once", stdout=StringIO())


def test_server_down_then_up_delivers_the_email_once(smtp_settings):
    smtp_settings.EMAIL_PORT = port = free_port()  # nothing listens there yet
    delivery = _send()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 1)
    assert "Connection refused" in delivery.last_error or "ConnectionRefused" in delivery.last_error

    with running_smtp(port=port) as (mailbox, _):
        _retry_now()
        _retry_now()  # a second pass finds nothing left to send
        assert [m["To"] for m in mailbox.messages] == [TO]
        assert mailbox.messages[0]["Subject"] == "Confirmez votre adresse email"
        assert "http://x/y" in mailbox.text(mailbox.messages[0])
    delivery.refresh_from_db()
    assert (delivery.state, delivery.body) == (DeliveryState.SENT, "")


def test_a_server_that_hangs_costs_one_timeout_and_the_email_waits(smtp_settings):
    with hanging_smtp() as port:
        smtp_settings.EMAIL_PORT = port
        delivery = _send()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING
    assert "timed out" in delivery.last_error.lower() or "Timeout" in delivery.last_error

    with running_smtp() as (mailbox, port):
        smtp_settings.EMAIL_PORT = port
        _retry_now()
        assert len(mailbox.messages) == 1


class Deferring(Mailbox):
    """A relay that answers RCPT with a temporary (451) or permanent (550) refusal."""

    def __init__(self, code: int) -> None:
        super().__init__()
        self.code = code

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802 - aiosmtpd hook
        if self.code:
            return f"{self.code} Mailbox not available"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_temporary_refusal_is_retried_and_a_permanent_one_is_not(smtp_settings):
    with running_smtp(Deferring(451)) as (relay, port):
        smtp_settings.EMAIL_PORT = port
        delivery = _send()
        delivery.refresh_from_db()
        assert delivery.state == DeliveryState.PENDING  # 451: try again later

        relay.code = 0
        _retry_now()
        assert len(relay.messages) == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENT

    Delivery.objects.all().delete()
    with running_smtp(Deferring(550)) as (relay, port):
        smtp_settings.EMAIL_PORT = port
        delivery = _send()
    delivery.refresh_from_db()
    # 550 will not change with time: failed for good at once, body erased, no more attempts.
    assert (delivery.state, delivery.attempts, delivery.body) == (DeliveryState.FAILED, 1, "")
    assert "550" in delivery.last_error
