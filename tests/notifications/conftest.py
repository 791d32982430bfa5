from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests.notifications.fake_gateway import FakeGateway


@pytest.fixture
def gateway(monkeypatch):
    # A proxy from the environment must not stand between the client and the local fake.
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    server = FakeGateway()
    server.start()
    yield server
    server.stop()


class Clock:
    """`timezone.now()` under the test's control, so retries come due without sleeping."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now: datetime = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def http_gateway(settings, gateway):
    """SMS go to the generic HTTP gateway backend, pointed at the fake."""
    settings.SMS_BACKEND = "trousseau.notifications.backends.http_gateway.HttpGatewaySmsBackend"
    settings.SMS_HTTP_URL = f"{gateway.url}/api/sms"
    settings.SMS_HTTP_AUTH_HEADER = "Authorization: Bearer s3cret-token"
    settings.SMS_HTTP_BODY_TEMPLATE = '{"to": "{to}", "text": "{body}", "from": "{sender}"}'
    settings.SMS_SENDER = "TROUSSEAU"
    settings.SMS_HTTP_TIMEOUT = 5
    return gateway


@pytest.fixture
def smsmode(settings, gateway):
    """SMS go to the SMSmode backend, its base URL pointed at the fake."""
    settings.SMS_BACKEND = "trousseau.notifications.backends.smsmode.SmsModeSmsBackend"
    settings.SMSMODE_BASE_URL = gateway.url
    settings.SMSMODE_API_KEY = "smsmode-key-123"
    settings.SMS_SENDER = "COLLEGE"
    settings.SMS_HTTP_TIMEOUT = 5
    return gateway
