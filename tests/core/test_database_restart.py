"""A web process whose database connection was dropped (a restart, a failover) serves its next request."""

from __future__ import annotations

import io
from collections.abc import Callable

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

# The mire, asked to lead on to an OpenID Connect client: it reads the clients' table.
MIRE = "/login"
NEXT = "next=/idp/profile/oidc/authorize%3Fclient_id%3Dpronote%26redirect_uri%3Dhttps://p.example/cb"


def _get(handler: WSGIHandler, path: str, query: str = "") -> str:
    """One request through the real WSGI handler (the test client skips the connection checks)."""
    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
    }

    def start_response(
        status: str,
        headers: list[tuple[str, str]],
        exc_info: object = None,
    ) -> Callable[[bytes], object]:
        statuses.append(status)
        return io.BytesIO().write  # the legacy write() callable, unused by Django

    b"".join(handler(environ, start_response))
    return statuses[0]


@pytest.mark.django_db(transaction=True)
def test_a_dropped_connection_is_replaced_before_the_next_request():
    if connection.vendor != "postgresql":
        pytest.skip("the server side of the connection is PostgreSQL's")
    handler = WSGIHandler()
    assert _get(handler, MIRE, NEXT).startswith("200")
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}, autocommit=True) as admin:
        # With a timeout, PostgreSQL returns once the backend is gone, as after a restart: without it the
        # next request could race the termination and meet a backend still closing (a flaky failure).
        admin.execute("SELECT pg_terminate_backend(%s, 10000)", [pid])
    assert _get(handler, MIRE, NEXT).startswith("200")
