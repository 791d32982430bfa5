"""The PostgreSQL health check asks the socket first: no round trip for a live connection, a dropped one replaced."""

from __future__ import annotations

import time

import pytest
from django.db import connection, connections

pytestmark = pytest.mark.django_db


@pytest.fixture
def idle():
    """A second connection, in autocommit and idle, as a web process holds one between requests."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's backend")
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def test_the_backend_is_ours():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's backend")
    assert type(connections["default"]).__module__ == "trousseau.core.postgresql.base"


def test_a_live_idle_connection_is_usable_without_a_query(idle, monkeypatch):
    def no_query(*args, **kwargs):
        raise AssertionError("the health check sent a query")

    monkeypatch.setattr(idle.connection, "cursor", no_query)
    assert idle.is_usable()


def test_a_connection_the_server_dropped_is_found_and_replaced(idle):
    pid = idle.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while idle.is_usable() and time.monotonic() < deadline:
        time.sleep(0.05)  # the close reaches the socket a moment after the backend is gone
    assert not idle.is_usable()
    idle.health_check_done = False
    idle.close_if_health_check_failed()
    assert idle.connection is None
    with idle.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
