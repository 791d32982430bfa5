"""Fixtures of the import tests: one school and its secretary, logged in to the console."""

from __future__ import annotations

import pytest

from tests import factories
from tests.console import helpers
from trousseau.console.models import StaffRole


@pytest.fixture
def school():
    return factories.school(uai="0145678B")


@pytest.fixture
def member(school):
    return helpers.staff(StaffRole.SECRETARIAT, school=school)


@pytest.fixture
def browser(member):
    return helpers.console(member)
