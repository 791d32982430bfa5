"""The relying party's steps: authorization request, callback, token exchange, userinfo, logout URL."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from trousseau.franceconnect import http, keys, tokens
from trousseau.franceconnect.config import Config, config
from trousseau.franceconnect.errors import (
    CallbackRefused,
    ProviderRefusal,
    ProviderUnavailable,
    TokenRefused,
)

# FranceConnect asks for a nonce of 22 characters at least; 32 random bytes give 43.
RANDOM_BYTES = 32


@dataclass(frozen=True)
class Identity:
    """The person FranceConnect vouches for: the pivot identity, from the verified userinfo."""

    sub: str
    given_name: str
    family_name: str
    preferred_username: str
    birthdate: str
    gender: str
    birthplace: str
    birthcountry: str
    email: str
    id_token: str

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], *, id_token: str) -> Identity:
        def text(name: str) -> str:
            value = claims.get(name)
            return value.strip() if isinstance(value, str) else ""

        identity = cls(
            sub=text("sub"),
            given_name=text("given_name"),
            family_name=text("family_name"),
            preferred_username=text("preferred_username"),
            birthdate=text("birthdate"),
            gender=text("gender"),
            birthplace=text("birthplace"),
            birthcountry=text("birthcountry"),
            email=text("email"),
            id_token=id_token,
        )
        if not (identity.given_name and identity.family_name):
            raise TokenRefused("claims", "given_name and family_name are required")
        return identity


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    nonce: str


def _with_query(endpoint: str, params: dict[str, str]) -> str:
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"


def authorization_request() -> AuthorizationRequest:
    """Where to send the browser: code flow, eidas1, fresh `state` and `nonce`, "login consent"."""
    cfg = config()
    state, nonce = secrets.token_urlsafe(RANDOM_BYTES), secrets.token_urlsafe(RANDOM_BYTES)
    params = {
        "response_type": "code",
        "client_id": cfg.client_id,
        "redirect_uri": cfg.redirect_uri,
        "scope": cfg.scopes,
        "acr_values": cfg.acr_values,
        "state": state,
        "nonce": nonce,
        "prompt": "login consent",
    }
    return AuthorizationRequest(_with_query(keys.metadata(cfg)["authorization_endpoint"], params), state, nonce)


def check_callback(query: Mapping[str, str], *, expected_state: str | None) -> str:
    """The authorization code of a callback, once its `state` and `iss` are right.

    `expected_state` is the one this browser was sent with (None if it has none, or used it already:
    a replayed callback). An error callback (e.g. the person cancelled) raises ProviderRefusal.
    """
    cfg = config()
    state = query.get("state", "")
    if not expected_state or not hmac.compare_digest(state.encode(), expected_state.encode()):
        raise CallbackRefused("state")
    iss = query.get("iss")
    iss_announced = keys.metadata(cfg).get("authorization_response_iss_parameter_supported") is True
    if (iss is not None or iss_announced) and iss != cfg.issuer:  # RFC 9207
        raise CallbackRefused("iss", str(iss))
    if query.get("error"):
        raise ProviderRefusal(query["error"][:64], query.get("error_description", "")[:200])
    code = query.get("code", "")
    if not code:
        raise CallbackRefused("code")
    return code


def _exchange(cfg: Config, code: str) -> tuple[str, str]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": cfg.redirect_uri,
        "client_id": cfg.client_id,
        "client_secret": cfg.client_secret,
    }
    response = http.request(keys.metadata(cfg)["token_endpoint"], timeout=cfg.timeout, form=form)
    if response.status == 400:  # noqa: PLR2004 - invalid_grant: the code is expired, replayed or not ours
        raise TokenRefused("code", str(response.json().get("error", "")))
    if response.status != 200:  # noqa: PLR2004
        raise ProviderUnavailable("token", f"HTTP {response.status}")
    data = response.json()
    id_token, access_token = data.get("id_token"), data.get("access_token")
    if str(data.get("token_type", "")).lower() != "bearer" or not isinstance(access_token, str) or not access_token:
        raise TokenRefused("token_response", "no bearer access token")
    if not isinstance(id_token, str) or not id_token:
        raise TokenRefused("token_response", "no id_token")
    return id_token, access_token


def _userinfo(cfg: Config, access_token: str, *, sub: str) -> dict[str, Any]:
    """Userinfo right after the token (FranceConnect: "dans la suite immédiate"), as a signed JWT."""
    endpoint = keys.metadata(cfg)["userinfo_endpoint"]
    response = http.request(endpoint, timeout=cfg.timeout, headers={"Authorization": f"Bearer {access_token}"})
    if response.status != 200:  # noqa: PLR2004
        raise ProviderUnavailable("userinfo", f"HTTP {response.status}")
    if response.content_type != "application/jwt":
        raise TokenRefused("userinfo_not_jwt", response.content_type)
    return tokens.verify_userinfo(response.body.decode("ascii", "replace").strip(), cfg, sub=sub)


def complete(query: Mapping[str, str], *, expected_state: str | None, nonce: str) -> Identity:
    """The whole callback: state and iss, code for tokens, ID token, userinfo; the verified Identity."""
    code = check_callback(query, expected_state=expected_state)
    cfg = config()
    id_token, access_token = _exchange(cfg, code)
    claims = tokens.verify_id_token(id_token, cfg, nonce=nonce, access_token=access_token)
    return Identity.from_claims(_userinfo(cfg, access_token, sub=claims["sub"]), id_token=id_token)


def logout_url(*, id_token: str, state: str) -> str:
    """FranceConnect's /session/end with the ID token as hint and our registered return address."""
    cfg = config()
    params = {"id_token_hint": id_token, "state": state, "post_logout_redirect_uri": cfg.post_logout_redirect_uri}
    return _with_query(keys.metadata(cfg)["end_session_endpoint"], params)
