"""The staff administration tests' school, its head, secretary and académie operator, and their requests."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.console import helpers
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.console.models import StaffMember, StaffRole

NEW_PASSWORD = "Bulletin#Trimestre-2025"


@pytest.fixture
def school():
    return factories.school(uai="0141111A", name="Collège Jean-Moulin", academie="Normandie")


@pytest.fixture
def head(school):
    return helpers.staff(StaffRole.HEAD, school=school, first_name="Hélène", last_name="Roux")


@pytest.fixture
def secretary(school):
    return helpers.staff(StaffRole.SECRETARIAT, school=school, first_name="Inès", last_name="Garcia")


@pytest.fixture
def operator():
    return helpers.staff(StaffRole.ACADEMIE, academie="Normandie", first_name="Paul", last_name="Leroy")


def page(uai: str) -> str:
    return reverse("console:staff", args=[uai])


def add(browser: Client, uai: str, *, confirm: bool = True, **fields: str):
    data = {"first_name": "Nora", "last_name": "Benali", "email": "nora.benali@ac-normandie.fr", "role": "secretariat"}
    data.update(fields)
    if confirm:
        data["confirme"] = "oui"
    return browser.post(reverse("console:staff_add", args=[uai]), data)


def text(response) -> str:
    return str(unescape(response.content.decode()))


def link_in(page_text: str) -> str:
    found = re.search(r'id="enrolment-link">[^<]*(/console/inscription/[^/<]+/)</p>', page_text)
    assert found, page_text
    return found.group(1)


def denied(member: StaffMember) -> list[AuditEvent]:
    return list(helpers.events(EventTag.CONSOLE_ACCESS_DENIED, staff=member.pk))


def logged_out(browser: Client) -> bool:
    response = browser.get(reverse("console:home"))
    return response.status_code == 302 and response["Location"].startswith(reverse("console:login"))
