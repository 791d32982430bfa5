"""A relying party's view of the provider: registered clients, PKCE, and checks with joserfc."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.federation.conftest import active_guardian
from trousseau.accounts.models import Account
from trousseau.federation.oidc.services import Registration, register_client

AUTHORIZE = "/idp/profile/oidc/authorize"
TOKEN = "/idp/profile/oidc/token"
USERINFO = "/idp/profile/oidc/userinfo"
JWKS = "/idp/profile/oidc/keyset"
LOGOUT = "/idp/profile/oidc/logout"
REDIRECT = "https://rp.example/cb"
AFTER_LOGOUT = "https://rp.example/bye"


@dataclass
class RP:
    """A registered client and what it needs to run the code flow."""

    registration: Registration
    redirect_uri: str = REDIRECT

    @property
    def client_id(self) -> str:
        return str(self.registration.application.client_id)

    @property
    def secret(self) -> str | None:
        return self.registration.client_secret


def register(**kw: Any) -> RP:
    options: dict[str, Any] = {
        "name": "Pronote démo",
        "redirect_uris": [REDIRECT],
        "post_logout_redirect_uris": [AFTER_LOGOUT],
    }
    options.update(kw)
    return RP(register_client(**options))


@pytest.fixture
def rp(db) -> RP:
    return register()


@pytest.fixture
def account(db) -> Account:
    return active_guardian()


@pytest.fixture
def browser(account: Account) -> Client:
    """A browser logged in to Trousseau (as after the mire)."""
    client = Client()
    client.force_login(account, backend="trousseau.accounts.backends.AccountBackend")
    # A login through the mire writes last_login (accounts.sessions.session_open, Django's receiver is off):
    # FrEduCtDateConnexion is released from it.
    Account.objects.filter(pk=account.pk).update(last_login=timezone.now())
    return client


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def authorize(browser: Client, rp: RP, *, challenge: str | None, **extra: str):
    params = {
        "response_type": "code",
        "client_id": rp.client_id,
        "redirect_uri": rp.redirect_uri,
        "scope": "openid profile ect.scope.cnx",
        "state": "st-123",
        "nonce": "n-456",
        **extra,
    }
    if challenge is not None:
        params.setdefault("code_challenge", challenge)
        params.setdefault("code_challenge_method", "S256")
    return browser.get(AUTHORIZE, params)


def code_for(browser: Client, rp: RP, challenge: str | None, **extra: str) -> str:
    response = authorize(browser, rp, challenge=challenge, **extra)
    assert response.status_code == 302, response.content
    params = query_of(response["Location"])
    assert "code" in params, params
    return params["code"]


def redeem(rp: RP, code: str, verifier: str | None, *, secret: str | None = None, **extra: str):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": rp.redirect_uri,
        "client_id": rp.client_id,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    chosen = secret if secret is not None else rp.secret
    if chosen:
        data["client_secret"] = chosen
    data.update(extra)
    return Client().post(TOKEN, data)


def refresh(rp: RP, refresh_token: str):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": rp.client_id}
    if rp.secret:
        data["client_secret"] = rp.secret
    return Client().post(TOKEN, data)


def userinfo(access_token: str):
    return Client().get(USERINFO, headers={"Authorization": f"Bearer {access_token}"})


def tokens(browser: Client, rp: RP, **extra: str) -> dict[str, Any]:
    verifier, challenge = pkce()
    response = redeem(rp, code_for(browser, rp, challenge, **extra), verifier)
    assert response.status_code == 200, response.content
    return dict(response.json())


def follow_local(client: Client, response):
    """Follow redirects inside Trousseau (the federated logout chain); stop at a page or another site."""
    while response.status_code in {301, 302, 303} and response["Location"].startswith("/"):
        response = client.get(response["Location"])
    return response


def jwks() -> KeySet:
    return KeySet.import_key_set(Client().get(JWKS).json())


def verify(token: str, *, typ: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a JWT checked against the published keys (RS256 only)."""
    decoded = jwt.decode(token, jwks(), algorithms=["RS256"])
    if typ is not None:
        assert decoded.header.get("typ") == typ
    return decoded.header, decoded.claims


@dataclass
class Receiver:
    """A client's back-channel logout endpoint on a local port."""

    status: int = 200
    bodies: list[dict[str, list[str]]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def uri(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/backchannel"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                receiver.bodies.append(parse_qs(self.rfile.read(length).decode()))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()
