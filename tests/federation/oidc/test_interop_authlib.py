"""Interop: Authlib's OAuth 2.0 client talks to the provider over real HTTP (PKCE S256, secret in Basic),
and Authlib's OIDC rules check the ID token (iss, aud, exp, iat, nonce, at_hash)."""

from __future__ import annotations

import secrets

import pytest
from authlib.integrations.requests_client import OAuth2Session  # type: ignore[import-untyped]
from authlib.oidc.core import CodeIDToken  # type: ignore[import-untyped]
from django.test import Client
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.federation.oidc.conftest import AUTHORIZE, JWKS, REDIRECT, TOKEN, USERINFO, register
from trousseau.accounts.models import Account
from trousseau.federation import claims
from trousseau.federation.oidc.metadata import issuer

pytestmark = pytest.mark.django_db(transaction=True)


def test_authlib_client_code_flow_over_http(live_server, browser: Client, account: Account):
    rp = register()
    nonce = secrets.token_urlsafe(16)
    verifier = secrets.token_urlsafe(48)
    with OAuth2Session(
        rp.client_id,
        rp.secret,
        scope="openid profile ect.scope.cnx",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
    ) as session:
        url, state = session.create_authorization_url(live_server.url + AUTHORIZE, code_verifier=verifier, nonce=nonce)
        # The logged-in browser follows the authorization URL and is sent back with a code.
        back = browser.get(url.removeprefix(live_server.url))
        assert back.status_code == 302
        callback = back["Location"]
        assert f"state={state}" in callback
        token = session.fetch_token(
            live_server.url + TOKEN, authorization_response=callback, code_verifier=verifier, state=state
        )
        info = session.get(live_server.url + USERINFO)
        assert info.status_code == 200
        keys = KeySet.import_key_set(session.get(live_server.url + JWKS).json())

    decoded = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    id_token = CodeIDToken(
        decoded.claims,
        decoded.header,
        options={"iss": {"essential": True, "value": issuer()}, "aud": {"essential": True, "value": rp.client_id}},
        params={"nonce": nonce, "client_id": rp.client_id, "access_token": token["access_token"]},
    )
    id_token.validate()
    assert id_token["sub"] == info.json()["sub"] == claims.pairwise_id(account, rp.client_id)
    assert info.json()["given_name"] == account.first_name
