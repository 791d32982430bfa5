"""An in-process FranceConnect-shaped OpenID provider for the relying party's unit tests.

A real HTTP server on 127.0.0.1 (the client's urllib calls go through the network stack) serving
discovery, JWKS, token and JWT userinfo under /api/v2, with tokens signed by keys made here. Each test
breaks exactly one rule by changing one knob: the claims or header of the next ID token, the userinfo,
the published keys, the token endpoint's answer.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

CLIENT_ID = "b" * 64
CLIENT_SECRET = "s3cret-of-the-trousseau-client-at-the-fake-op-0123456789"
SUB = hashlib.sha256(b"sophie").hexdigest() + "v1"
IDENTITY = {
    "given_name": "Sophie Marie",
    "given_name_array": ["Sophie", "Marie"],
    "family_name": "DUPONT",
    "preferred_username": "",
    "birthdate": "1984-03-12",
    "gender": "female",
    "birthplace": "14118",
    "birthcountry": "99100",
    "email": "sophie@franceconnect.test",
}


@functools.cache
def _rsa_key() -> RSAKey:
    """RSA keys are slow to make: one for the whole run is enough."""
    return RSAKey.generate_key(2048, parameters={"kid": "pkcs11:RS256:hsm", "alg": "RS256", "use": "sig"})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A compact JWS made by hand: for `alg: none` and for forged signatures."""
    return ".".join([b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(signature)])


def at_hash(access_token: str) -> str:
    return b64(hashlib.sha256(access_token.encode()).digest()[:16])


@dataclass
class FakeOP:
    ec: ECKey = field(
        default_factory=lambda: ECKey.generate_key(
            "P-256", parameters={"kid": "pkcs11:ES256:hsm", "alg": "ES256", "use": "sig"}
        )
    )
    rsa: RSAKey = field(default_factory=_rsa_key)
    port: int = 0
    published: list[Any] = field(default_factory=list)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The knobs: what the next answers change or are.
    id_token_claims: dict[str, Any] = field(default_factory=dict)
    id_token_header: dict[str, Any] = field(default_factory=dict)
    id_token_signer: Any = None  # a callable(header, claims) -> str replacing the normal signature
    userinfo_claims: dict[str, Any] = field(default_factory=dict)
    userinfo_content_type: str = "application/jwt"
    userinfo_raw: str | None = None
    token_status: int = 200
    discovery_extra: dict[str, Any] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self.published = [self.ec, self.rsa]

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v2"

    def discovery(self) -> dict[str, Any]:
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks",
            "end_session_endpoint": f"{base}/session/end",
            "acr_values_supported": ["eidas1"],
            "authorization_response_iss_parameter_supported": True,
            "id_token_signing_alg_values_supported": ["HS256", "ES256", "RS256"],
            **self.discovery_extra,
        }

    def sign(self, claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
        head = {"alg": "ES256", "kid": self.ec.kid, **(header or {})}
        if head["alg"] == "none":
            return unsigned(head, claims)
        if head["alg"] == "HS256":
            return jwt.encode(head, claims, OctKey.import_key(CLIENT_SECRET), algorithms=["HS256"])
        key = self.rsa if head["alg"] == "RS256" else self.ec
        return jwt.encode(head, claims, key, algorithms=[head["alg"]])

    # --- The protocol --------------------------------------------------------------------------
    def authorize(self, url: str) -> dict[str, str]:
        """What FranceConnect would send back to the redirect_uri for this authorization URL."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": query["nonce"], "used": False, "query": query}
        return {"code": code, "state": query["state"], "iss": self.issuer}

    def id_token_for(self, code: str, access_token: str) -> str:
        now = int(time.time())
        claims = {
            "sub": SUB,
            "auth_time": now,
            "acr": "eidas1",
            "nonce": self.codes[code]["nonce"],
            "at_hash": at_hash(access_token),
            "aud": CLIENT_ID,
            "exp": now + 60,
            "iat": now,
            "iss": self.issuer,
            **self.id_token_claims,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        header = {"alg": "ES256", "kid": self.ec.kid, **self.id_token_header}
        if self.id_token_signer is not None:
            return str(self.id_token_signer(header, claims))
        return self.sign(claims, header)

    def userinfo(self) -> str:
        now = int(time.time())
        claims = {"sub": SUB, **IDENTITY, "aud": CLIENT_ID, "exp": now + 60, "iat": now, "iss": self.issuer}
        claims.update(self.userinfo_claims)
        return self.userinfo_raw if self.userinfo_raw is not None else self.sign(claims)

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        entry = self.codes.get(form.get("code", ""))
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 401, {"error": "invalid_client"}
        if entry is None or entry["used"]:
            return 400, {"error": "invalid_grant"}
        entry["used"] = True
        if self.token_status != 200:
            return self.token_status, {"error": "server_error"}
        access_token = secrets.token_urlsafe(32)
        id_token = self.id_token_for(form["code"], access_token)
        body = {"access_token": access_token, "expires_in": 60, "id_token": id_token, "scope": "openid"}
        return 200, {**body, "token_type": "Bearer"}

    # --- The server ----------------------------------------------------------------------------
    def start(self) -> FakeOP:
        op = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def reply(self, status: int, body: str, content_type: str = "application/json") -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                path = urlsplit(self.path).path.removeprefix("/api/v2")
                op.hits[path] = op.hits.get(path, 0) + 1
                if path == "/.well-known/openid-configuration":
                    self.reply(200, json.dumps(op.discovery()))
                elif path == "/jwks":
                    self.reply(200, json.dumps({"keys": [k.as_dict(private=False) for k in op.published]}))
                elif path == "/userinfo" and self.headers.get("Authorization", "").startswith("Bearer "):
                    self.reply(200, op.userinfo(), op.userinfo_content_type)
                else:
                    self.reply(404, "{}")

            def do_POST(self) -> None:
                path = urlsplit(self.path).path.removeprefix("/api/v2")
                op.hits[path] = op.hits.get(path, 0) + 1
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if path == "/token":
                    status, body = op.token(form)
                    self.reply(status, json.dumps(body))
                else:
                    self.reply(404, "{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
