"""A real SMTP server for tests (aiosmtpd on 127.0.0.1), and one that hangs, for fault tests."""

from __future__ import annotations

import contextlib
import email
import email.policy
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps every message it receives, parsed."""

    messages: list[EmailMessage] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook name
        message = email.message_from_bytes(envelope.content, _class=EmailMessage, policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, to: str, timeout: float = 10) -> EmailMessage:
        """The first message sent to `to`, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for message in self.messages:
                    if to in {address for _, address in getaddresses(message.get_all("To", []))}:
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [str(m["To"]) for m in self.messages]
                    pytest.fail(f"No email to {to} within {timeout}s (received for: {seen})")
                self._arrived.wait(left)

    @staticmethod
    def text(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None, "the email has no text part"
        return str(part.get_content())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_smtp(mailbox: Any = None, port: int | None = None) -> Iterator[tuple[Any, int]]:
    """A real SMTP server on 127.0.0.1 (on `port`, or a free one) with `mailbox` as its handler."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command
    handler = mailbox if mailbox is not None else Mailbox()
    for attempt in range(5):
        chosen = port or free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=chosen, server_hostname="smtp.trousseau.test")
        try:
            controller.start()
            break
        except OSError:  # the port was taken between the probe and the bind
            if port is not None or attempt == 4:
                raise
    try:
        yield handler, chosen
    finally:
        controller.stop()


def send_through(settings: Any, port: int, *, public_url: str | None = None) -> None:
    """Django's SMTP backend pointed at the test server on `port` (plain, no login); links at `public_url`."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    if public_url is not None:
        settings.PUBLIC_URL = public_url


@contextlib.contextmanager
def hanging_smtp() -> Iterator[int]:
    """A server that accepts connections and never says a word: a stuck mail relay."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield int(listener.getsockname()[1])
    finally:
        listener.close()
