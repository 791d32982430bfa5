"""Shared parts of the browser journeys: Debian's Chromium, a real SMTP server, the demo académie.

Playwright's sync API keeps an event loop running in the test thread, so Django would refuse the
ORM calls made there (fixtures, assertions on the database) without DJANGO_ALLOW_ASYNC_UNSAFE.
"""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import csv
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from tests.outbox import sms_bodies
from tests.smtp import Mailbox, running_smtp, send_through
from trousseau.notifications.models import Channel, OutboxMessage

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CSV_COLUMNS = [
    "kind",
    "identifier",
    "provisional_password",
    "last_name",
    "first_name",
    "birth_date",
    "phone",
    "school_uai",
]
DEMO_PUPILS = 12
TIMEOUT_MS = 10_000


# --- Chromium -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh French browser profile on the live server; fails the test on script errors or CSP blocks."""
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))

    def on_console(message: ConsoleMessage) -> None:
        # "Refused to load/execute/apply ... because it violates the Content Security Policy", and
        # "Sending form data to ... violates the following Content Security Policy directive".
        if message.type == "error" and (
            message.text.startswith("Refused to") or "violates the following Content Security Policy" in message.text
        ):
            problems.append(f"CSP: {message.text}")

    tab.on("console", on_console)
    yield tab
    context.close()
    assert not problems, "\n".join(problems)


# --- SMTP -----------------------------------------------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on 127.0.0.1; yields its mailbox and port."""
    with running_smtp() as (mailbox, port):
        yield mailbox, port


@pytest.fixture
def mailbox(smtp_server: tuple[Mailbox, int], settings: Settings, live_server: LiveServer) -> Mailbox:
    """Django sends through the SMTP server, and links in emails point at the live server."""
    box, port = smtp_server
    send_through(settings, port, public_url=live_server.url)
    return box


# --- The demo académie ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Letter:
    """One row of credentials.csv: what a school prints on an activation letter."""

    kind: str
    identifier: str
    provisional_password: str
    last_name: str
    first_name: str
    birth_date: date
    phone: str
    school_uai: str


@dataclass(frozen=True)
class Demo:
    letters: list[Letter]

    @property
    def guardians(self) -> list[Letter]:
        return [letter for letter in self.letters if letter.kind == "guardian"]

    @property
    def pupils(self) -> list[Letter]:
        return [letter for letter in self.letters if letter.kind == "pupil"]


@pytest.fixture
def demo(transactional_db: None, tmp_path: Path) -> Demo:
    """The demo académie, seeded by its management command; its letters read back from the CSV."""
    credentials = tmp_path / "credentials.csv"
    call_command("seed_demo", "--pupils", str(DEMO_PUPILS), "--credentials", str(credentials), stdout=io.StringIO())
    with credentials.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == CSV_COLUMNS
        letters = [
            Letter(
                kind=row["kind"],
                identifier=row["identifier"],
                provisional_password=row["provisional_password"],
                last_name=row["last_name"],
                first_name=row["first_name"],
                birth_date=date.fromisoformat(row["birth_date"]),
                phone=row["phone"],
                school_uai=row["school_uai"],
            )
            for row in reader
        ]
    assert {letter.kind for letter in letters} == {"guardian", "pupil"}
    return Demo(letters)


# --- SMS ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phone:
    """The dev outbox seen as the phones the SMS were sent to (`OutboxMessage`, channel "sms")."""

    @staticmethod
    def messages(to: str) -> list[str]:
        """Every SMS sent to `to` (E.164), oldest first (some leave after the response: see sms_bodies)."""
        return sms_bodies(to)

    @staticmethod
    def total() -> int:
        """How many SMS were sent at all, to anyone."""
        return OutboxMessage.objects.filter(channel=Channel.SMS).count()

    def wait_for(self, to: str, count: int = 1, timeout: float = 10) -> str:
        """The `count`-th SMS sent to `to`, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while True:
            bodies = self.messages(to)
            if len(bodies) >= count:
                return bodies[count - 1]
            if time.monotonic() > deadline:
                pytest.fail(f"No SMS number {count} to {to} within {timeout}s (got {bodies})")
            time.sleep(0.05)

    @staticmethod
    def code(body: str) -> str:
        """The 6-digit security code an SMS carries."""
        found = re.search(r"\b(\d{6})\b", body)
        assert found, f"no 6-digit code in the SMS: {body!r}"
        return found.group(1)


@pytest.fixture
def phone(transactional_db: None) -> Phone:
    return Phone()


# The demo services (ENT, Pronote-like, téléservices-like), for journeys that start where families do.
from tests.browser.services import running_services, services, trousseau  # noqa: E402, F401
