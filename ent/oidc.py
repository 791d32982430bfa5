"""The Pronote-like site as an OpenID Connect relying party, on Authlib's client (not Trousseau's library).

Authlib does the protocol: discovery, the authorization URL (state, nonce, PKCE S256), the code
exchange (client_secret_basic), the ID token's signature against the provider's JWKS (fetched again
once for an unknown `kid`: key rotation) and its claims (iss, aud, exp, iat, nonce, at_hash),
UserInfo, and the RP-initiated logout URL. This module keeps what Authlib's framework integrations
keep in a web session (state, nonce, verifier), and adds what Authlib leaves to the application:
the issuer of the discovery document, the `iss` of the authorization response (RFC 9207), the
UserInfo `sub`, and back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0), checked with
joserfc, the JOSE library Authlib itself uses.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.base_client import (  # type: ignore[import-untyped]
    BaseApp,
    OAuth2Mixin,
    OAuthError,
    OpenIDMixin,
)
from authlib.integrations.requests_client import OAuth2Session  # type: ignore[import-untyped]
from joserfc import jws, jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from ent.config import Config

log = logging.getLogger("ent.oidc")

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
HTTP_TIMEOUT = 10  # seconds, for every call to the provider
LEEWAY = 60  # seconds of clock skew accepted on exp, iat, nbf
DEFAULT_ALGORITHMS = ["RS256"]


class Refused(Exception):
    """An answer the relying party will not act on; `reason` is for the log, `error` the OAuth error code."""

    def __init__(self, reason: str, *, error: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error


class Unavailable(Exception):
    """The provider could not be reached, or its discovery document is unusable."""


@dataclass(frozen=True)
class Authorization:
    """An authorization request on its way: where to send the browser, and what to keep until it is back."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class OidcLogin:
    """What a successful code flow gave: the verified ID token, and UserInfo's claims over it."""

    issuer: str
    sub: str
    sid: str
    id_token: str  # kept for `id_token_hint` at logout
    algorithm: str
    key_id: str
    scope: str
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LogoutToken:
    sub: str
    sid: str
    jti: str
    expires_at: float


class _Integration:
    """Authlib's framework integrations keep state and tokens in a framework's session; the site does here."""

    def __init__(self, name: str) -> None:
        self.name = name

    def update_token(
        self, token: dict[str, Any], refresh_token: str | None = None, access_token: str | None = None
    ) -> None:
        return None  # no refresh: the site's session lasts no longer than the SSO session


class _Client(OAuth2Mixin, OpenIDMixin, BaseApp):  # type: ignore[misc]
    """Authlib's OpenID Connect client on `requests`, as its Flask and Django integrations build it."""

    client_cls = OAuth2Session


