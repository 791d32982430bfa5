from __future__ import annotations

import pytest
from django.db import connection

from tests import factories
from trousseau.directory.models import SchoolLevel


@pytest.fixture(params=["orm", "copy"])
def bulk_copy(request, db) -> bool:
    """Both sync engines: the ORM one everywhere, COPY + set-based SQL where PostgreSQL runs the tests."""
    if request.param == "copy" and connection.vendor != "postgresql":
        pytest.skip("COPY needs PostgreSQL")
    return bool(request.param == "copy")


@pytest.fixture
def college(db):
    return factories.school(uai="0145678B", name="Collège Jean-Moulin")


@pytest.fixture
def ecole(db):
    return factories.school(uai="0141234A", name="École Jules-Ferry", level=SchoolLevel.ECOLE)
