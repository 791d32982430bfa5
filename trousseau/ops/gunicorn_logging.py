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
        message = _as_text(line) if self.text else _ENCODE(line)
        # The record made here rather than by .info(): logging would look up the caller's frame for a line
        # that has no use of it, the larger part of this method's cost. Level, filters and handlers are kept.
        logger = self.access_log
        if logger.isEnabledFor(logging.INFO):
            logger.handle(logger.makeRecord(logger.name, logging.INFO, __file__, 0, message, (), None))


_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


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
