"""gunicorn's own log lines as JSON objects, like Trousseau's (deploy/gunicorn.conf.py sets this class).

The access line carries the path with token-like segments masked, never the query string or the
Referer (both can hold codes and tokens), and the request id the response echoes. This module runs in
gunicorn's master too, so it imports nothing from Django.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from gunicorn import glogging  # type: ignore[import-untyped]  # gunicorn ships no types

from trousseau.ops.logs import json_formatter, mask_path, redact


class JsonLogger(glogging.Logger):  # type: ignore[misc]
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(json_formatter())
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
        self.access_log.info("%s", json.dumps(line, ensure_ascii=False))


class _RedactAndMarkFilter(logging.Filter):
    """gunicorn's error lines have no request: they get the same fields as Django's, masked the same way."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = "-"
        record.msg = redact(record.getMessage())
        record.args = ()
        return True
