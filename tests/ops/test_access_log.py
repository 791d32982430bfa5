"""gunicorn's access line (trousseau/ops/gunicorn_logging.py): written straight to gunicorn's own handler,
as logging would write it, and through logging for any other handler."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config  # type: ignore[import-untyped]

from trousseau.ops.gunicorn_logging import JsonLogger

ENVIRON = {
    "REQUEST_METHOD": "GET",
    "PATH_INFO": "/email/verifier/Zm9vYmFy0123456789abcdefghijkl/",
    "REMOTE_ADDR": "192.0.2.7",
    "HTTP_USER_AGENT": 'Mozilla/5.0 "quoted" é',
}
RESPONSE = SimpleNamespace(status="302 Found", headers=[("X-Request-ID", "lb-0123"), ("Location", "/")], sent=0)


class Kept(logging.Handler):
    """A handler that is not a stream (as syslog's): it must get a record."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def access_file(tmp_path: Path) -> Path:
    return tmp_path / "access.log"


@pytest.fixture
def logger(access_file: Path) -> Iterator[JsonLogger]:
    cfg = Config()
    cfg.set("accesslog", str(access_file))
    cfg.set("logger_class", "trousseau.ops.gunicorn_logging.JsonLogger")
    made = JsonLogger(cfg)
    yield made
    for handler in list(made.access_log.handlers):  # gunicorn's loggers are the process's: leave them bare
        handler.close()
        made.access_log.removeHandler(handler)
    made.access_log.filters.clear()


def _access(logger: JsonLogger) -> None:
    logger.access(RESPONSE, None, ENVIRON, timedelta(milliseconds=3.456))


def test_the_line_in_gunicorns_file_is_one_json_object_per_request(logger: JsonLogger, access_file: Path):
    _access(logger)
    _access(logger)
    lines = access_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    line = json.loads(lines[0])
    assert line["logger"] == "gunicorn.access"
    assert line["request_id"] == "lb-0123"
    assert line["path"] == "/email/verifier/[jeton]/"
    assert line["status"] == 302
    assert line["duration_ms"] == 3.46
    assert line["user_agent"] == 'Mozilla/5.0 "quoted" é'


def test_the_line_written_directly_is_what_logging_writes(logger: JsonLogger, access_file: Path):
    _access(logger)
    direct = access_file.read_text(encoding="utf-8")
    handler = logger.access_log.handlers[0]
    handler.addFilter(lambda _record: True)  # a filter: this handler now takes the line through logging
    _access(logger)
    through_logging = access_file.read_text(encoding="utf-8")[len(direct) :]
    assert direct.endswith("\n")
    assert through_logging.endswith("\n")
    first, second = json.loads(direct), json.loads(through_logging)
    assert first.pop("time")
    assert second.pop("time")
    assert first == second


def test_a_filter_on_the_handler_or_the_logger_is_obeyed(logger: JsonLogger, access_file: Path):
    handler = logger.access_log.handlers[0]
    handler.addFilter(lambda _record: False)
    _access(logger)
    assert access_file.read_text() == ""
    handler.filters.clear()
    logger.access_log.addFilter(lambda _record: False)
    try:
        _access(logger)
    finally:
        logger.access_log.filters.clear()
    assert access_file.read_text() == ""


def test_another_handler_gets_a_record_beside_the_direct_line(logger: JsonLogger, access_file: Path):
    kept = Kept()
    logger.access_log.addHandler(kept)
    _access(logger)
    assert len(access_file.read_text().splitlines()) == 1
    assert len(kept.records) == 1
    assert json.loads(kept.records[0].getMessage())["request_id"] == "lb-0123"
    assert kept.records[0].levelno == logging.INFO


def test_a_stream_that_fails_does_not_fail_the_request(logger: JsonLogger, monkeypatch: pytest.MonkeyPatch):
    handler = logger.access_log.handlers[0]

    class Broken:
        def write(self, text: str) -> int:
            raise OSError("disk full")

        def flush(self) -> None:
            pass

    handled: list[logging.LogRecord] = []
    monkeypatch.setattr(handler, "stream", Broken())
    monkeypatch.setattr(handler, "handleError", handled.append)
    _access(logger)  # no exception
    assert len(handled) == 1
    assert "lb-0123" in handled[0].getMessage()


def test_a_closed_file_is_reopened_by_logging_as_before(logger: JsonLogger, access_file: Path):
    handler = logger.access_log.handlers[0]
    assert isinstance(handler, logging.FileHandler)
    handler.close()  # as gunicorn's reopen_files leaves it for a moment; FileHandler reopens on emit
    _access(logger)
    assert len(access_file.read_text().splitlines()) == 1
