"""bench/oidc.py's clients: one provider as its clients see it (discovery, codes, token + userinfo cycles, checks)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from bench.common import (
    PASSWORD,
    BenchError,
    Browser,
    Rate,
    Response,
    Server,
    request,
    run_threads,
)

CLIENT_ID = "bench-oidc-client"
CLIENT_SECRET = "bench-oidc-secret-" + "0123456789abcdef" * 3
REDIRECT_URI = "http://127.0.0.1:9/bench/callback"  # never followed: the code is read from Location
SCOPE = "openid profile ect.scope.cnx"


# --- HTTP -----------------------------------------------------------------------------------------


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unverified_payload(jwt: str) -> dict[str, Any]:
    """The claims of a JWT without checking it (every cycle; the signature is checked once a round)."""
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def short(body: bytes) -> str:
    return body[:300].decode(errors="replace")


@dataclass
class Code:
    code: str
    verifier: str
    nonce: str


def authorize_query(endpoint: str) -> tuple[str, Code, str]:
    """An authorization request with its own PKCE verifier (S256), state and nonce."""
    verifier = secrets.token_urlsafe(48)
    nonce, state = secrets.token_urlsafe(24), secrets.token_urlsafe(16)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": SCOPE,
            "state": state,
            "nonce": nonce,
            "code_challenge": b64url(hashlib.sha256(verifier.encode()).digest()),
            "code_challenge_method": "S256",
        }
    )
    return f"{endpoint}?{query}", Code("", verifier, nonce), state


@dataclass
class Window:
    """One timed window of one side, and its first cycle (whose ID token gets verified)."""

    rate: Rate
    client_cpu: float  # CPU seconds of this process (the clients) during the window
    tokens: dict[str, Any]
    code: Code
    user: User


@dataclass
class User:
    """One browser: its login, its cookies, the claims its account must get."""

    login: str
    cookies: dict[str, str] = field(default_factory=dict)
    expected: dict[str, Any] | None = None  # userinfo without `sub`
    sub: str | None = None

    def cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def keep_cookies(self, resp: Response) -> None:
        for header in resp.headers.get_all("Set-Cookie") or []:
            pair, _, attributes = header.partition(";")
            name, _, value = pair.partition("=")
            name = name.strip()
            if not value or "expires=thu, 01 jan 1970" in attributes.lower() or "max-age=0" in attributes.lower():
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value.strip()


# --- one provider, as its clients see it ----------------------------------------------------------


class Side:
    """A provider under test: its server process, its discovery document, its client and its users."""

    label = "?"

    def __init__(self, server: Server, issuer: str, users: list[User]) -> None:
        self.server = server
        self.port = server.port
        self.issuer = issuer
        self.users = users
        self.basic = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        self.codes_made = 0
        self.cycles_made = 0
        self._lock = threading.Lock()

    def fail(self, what: str) -> BenchError:
        return BenchError(f"{self.label}: {what}")

    def discover(self) -> None:
        resp = request(self.port, "GET", "/.well-known/openid-configuration")
        if resp.status != 200:  # noqa: PLR2004
            raise self.fail(f"discovery answered {resp.status}: {short(resp.body)}")
        meta = json.loads(resp.body)
        if meta.get("issuer") != self.issuer:
            raise self.fail(f"discovery names the issuer {meta.get('issuer')!r}, not {self.issuer!r}")
        if "S256" not in meta.get("code_challenge_methods_supported", []):
            raise self.fail("PKCE S256 not advertised")
        self.authorize_path = path_of(meta["authorization_endpoint"])
        self.token_path = path_of(meta["token_endpoint"])
        self.userinfo_path = path_of(meta["userinfo_endpoint"])
        resp = request(self.port, "GET", path_of(meta["jwks_uri"]))
        if resp.status != 200:  # noqa: PLR2004
            raise self.fail(f"JWKS answered {resp.status}")
        from joserfc.jwk import KeySet

        self.jwks = KeySet.import_key_set(json.loads(resp.body))

    def login(self, user: User) -> None:
        raise NotImplementedError

    # -- untimed: codes through the authorization endpoint --

    def authorize_query(self) -> tuple[str, Code, str]:
        return authorize_query(self.authorize_path)

    def code_from(self, resp: Response, code: Code, state: str) -> Code:
        """The code of an authorization response, after checking it went to the client with state and iss."""
        location = resp.headers.get("Location", "")
        if resp.status not in {302, 303} or not location.startswith(REDIRECT_URI + "?"):
            raise self.fail(f"authorization answered {resp.status}, Location {location[:200]!r}: {short(resp.body)}")
        params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        if "code" not in params or params.get("state") != state or params.get("iss") != self.issuer:
            raise self.fail(f"authorization response without code, or with a wrong state or iss: {location[:200]}")
        code.code = params["code"]
        with self._lock:
            self.codes_made += 1
        return code

    def authorize(self, user: User) -> Code:
        path, code, state = self.authorize_query()
        resp = request(self.port, "GET", path, headers=user.cookie_header())
        user.keep_cookies(resp)
        return self.code_from(resp, code, state)

    def obtain(self, count: int, clients: int) -> deque[tuple[User, Code]]:
        """`count` codes, from the users' sessions concurrently (untimed)."""
        codes: deque[tuple[User, Code]] = deque()
        share = [count // clients + (1 if i < count % clients else 0) for i in range(clients)]

        def work(i: int) -> None:
            user = self.users[i % len(self.users)]
            for _ in range(share[i]):
                codes.append((user, self.authorize(user)))

        run_threads(work, clients)
        return codes

    # -- timed: code -> token + userinfo --

    def cycle(self, user: User, code: Code) -> tuple[dict[str, Any], dict[str, Any]]:
        """Redeem one code and read userinfo with the access token; every answer is checked."""
        body = urlencode(
            {
                "grant_type": "authorization_code",
                "code": code.code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": code.verifier,
            }
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": self.basic}
        resp = request(self.port, "POST", self.token_path, body, headers)
        if resp.status != 200:  # noqa: PLR2004
            raise self.fail(f"token endpoint answered {resp.status}: {short(resp.body)}")
        tokens = json.loads(resp.body)
        if (
            not tokens.get("access_token")
            or not tokens.get("refresh_token")
            or not tokens.get("id_token")
            or str(tokens.get("token_type", "")).lower() != "bearer"
        ):
            raise self.fail(f"token response without access, refresh or ID token: {sorted(tokens)}")
        claims = unverified_payload(tokens["id_token"])
        if claims.get("aud") not in (CLIENT_ID, [CLIENT_ID]) or claims.get("nonce") != code.nonce:
            raise self.fail(f"ID token for another client or request: aud {claims.get('aud')!r}")
        resp = request(
            self.port, "GET", self.userinfo_path, headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        if resp.status != 200:  # noqa: PLR2004
            raise self.fail(f"userinfo answered {resp.status}: {short(resp.body)}")
        info = json.loads(resp.body)
        sub = info.pop("sub", None)
        if sub is None or sub != claims.get("sub") or (user.sub is not None and sub != user.sub):
            raise self.fail(f"userinfo sub {sub!r} differs from the ID token's {claims.get('sub')!r}")
        if user.expected is not None and info != user.expected:
            raise self.fail(f"userinfo of {user.login} differs from the account's claims: {info}")
        user.sub = sub
        return tokens, info

    def redeem(self, codes: deque[tuple[User, Code]], clients: int) -> Window:
        """Every code of `codes`, by `clients` concurrent clients; the rate over the wall clock."""
        count = len(codes)
        user, code = codes.popleft()
        cpu0, client_cpu0 = self.server.cpu_seconds(), time.process_time()
        start = time.perf_counter()
        tokens, _ = self.cycle(user, code)

        def work(_: int) -> None:
            while True:
                try:
                    user, code = codes.popleft()
                except IndexError:
                    return
                self.cycle(user, code)

        run_threads(work, clients)
        wall = time.perf_counter() - start
        rate = Rate(count, wall, self.server.cpu_seconds() - cpu0)
        with self._lock:
            self.cycles_made += count
        return Window(rate, time.process_time() - client_cpu0, tokens, code, user)

    def window(self, count: int, clients: int) -> Window:
        """One side's share of a round: `count` codes (untimed), redeemed (timed), one ID token verified."""
        window = self.redeem(self.obtain(count, clients), clients)
        self.verify_id_token(window.tokens, window.code, window.user)
        return window

    def verify_id_token(self, tokens: dict[str, Any], code: Code, user: User) -> None:
        """The ID token, checked with joserfc against the provider's JWKS: signature, claims, at_hash."""
        from joserfc import jwt
        from joserfc.errors import JoseError

        try:
            token = jwt.decode(tokens["id_token"], self.jwks, algorithms=["RS256"])
            registry = jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": CLIENT_ID},
                sub={"essential": True, "value": user.sub},
                nonce={"essential": True, "value": code.nonce},
                exp={"essential": True},
                iat={"essential": True},
            )
            registry.validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise self.fail(f"ID token does not verify against the JWKS: {exc!r}") from exc
        if token.header.get("alg") != "RS256":
            raise self.fail(f"ID token signed with {token.header.get('alg')!r}, not RS256")
        # at_hash is optional in a token response (OIDC Core 3.1.3.6): panva leaves it out; checked when present.
        digest = hashlib.sha256(tokens["access_token"].encode()).digest()
        if "at_hash" in token.claims and token.claims["at_hash"] != b64url(digest[:16]):
            raise self.fail("ID token: wrong at_hash")
        if user.expected is not None and any(token.claims.get(k) != v for k, v in user.expected.items()):
            raise self.fail("the ID token does not carry the account's claims")


class TrousseauSide(Side):
    label = "Trousseau"

    def login(self, user: User) -> None:
        """A password login through the mire (`POST /login`), as a browser: the session cookie."""
        browser = Browser(self.port)
        user.cookies = {"sessionid": browser.login(user.login)}


class PanvaSide(Side):
    label = "panva oidc-provider"

    def __init__(self, server: Server, issuer: str, users: list[User], store: str) -> None:
        super().__init__(server, issuer, users)
        self.store = store
        self.label = f"panva oidc-provider ({store})"

    def login(self, user: User) -> None:
        """/auth -> 303 /interaction/UID; POST login there; resume at /auth/UID -> the code and `_session`."""
        path, code, state = self.authorize_query()
        resp = request(self.port, "GET", path)
        user.keep_cookies(resp)
        found = re.fullmatch(r"/interaction/([\w-]+)", resp.headers.get("Location", ""))
        if resp.status != 303 or not found:  # noqa: PLR2004
            raise self.fail(f"authorization without a session answered {resp.status}: {resp.headers.get('Location')}")
        body = urlencode({"login": user.login, "password": PASSWORD})
        resp = request(
            self.port,
            "POST",
            f"/interaction/{found[1]}/login",
            body,
            {"Content-Type": "application/x-www-form-urlencoded", **user.cookie_header()},
        )
        user.keep_cookies(resp)
        if resp.status != 303:  # noqa: PLR2004
            raise self.fail(f"login interaction answered {resp.status}: {short(resp.body)}")
        resp = request(self.port, "GET", path_of(resp.headers["Location"]), headers=user.cookie_header())
        user.keep_cookies(resp)
        self.code_from(resp, code, state)
        if not any(name.startswith("_session") for name in user.cookies):
            raise self.fail("no session cookie after the login interaction")

    def stats(self) -> dict[str, Any]:
        return json.loads(request(self.port, "GET", "/__bench/stats").body)
