"""Log lines: JSON with the request id the response echoes, phone numbers and emails masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from django.test import Client, override_settings

from tests.ops.serving import free_port
from trousseau.ops.logs import RedactFilter, RequestIdFilter, json_formatter


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What the console handler configured from settings.LOGGING writes, while the test runs."""
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler))
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def _lines(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.django_db
def test_a_request_logs_json_with_the_request_id_the_response_echoes(console: io.StringIO):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    down = {
        "REDIS_URL": closed,
        "CACHES": {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": closed}},
    }
    with override_settings(**down):
        response = Client().get("/readyz", HTTP_X_REQUEST_ID="ingress-4f2a-0001")  # logs the cache failure
    assert response["X-Request-ID"] == "ingress-4f2a-0001"
    line = next(line for line in _lines(console) if line["logger"] == "trousseau.ops.probes")
    assert line["request_id"] == "ingress-4f2a-0001"
    assert line["level"] == "WARNING"
    assert line["message"] == "Readiness: the cache is unreachable"
    assert {"time", "level", "logger", "message", "request_id", "exc_info"} <= line.keys()


@pytest.mark.django_db
@pytest.mark.parametrize("given", ["", "has space", "a" * 65, "semi;colon", "é"])
def test_a_malformed_request_id_is_replaced_by_a_fresh_one(given: str):
    first = Client().get("/healthz", HTTP_X_REQUEST_ID=given)["X-Request-ID"]
    second = Client().get("/healthz", HTTP_X_REQUEST_ID=given)["X-Request-ID"]
    assert first != given
    assert len(first) == 32
    assert first != second


@pytest.mark.django_db
def test_an_unaudited_page_gets_a_request_id_too():
    response = Client().get("/login", HTTP_X_REQUEST_ID="A-" + "0" * 62)
    assert response["X-Request-ID"] == "A-" + "0" * 62


def _format(message: str, *args: object, exc: BaseException | None = None) -> dict[str, str]:
    record = logging.LogRecord("trousseau.test", logging.ERROR, __file__, 1, message, args, None)
    if exc is not None:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    for log_filter in (RequestIdFilter(), RedactFilter()):
        log_filter.filter(record)
    line: dict[str, str] = json.loads(json_formatter().format(record))
    return line


def test_phone_numbers_and_emails_are_masked_in_messages_and_arguments():
    line = _format("SMS to %s (%s) for %s", "+33612345678", "06 12 34 56 78", "jeanne.dupont@example.fr")
    assert line["message"] == "SMS to [téléphone] ([téléphone]) for [email]"
    assert line["request_id"] == "-"


def test_phone_numbers_and_emails_are_masked_in_tracebacks():
    try:
        msg = "gateway refused +447700900123 / parent@example.org"
        raise ValueError(msg)  # noqa: TRY301 - the traceback is what is tested
    except ValueError as exc:
        line = _format("Delivery failed", exc=exc)
    assert "ValueError: gateway refused [téléphone] / [email]" in line["exc_info"]
    assert "+447700900123" not in json.dumps(line)


def test_token_like_path_segments_are_masked_but_flow_ids_are_kept():
    line = _format("Internal Server Error: /mot-de-passe-perdu/lien/MTIz/cbx9z1-4f5e6d7c8b9a0f1e2d3c4b5a69788796/")
    assert line["message"] == "Internal Server Error: /mot-de-passe-perdu/lien/MTIz/[jeton]/"
    flow = "/activation/0b8e7c3e-1234-4abc-9def-0123456789ab/"
    assert _format(flow)["message"] == flow


def test_ordinary_numbers_are_left_alone():
    assert _format("Imported %s rows in %s ms", 1234567, 0.25)["message"] == "Imported 1234567 rows in 0.25 ms"
