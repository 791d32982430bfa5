"""A small OpenID provider shaped like Trousseau's, for the Pronote-like site's own tests.

A real HTTP server on 127.0.0.1 (Authlib's client calls it through `requests`), serving discovery,
JWKS, token and UserInfo at ÉduConnect's paths, with tokens signed here by joserfc. It checks what
the client must send (client_secret_basic, the code, redirect_uri, the PKCE S256 verifier) and
each test spoils one thing (the ID token's claims or key, UserInfo, the discovery document).
The authorization endpoint is played by the test: `authorize()` reads the client's request and
gives back the redirect a provider would make. The interop with Trousseau itself is in
tests/browser/test_three_services.py.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

from ent.config import DEMO_OIDC_CLIENT_ID, DEMO_OIDC_CLIENT_SECRET

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
GUARDIAN_CLAIMS: dict[str, Any] = {
    "given_name": "Aïcha",
    "family_name": "MARTIN",
    "FrEduCtId": "a" * 96,
    "FrEduCtPersonAffiliation": ["resp2d"],
    # The guardian's own PERSONNE_IDs, grouped across two académies (issue #18): never a child's vector.
    "FrEduCtRefId": ["{ECT}" + "a" * 96, "{AAF}18|AC2D|1815002", "{AAF}24|AC2D|2400417"],
    "children": [
        {"id": "b" * 96, "family_name": "MARTIN", "given_name": "Léo", "school_uai": "0450001A"},
        {"id": "c" * 96, "family_name": "MARTIN", "given_name": "Inès", "school_uai": "0450002B"},
    ],
}


@functools.cache
def rsa_key(kid: str) -> RSAKey:
    """RSA keys are slow to make: one per kid for the whole run."""
    return RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"})


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass
class FakeOP:
    """Knobs a test turns: `id_token_claims`/`id_token_key`/`id_token_header` change the next ID
    token, `userinfo_claims` the UserInfo, `discovery_overrides` the discovery document."""

    sub: str = "0123456789abcdef0123456789abcdef"
    sid: str = field(default_factory=lambda: uuid.uuid4().hex)
    claims: dict[str, Any] = field(default_factory=lambda: dict(GUARDIAN_CLAIMS))
    id_token_claims: dict[str, Any] = field(default_factory=dict)
    id_token_key: RSAKey | None = None
    id_token_header: dict[str, Any] = field(default_factory=dict)
    userinfo_claims: dict[str, Any] = field(default_factory=dict)
    discovery_overrides: dict[str, Any] = field(default_factory=dict)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    _codes: dict[str, dict[str, str]] = field(default_factory=dict)
    _access: dict[str, str] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None

    @property
    def key(self) -> RSAKey:
        return rsa_key("trousseau-current")

    @property
    def issuer(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}"

    def discovery(self) -> dict[str, Any]:
        base = self.issuer + "/idp/profile/oidc"
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/keyset",
            "end_session_endpoint": f"{base}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
            "backchannel_logout_supported": True,
            **self.discovery_overrides,
        }

    # --- The authorization endpoint, played by the test ---------------------------------------

    def authorize(self, url: str, *, iss: str | None = None) -> tuple[dict[str, str], str]:
        """The client's request (its query), and the callback URL path with a fresh code."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        code = secrets.token_urlsafe(16)
        self._codes[code] = query
        answer = {"code": code, "state": query["state"], "iss": self.issuer if iss is None else iss}
        if iss == "":
            del answer["iss"]
        return query, "/auth/oidc/callback?" + urlencode(answer)

    # --- Tokens -------------------------------------------------------------------------------

    def sign(self, claims: dict[str, Any], *, key: RSAKey | None = None, header: dict[str, Any] | None = None) -> str:
        key = key or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid, **(header or {})}, claims, key)

    def id_token(self, request: dict[str, str], access_token: str) -> str:
        now = int(time.time())
        digest = hashlib.sha256(access_token.encode()).digest()[:16]
        claims = {
            "iss": self.issuer,
            "sub": self.sub,
            "aud": request["client_id"],
            "iat": now,
            "exp": now + 600,
            "auth_time": now,
            "nonce": request.get("nonce"),
            "at_hash": base64.urlsafe_b64encode(digest).rstrip(b"=").decode(),
            "sid": self.sid,
            **self.claims,
            **self.id_token_claims,
        }
        return self.sign(
            {k: v for k, v in claims.items() if v is not None}, key=self.id_token_key, header=self.id_token_header
        )

    def logout_token(self, *, header: dict[str, Any] | None = None, **changes: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": DEMO_OIDC_CLIENT_ID,
            "iat": now,
            "exp": now + 120,
            "jti": uuid.uuid4().hex,
            "events": {BACKCHANNEL_EVENT: {}},
            "sub": self.sub,
            "sid": self.sid,
            **changes,
        }
        return self.sign(
            {k: v for k, v in claims.items() if v is not None}, header={"typ": "logout+jwt", **(header or {})}
        )

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        self.token_requests.append({"form": form, "authorization": authorization})
        expected = "Basic " + base64.b64encode(f"{DEMO_OIDC_CLIENT_ID}:{DEMO_OIDC_CLIENT_SECRET}".encode()).decode()
        if authorization != expected:
            return 401, {"error": "invalid_client"}
        request = self._codes.pop(form.get("code", ""), None)
        if request is None or form.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant"}
        if form.get("redirect_uri") != request["redirect_uri"]:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri"}
        if request.get("code_challenge_method") != "S256" or s256(form.get("code_verifier", "")) != request.get(
            "code_challenge"
        ):
            return 400, {"error": "invalid_grant", "error_description": "PKCE"}
        access_token = secrets.token_urlsafe(24)
        self._access[access_token] = request["scope"]
        return 200, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 600,
            "scope": request["scope"],
            "id_token": self.id_token(request, access_token),
        }

    def userinfo(self, authorization: str) -> tuple[int, dict[str, Any]]:
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or token not in self._access:
            return 401, {"error": "invalid_token"}
        return 200, {"sub": self.sub, **self.claims, **self.userinfo_claims}

    # --- HTTP ---------------------------------------------------------------------------------

    def start(self) -> FakeOP:
        op = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path == "/.well-known/openid-configuration":
                    self.reply(200, op.discovery())
                elif path == "/idp/profile/oidc/keyset":
                    self.reply(200, {"keys": [op.key.as_dict(private=False)]})
                elif path == "/idp/profile/oidc/userinfo":
                    self.reply(*op.userinfo(self.headers.get("Authorization", "")))
                else:
                    self.reply(404, {"error": "not_found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlsplit(self.path).path == "/idp/profile/oidc/token":
                    self.reply(*op.token(form, self.headers.get("Authorization", "")))
                else:
                    self.reply(404, {"error": "not_found"})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
