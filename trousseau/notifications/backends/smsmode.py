"""SMSmode, a French SMS provider that schools and local authorities use (API "sms/v1").

POST {base}/sms/v1/messages, header `X-Api-Key`, body
`{"recipient": {"to": "33612345678"}, "body": {"text": "..."}, "from": "SENDER"}`; 201 when accepted.
SMSmode writes numbers in international format without "+".
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from trousseau.notifications.backends.base import JsonValue, checked_url, e164, post_json


class SmsModeSmsBackend:
    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        sender: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.api_key = api_key if api_key is not None else settings.SMSMODE_API_KEY
        if not self.api_key or any(c in self.api_key for c in "\r\n"):
            raise ImproperlyConfigured("SMSMODE_API_KEY is required to send SMS through SMSmode")
        base = base_url if base_url is not None else settings.SMSMODE_BASE_URL
        self.url = checked_url(base.rstrip("/") + "/sms/v1/messages", setting="SMSMODE_BASE_URL")
        self.sender = sender if sender is not None else settings.SMS_SENDER
        self.timeout = timeout if timeout is not None else settings.SMS_HTTP_TIMEOUT

    def send(self, *, to: str, body: str) -> None:
        payload: dict[str, JsonValue] = {
            "recipient": {"to": e164(to).removeprefix("+")},
            "body": {"text": body},
        }
        # Without "from", SMSmode uses the account's default sender.
        if self.sender:
            payload["from"] = self.sender
        post_json(self.url, payload, headers={"X-Api-Key": self.api_key}, timeout=self.timeout)