class RelyingParty:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.issuer = config.oidc_issuer
        self.client = _Client(
            _Integration("trousseau"),
            name="trousseau",
            client_id=config.oidc_client_id,
            client_secret=config.oidc_client_secret,
            server_metadata_url=f"{self.issuer}/.well-known/openid-configuration",
            client_kwargs={
                "scope": config.oidc_scopes,
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": "client_secret_basic",
                "default_timeout": HTTP_TIMEOUT,
            },
        )

    # --- Discovery ----------------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (fetched once, then kept), checked against the issuer."""
        try:
            metadata: dict[str, Any] = self.client.load_server_metadata()
        except (OSError, ValueError) as error:  # requests' errors are OSErrors
            raise Unavailable(f"discovery at {self.issuer}: {error}") from error
        if metadata.get("issuer") != self.issuer:
            # OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
            self.client.server_metadata.clear()
            raise Unavailable(f"discovery names the issuer {metadata.get('issuer')!r}, not {self.issuer!r}")
        if "S256" not in metadata.get("code_challenge_methods_supported", []):
            raise Unavailable("the provider does not offer PKCE with S256")
        return metadata

    def _keys(self, *, refresh: bool = False) -> KeySet:
        try:
            return KeySet.import_key_set(self.client.fetch_jwk_set(force=refresh))
        except (OSError, ValueError) as error:
            raise Unavailable(f"JWKS: {error}") from error

    # --- Login --------------------------------------------------------------------------------

    def start(self) -> Authorization:
        """An authorization request: Authlib makes state, nonce and the PKCE verifier (S256)."""
        self.metadata()
        made = self.client.create_authorization_url(redirect_uri=self.config.redirect_uri)
        return Authorization(made["url"], made["state"], made["nonce"], made["code_verifier"])

    def finish(self, params: dict[str, str], *, nonce: str, code_verifier: str) -> OidcLogin:
        """The browser came back to the redirect URI with `params` (its state already matched)."""
        metadata = self.metadata()
        # RFC 9207: the response names its issuer, so a response from another provider is not taken for one.
        if (metadata.get("authorization_response_iss_parameter_supported") or "iss" in params) and params.get(
            "iss"
        ) != self.issuer:
            raise Refused(f"authorization response from {params.get('iss')!r}, not {self.issuer!r}")
        if "error" in params:
            raise Refused(
                f"authorization error {params['error']}: {params.get('error_description', '')}", error=params["error"]
            )
        if not params.get("code"):
            raise Refused("authorization response without a code")
        try:
            token = self.client.fetch_access_token(
                redirect_uri=self.config.redirect_uri, code=params["code"], code_verifier=code_verifier
            )
        except OAuthError as error:
            raise Refused(f"token endpoint: {error.error} {error.description or ''}", error=error.error) from error
        except (OSError, ValueError) as error:
            raise Unavailable(f"token endpoint: {error}") from error
        if "id_token" not in token:
            raise Refused("the token response has no ID token")
        id_token = self._verify_id_token(token, nonce)
        try:
            userinfo = dict(self.client.userinfo(token=token))
        except (OSError, ValueError) as error:
            raise Unavailable(f"UserInfo: {error}") from error
        if userinfo.get("sub") != id_token["sub"]:
            # OpenID Connect Core §5.3.2: UserInfo about someone else must not be used.
            raise Refused("the UserInfo sub is not the ID token's")
        header = jws.extract_compact(str(token["id_token"]).encode()).headers()
        return OidcLogin(
            issuer=self.issuer,
            sub=str(id_token["sub"]),
            sid=str(id_token.get("sid", "")),
            id_token=str(token["id_token"]),
            algorithm=str(header.get("alg", "")),
            key_id=str(header.get("kid", "")),
            scope=str(token.get("scope", self.config.oidc_scopes)),
            claims={**id_token, **userinfo},
        )

    def _verify_id_token(self, token: dict[str, Any], nonce: str) -> dict[str, Any]:
        options = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": self.config.oidc_client_id},
            "sub": {"essential": True},
            "exp": {"essential": True},
            "iat": {"essential": True},
            "nonce": {"essential": True, "value": nonce},
        }
        try:
            claims = self.client.parse_id_token(token, nonce=nonce, claims_options=options, leeway=LEEWAY)
        except JoseError as error:
            raise Refused(f"ID token refused: {error}") from error
        except (OSError, ValueError) as error:
            raise Unavailable(f"JWKS: {error}") from error
        return dict(claims)

    # --- Logout -------------------------------------------------------------------------------

    def logout_url(self, id_token: str, state: str) -> str:
        """RP-initiated logout at the provider, back to the registered post-logout URI with `state`."""
        made = self.client.create_logout_url(
            post_logout_redirect_uri=self.config.post_logout_uri,
            id_token_hint=id_token,
            state=state,
            client_id=self.config.oidc_client_id,
        )
        return str(made["url"])

    def logout_token(self, raw: str) -> LogoutToken:
        """A back-channel logout token (Back-Channel Logout 1.0 §2.6), or Refused."""
        metadata = self.metadata()
        algorithms = metadata.get("id_token_signing_alg_values_supported") or DEFAULT_ALGORITHMS
        try:
            try:
                token = jwt.decode(raw, self._keys(), algorithms=algorithms)
            except InvalidKeyIdError:  # a key made since the JWKS was fetched
                token = jwt.decode(raw, self._keys(refresh=True), algorithms=algorithms)
            if token.header.get("typ") != "logout+jwt":
                raise Refused(f"logout token typed {token.header.get('typ')!r}, not 'logout+jwt'")
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.config.oidc_client_id},
                iat={"essential": True},
                exp={"essential": True},
                jti={"essential": True},
            ).validate(token.claims)
        except (JoseError, ValueError) as error:
            raise Refused(f"logout token refused: {error}") from error
        claims = token.claims
        events = claims.get("events")
        if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
            raise Refused("the logout token has no back-channel logout event")
        if "nonce" in claims:
            raise Refused("a logout token must not carry a nonce")
        sub, sid = claims.get("sub", ""), claims.get("sid", "")
        if not (isinstance(sub, str) and isinstance(sid, str)) or not (sub or sid):
            raise Refused("the logout token names neither sub nor sid")
        return LogoutToken(sub=sub, sid=sid, jti=str(claims["jti"]), expires_at=float(claims.get("exp", time.time())))
