"""Once a message is settled, its row keeps the recipient masked; errors and logs never quote it."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from trousseau.notifications.masking import mask_email, mask_recipient, scrub
from trousseau.notifications.models import Channel, Delivery, DeliveryState, OutboxMessage
from trousseau.notifications.services import send_email, send_sms

pytestmark = pytest.mark.django_db

ADDRESS = "lea.martin@exemple.fr"


class RefusingRecipients:
    """An SMTP server that refuses every recipient, quoting the address back as real servers do."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802 - aiosmtpd hook
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def refusing_smtp(settings: Any) -> Iterator[None]:
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller = Controller(RefusingRecipients(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 1
    yield
    controller.stop()


def test_masks_keep_the_last_digits_and_the_domain():
    assert mask_recipient(Channel.SMS, "+33612345678") == "+33 •• •• •• 78"
    assert mask_recipient(Channel.EMAIL, ADDRESS) == "l•••@exemple.fr"
    assert mask_email("no-at-sign") == "•••"
    assert scrub("HTTP 400: bad number 33612345678", channel=Channel.SMS, recipient="+33612345678") == (
        "HTTP 400: bad number +33 •• •• •• 78"
    )


def test_a_sent_sms_keeps_only_a_masked_number_but_the_outbox_twin_keeps_it():
    send_sms(to="+33612345678", body="Votre code : 123456")
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.SENT
    assert delivery.recipient == "+33 •• •• •• 78"
    # The dev twin is the phone of the demo: it must show the number (DEBUG-only page).
    assert OutboxMessage.objects.get().to == "+33612345678"


def test_a_refused_email_fails_masked_and_its_error_and_logs_do_not_quote_the_address(refusing_smtp, caplog):
    caplog.set_level(logging.WARNING, logger="trousseau.notifications")
    send_email(
        to=ADDRESS, subject="Sujet", template="flows/email_verification/email.txt", context={"link": "http://x/y"}
    )
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    assert delivery.recipient == "l•••@exemple.fr"
    assert "SMTPRecipientsRefused" in delivery.last_error
    assert "l•••@exemple.fr" in delivery.last_error
    assert "lea.martin" not in delivery.last_error
    assert caplog.records, "the failure is logged"
    assert all("lea.martin" not in record.getMessage() for record in caplog.records)


def test_a_number_that_is_not_e164_is_not_quoted_in_the_error(http_gateway):
    send_sms(to="0612345678", body="x")
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    assert "E.164" in delivery.last_error
    assert "0612345678" not in delivery.last_error
    assert "0612345678" not in delivery.recipient
