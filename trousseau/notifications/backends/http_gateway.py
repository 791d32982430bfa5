"""A generic HTTP SMS gateway: a URL, one auth header and a JSON body template, all from settings.

The template is a JSON document whose strings may hold `{to}` (E.164, "+33612345678"), `{to_digits}`
(the same without "+"), `{body}` and `{sender}`, for example
`{"to": "{to}", "text": "{body}", "from": "{sender}"}`. It is parsed once as JSON and placeholders are
replaced inside the parsed strings, then the document is encoded again: a quote, a backslash or a
newline in a message can never break out of its string or add a field.
"""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from trousseau.notifications.backends.base import JsonValue, checked_url, e164, post_json

PLACEHOLDER = re.compile(r"\{(to|to_digits|body|sender)\}")
# RFC 9110 token: what a header name may be made of.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def parse_auth_header(line: str) -> dict[str, str]:
    """ "Authorization: Bearer abc" → {"Authorization": "Bearer abc"}; "" → no header."""
    if not line.strip():
        return {}
    name, sep, value = line.partition(":")
    name, value = name.strip(), value.strip()
    # A CR or LF would let the setting smuggle extra headers; urllib would refuse it anyway, but late.
    if not sep or not HEADER_NAME.fullmatch(name) or not value or any(c in value for c in "\r\n"):
        raise ImproperlyConfigured('SMS_HTTP_AUTH_HEADER must look like "Name: value"')
    return {name: value}


def parse_body_template(template: str) -> JsonValue:
    try:
        parsed: JsonValue = json.loads(template)
    except ValueError as exc:
        msg = 'SMS_HTTP_BODY_TEMPLATE must be JSON with placeholders inside strings, e.g. {"text": "{body}"}'
        raise ImproperlyConfigured(msg) from exc
    return parsed


def fill(node: JsonValue, values: dict[str, str]) -> JsonValue:
    """The template with placeholders replaced in every string (keys included), in one pass per string.

    One pass matters: a message that itself contains "{sender}" is sent as written.
    """
    if isinstance(node, str):
        return PLACEHOLDER.sub(lambda match: values[match.group(1)], node)
    if isinstance(node, list):
        return [fill(item, values) for item in node]
    if isinstance(node, dict):
        return {str(fill(key, values)): fill(value, values) for key, value in node.items()}
    return node


class HttpGatewaySmsBackend:
    """Any gateway that takes one JSON POST per message and answers 2xx when it accepted it."""

    def __init__(
        self,
        *,
        url: str | None = None,
        auth_header: str | None = None,
        body_template: str | None = None,
        sender: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.url = checked_url(url if url is not None else settings.SMS_HTTP_URL, setting="SMS_HTTP_URL")
        self.headers = parse_auth_header(auth_header if auth_header is not None else settings.SMS_HTTP_AUTH_HEADER)
        self.template = parse_body_template(
            body_template if body_template is not None else settings.SMS_HTTP_BODY_TEMPLATE
        )
        self.sender = sender if sender is not None else settings.SMS_SENDER
        self.timeout = timeout if timeout is not None else settings.SMS_HTTP_TIMEOUT

    def send(self, *, to: str, body: str) -> None:
        number = e164(to)
        values = {"to": number, "to_digits": number.removeprefix("+"), "body": body, "sender": self.sender}
        post_json(self.url, fill(self.template, values), headers=self.headers, timeout=self.timeout)
