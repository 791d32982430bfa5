"""gunicorn's own log lines in Trousseau's format (deploy/gunicorn.conf.py sets this class).

JSON objects by default, as Django's lines in production; text lines when TROUSSEAU_LOG_FORMAT=text,
as Django's then are (settings.LOGGING). The access line carries the path with token-like segments
masked, never the query string or the Referer (both can hold codes and tokens), and the request id
the response echoes. This module runs in gunicorn's master too, so it imports nothing from Django
and reads the environment itself.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import Any

from gunicorn import glogging  # type: ignore[import-untyped]  # gunicorn ships no types

from trousseau.ops.logs import TEXT_FORMAT, json_formatter, mask_path, redact


def _text() -> bool:
    # gunicorn serves production, where Django's lines are JSON unless this says otherwise.
    return os.environ.get("TROUSSEAU_LOG_FORMAT", "json") == "text"


class JsonLogger(glogging.Logger):  # type: ignore[misc]
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self.text = _text()
        for handler in self.error_log.handlers:
            handler.setFormatter(logging.Formatter(TEXT_FORMAT) if self.text else json_formatter())
            handler.addFilter(_RedactAndMarkFilter())
        for handler in self.access_log.handlers:
            handler.setFormatter(logging.Formatter("%(message)s"))

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        headers = resp.headers.items() if hasattr(resp.headers, "items") else resp.headers
        request_id = next((value for name, value in headers if name.lower() == "x-request-id"), "-")
        line = {
            "time": datetime.now(UTC).isoformat(),
            "level": "INFO",
            "logger": "gunicorn.access",
            "message": "request",
            "request_id": request_id,
            "method": environ.get("REQUEST_METHOD", ""),
            "path": mask_path(environ.get("PATH_INFO", "")),
            "status": int(status),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 2),
            "remote": environ.get("REMOTE_ADDR", ""),
            "user_agent": environ.get("HTTP_USER_AGENT", "")[:200],
        }
        self._write(_as_text(line) if self.text else _ENCODE(line))

    def _write(self, message: str) -> None:
        """The line as `access_log.info(message)` would write it, through the same handlers.

        A line per request, in the worker's time: logging's record, its caller lookup and its handler
        chain cost more than building the line (about 0.1 ms of a request's CPU in a morning journey,
        issue #21). To gunicorn's own handler (stdout or a file: a plain StreamHandler) the line is written
        as StreamHandler.emit writes it: the message and the terminator, a flush, under the handler's
        lock. Any other handler, or one with a filter or a level above INFO, gets a record as before.
        """
        logger = self.access_log
        if not logger.isEnabledFor(logging.INFO):
            return
        if logger.filters:  # a filter on the logger itself: logging's own way, for every handler
            logger.handle(self._record(message))
            return
        record = None
        for handler in logger.handlers:
            # A stream of None: a file not opened yet (or closed, to be reopened), which logging's emit opens.
            plain = type(handler) in _PLAIN_STREAMS and getattr(handler, "stream", None) is not None
            if not plain or handler.filters or handler.level > logging.INFO:
                record = record or self._record(message)
                if record.levelno >= handler.level:
                    handler.handle(record)
                continue
            handler.acquire()
            try:
                # Read under the lock, as emit reads it: gunicorn's reopen_files swaps it under the same lock.
                handler.stream.write(message + handler.terminator)
                handler.stream.flush()
            except Exception:  # noqa: BLE001 - as logging's emit: a failing log line never fails the request
                handler.handleError(self._record(message))
            finally:
                handler.release()

    def _record(self, message: str) -> logging.LogRecord:
        logger: logging.Logger = self.access_log
        return logger.makeRecord(logger.name, logging.INFO, __file__, 0, message, (), None)


_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
# gunicorn's access handlers ("-", a file), whose emit `_write` does itself; not their subclasses.
_PLAIN_STREAMS = (logging.StreamHandler, logging.FileHandler)


def _as_text(line: dict[str, Any]) -> str:
    """The access line as TEXT_FORMAT lays out Django's, then the request's own fields."""
    return (
        f"{line['time']} {line['level']} {line['logger']} [{line['request_id']}] "
        f"{line['method']} {line['path']} {line['status']} {line['bytes']} B {line['duration_ms']} ms "
        f"{line['remote']} {json.dumps(line['user_agent'], ensure_ascii=False)}"
    )


class _RedactAndMarkFilter(logging.Filter):
    """gunicorn's error lines have no request: they get the same fields as Django's, masked the same way."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = "-"
        record.msg = redact(record.getMessage())
        record.args = ()
        return True
