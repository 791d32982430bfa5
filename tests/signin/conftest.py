"""FranceConnect as tests meet it: a fake provider in-process, switched on in the settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from tests.signin.fake_op import CLIENT_ID, CLIENT_SECRET, FakeOP


@pytest.fixture
def op() -> Iterator[FakeOP]:
    fake = FakeOP().start()
    yield fake
    fake.stop()


@pytest.fixture
def fc(settings, op: FakeOP) -> FakeOP:
    """FranceConnect switched on and pointed at the fake provider."""
    settings.FRANCECONNECT_ENABLED = True
    settings.FRANCECONNECT_BASE_URL = op.issuer
    settings.FRANCECONNECT_CLIENT_ID = CLIENT_ID
    settings.FRANCECONNECT_CLIENT_SECRET = CLIENT_SECRET
    settings.FRANCECONNECT_SIGNING_ALG = "ES256"
    settings.PUBLIC_URL = "http://testserver"
    return op


def back_from_franceconnect(client: Client, op: FakeOP, **changes: str | None):
    """Press the button, "log in" at the fake provider, follow its redirect back (with `changes`)."""
    start = client.get(reverse("flows:franceconnect"))
    assert start.status_code == 302, start.status_code
    params = {**op.authorize(start["Location"]), **changes}
    return client.get(reverse("flows:franceconnect_callback"), {k: v for k, v in params.items() if v is not None})
