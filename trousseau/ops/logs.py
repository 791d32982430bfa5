"""Log lines for operators: one JSON object per line, with the request id, and no personal data.

`settings.LOGGING` puts both filters on the console handler, so every record that reaches it, from
Trousseau, Django or a library, carries `request_id` and has its message (and traceback) redacted.
"""

from __future__ import annotations

import logging
import re
import traceback
from contextvars import ContextVar

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

NO_REQUEST = "-"
request_id: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)

# E.164 numbers (+33612345678), French national numbers (06 12 34 56 78) and email addresses.
_E164 = re.compile(r"\+[1-9]\d{6,14}\b")
_NATIONAL_PHONE = re.compile(r"(?<![\w+-])0[1-9](?:[ .-]?\d{2}){4}(?![\w-])")
_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
# A path segment that looks like a token (email verification, password reset links): 20+ characters
# mixing letters and digits, not a UUID (flow ids are bound to a browser, and useful to follow a journey).
_PATH_TOKEN = re.compile(r"(?<=/)(?=[\w:.-]*\d)(?=[\w:.-]*[A-Za-z])[\w:.-]{20,}(?=/|\?|\s|$)")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PHONE_MASK = "[téléphone]"
EMAIL_MASK = "[email]"
TOKEN_MASK = "[jeton]"  # noqa: S105 - what replaces a token, not one


def _mask_token(match: re.Match[str]) -> str:
    return match.group(0) if _UUID.fullmatch(match.group(0)) else TOKEN_MASK


def mask_path(path: str) -> str:
    return _PATH_TOKEN.sub(_mask_token, path)


def redact(text: str) -> str:
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _E164.sub(PHONE_MASK, text)
    text = _NATIONAL_PHONE.sub(PHONE_MASK, text)
    return mask_path(text) if "/" in text else text


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class RedactFilter(logging.Filter):
    """Masks phone numbers and email addresses in the message and the traceback.

    Passwords, codes and tokens have no shape a pattern could find: the code never logs them (they are
    not in messages, and the access log carries no query string and masks token-like path segments).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        if record.exc_info:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
            record.exc_info = None
        return True


# TROUSSEAU_LOG_FORMAT=text: for a person reading a terminal (settings.LOGGING, gunicorn's lines).
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def json_formatter() -> logging.Formatter:
    """time, level, logger, message, request_id (and exc_info on errors), one object per line."""
    return JsonFormatter(
        "{levelname}{name}{message}{request_id}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
        # Django's request logger passes the request itself: its repr holds the query string.
        reserved_attrs=[*RESERVED_ATTRS, "request"],
        json_ensure_ascii=False,
    )
