"""The characterisation's requests and how their answers are read: parameters, the browser, the redirect back."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.test import Client

from tests.federation.oidc.conftest import AUTHORIZE, REDIRECT, RP
from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent

CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
BASE = [
    ("response_type", "code"),
    ("client_id", "@"),  # the client's id, filled in
    ("redirect_uri", REDIRECT),
    ("scope", "openid profile"),
    ("state", "st"),
    ("nonce", "n"),
    ("code_challenge", CHALLENGE),
    ("code_challenge_method", "S256"),
]
CODE = "<code>"


def params(*, drop: tuple[str, ...] = (), extra: tuple[tuple[str, str], ...] = (), **replaced: str):
    kept = [(name, value) for name, value in BASE if name not in drop and name not in replaced]
    return [*kept, *replaced.items(), *extra]


def ask(browser: Client, rp: RP, pairs: list[tuple[str, str]]):
    filled = [(name, rp.client_id if value == "@" else value) for name, value in pairs]
    return browser.get(AUTHORIZE + "?" + urlencode(filled))


def sent_back(response, to: str = REDIRECT) -> list[tuple[str, str]]:
    """The parameters of a redirect to the client (the code replaced by CODE), after checking where it goes."""
    assert response.status_code == 302, response.content
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == to
    assert not location.fragment
    pairs = parse_qsl(location.query, keep_blank_values=True)
    return [(name, CODE if name == "code" else value) for name, value in pairs]


def refusals() -> list[str]:
    return [event.data["error"] for event in AuditEvent.objects.filter(tag=EventTag.OIDC_REFUSED)]


@pytest.fixture
def browser(account: Account) -> Client:
    client = Client()
    client.force_login(account, backend="trousseau.accounts.backends.AccountBackend")
    return client


ISS = ("iss", "http://127.0.0.1:8000")


def error_params(error: str, description: str | None = None, state: str | None = "st") -> list[tuple[str, str]]:
    answer = [("error", error)]
    if description:
        answer.append(("error_description", description))
    if state:
        answer.append(("state", state))
    return [*answer, ISS]
