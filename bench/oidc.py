"""OIDC benchmark: authorization code -> token + userinfo, Trousseau against panva oidc-provider, in one run.

    .venv/bin/python bench/oidc.py [--seconds N] [--database sqlite|postgres] [--profile]

1. Reference: panva `oidc-provider` (the version franceconnect-standin/ pins) in one node process,
   configured like Trousseau's provider (`bench/panva/server.mjs`): authorization code, PKCE S256,
   client_secret_basic, RS256 ID tokens signed with an RSA key of the same size, pairwise `sub`, the
   same scopes and the same claims for the same accounts, a refresh token with every code. Two of
   them run: with its grants in Redis through panva's example adapter (ioredis; a redis-server of the
   run's own unless --redis-url), the shared store a deployment of several processes needs and the
   goal's reference, and with an in-memory store, reported beside it.
2. Measured: Trousseau's provider (django-oauth-toolkit) in one single-threaded WSGI server process
   (`bench/serve.py`, production settings, `TROUSSEAU_DEBUG=0`) on a throwaway database.

For each side, codes are first obtained, untimed, through the real authorization endpoint by
logged-in browser sessions (Trousseau: a password login through the mire `POST /login`; panva: the
benchmark's login interaction, see server.mjs); then the timed part redeems them: `POST` to the token
endpoint (client_secret_basic, PKCE verifier) and `GET` userinfo with the access token, each answer
checked (200; access, refresh and ID tokens; the ID token's `aud` and `nonce`; userinfo's `sub` equal
to the ID token's and its claims those of the account). Once a round, an ID token of each side is
verified with joserfc against that provider's JWKS (signature, `iss`, `aud`, `sub`, `nonce`, `exp`,
`at_hash` when present). The two sides alternate in rounds (5 by default) so that both see the same machine; each
server is pinned to one core and the clients (threads of this process) to the others.

The result goes into its own marked section of docs/benchmarks.md, next to the goal (Trousseau's
rate >= 1.0 x panva+Redis's). Any failure (panva cannot run, an answer not as expected, the stores not
holding what the answers claimed) stops the run with a message and a non-zero exit code, and nothing
is written.

`--profile` instead redeems codes in-process under cProfile (Django's test client) and prints where
a token request and a userinfo request spend their time, and their SQL; it writes nothing.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import cProfile
import hashlib
import io
import json
import os
import pstats
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402 - after the path is set
    DOC,
    PASSWORD,
    PG_URL,
    SPREAD,
    BenchError,
    Browser,
    Rate,
    Response,
    Server,
    add_common_arguments,
    configure_environment,
    create_accounts,
    database_url,
    free_port,
    pg_create,
    pg_drop,
    request,
    run_main,
    run_threads,
)
from bench.report import (  # noqa: E402
    describe_machine,
    print_by_package,
    sql_summary,
    write_section,
)

PANVA_SERVER = ROOT / "bench" / "panva" / "server.mjs"
STANDIN = ROOT / "franceconnect-standin"
GOAL = 1.0
CLIENT_ID = "bench-oidc-client"
CLIENT_SECRET = "bench-oidc-secret-" + "0123456789abcdef" * 3
REDIRECT_URI = "http://127.0.0.1:9/bench/callback"  # never followed: the code is read from Location
SCOPE = "openid profile ect.scope.cnx"
# Not run.py's database: each benchmark drops its own, and they may run at the same time.
OIDC_PG_URL = PG_URL.rsplit("/", 1)[0] + "/trousseau_oidc_bench"


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


# --- processes ------------------------------------------------------------------------------------


def node_versions() -> dict[str, str]:
    """Node's and oidc-provider's versions, or BenchError when panva's provider cannot run here."""
    node = shutil.which("node")
    if node is None:
        raise BenchError("panva oidc-provider cannot run: no `node` on PATH (node 20 or later is needed)")
    package = STANDIN / "node_modules" / "oidc-provider" / "package.json"
    if not package.exists():
        raise BenchError(f"panva oidc-provider cannot run: {package.relative_to(ROOT)} is missing (run `make standin`)")
    try:
        out = subprocess.run(
            [node, "-p", "JSON.stringify(process.versions)"], capture_output=True, text=True, check=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise BenchError(f"panva oidc-provider cannot run: node does not start: {exc!r}") from exc
    versions = json.loads(out.stdout)
    if int(versions["node"].split(".")[0]) < 20:  # noqa: PLR2004
        raise BenchError(f"panva oidc-provider cannot run: node {versions['node']}, 20 or later is needed")
    return {
        "node": versions["node"],
        "node_openssl": versions.get("openssl", "?"),
        "oidc_provider": json.loads(package.read_text())["version"],
    }


def panva_key_set() -> dict[str, Any]:
    """A private JWK set for panva: one RSA key of the size Trousseau signs with, RS256."""
    from joserfc.jwk import RSAKey

    from trousseau.federation.oidc import keyfiles

    key = RSAKey.import_key(keyfiles.generate_pem())
    return {"keys": [{**key.as_dict(private=True), "kid": key.thumbprint(), "alg": "RS256", "use": "sig"}]}


def pin_plan(*, pin: bool) -> tuple[set[int], set[int]]:
    """(server CPUs, client CPUs): each server alone on the last usable core, the clients on the others."""
    usable = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if not pin or len(usable) < 2:  # noqa: PLR2004
        return set(), set()
    return {usable[-1]}, set(usable[:-1])


# --- Trousseau's side: database, client, in-process helpers --------------------------------------


def register_client() -> None:
    from django.core.management import call_command

    call_command(
        "oidc_client_add",
        "--update",
        "--name",
        "Banc d'essai OIDC",
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        CLIENT_SECRET,
        "--redirect-uri",
        REDIRECT_URI,
        stdout=io.StringIO(),
    )


def in_process_code(identifier: str) -> tuple[Any, Code]:
    """A test client logged in as `identifier`, and a code from the real authorization view."""
    from django.test import Client

    from trousseau.accounts.models import Account

    client = Client()
    client.force_login(Account.objects.get(identifier=identifier))
    path, code, state = authorize_query("/idp/profile/oidc/authorize")
    resp = client.get(path)
    params = parse_qs(urlsplit(resp.get("Location", "")).query)
    if resp.status_code != 302 or params.get("state") != [state] or "code" not in params:  # noqa: PLR2004
        raise BenchError(f"in-process authorization failed: {resp.status_code} {resp.get('Location')!r}")
    code.code = params["code"][0]
    return client, code


def in_process_cycle(client: Any, code: Code) -> tuple[Any, Any]:
    basic = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    token = client.post(
        "/idp/profile/oidc/token",
        {
            "grant_type": "authorization_code",
            "code": code.code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": code.verifier,
        },
        HTTP_AUTHORIZATION=basic,
    )
    if token.status_code != 200:  # noqa: PLR2004
        raise BenchError(f"in-process token request failed: {token.status_code} {short(token.content)}")
    access = token.json()["access_token"]
    info = client.get("/idp/profile/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {access}")
    if info.status_code != 200:  # noqa: PLR2004
        raise BenchError(f"in-process userinfo failed: {info.status_code}")
    return token, info


def queries_of_one_cycle(identifier: str) -> tuple[list[str], list[str]]:
    """The SQL of one token request and of one userinfo request (in this process), for the report."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client, code = in_process_code(identifier)
    basic = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    body = {"grant_type": "authorization_code", "code": code.code, "redirect_uri": REDIRECT_URI}
    with CaptureQueriesContext(connection) as token_sql:
        token = client.post(
            "/idp/profile/oidc/token", {**body, "code_verifier": code.verifier}, HTTP_AUTHORIZATION=basic
        )
    if token.status_code != 200:  # noqa: PLR2004
        raise BenchError(f"in-process token request failed: {token.status_code} {short(token.content)}")
    with CaptureQueriesContext(connection) as userinfo_sql:
        info = client.get("/idp/profile/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {token.json()['access_token']}")
    if info.status_code != 200:  # noqa: PLR2004
        raise BenchError(f"in-process userinfo failed: {info.status_code}")
    return [q["sql"] for q in token_sql.captured_queries], [q["sql"] for q in userinfo_sql.captured_queries]


def check_trousseau_store(codes: int, cycles: int) -> None:
    """Every code and every cycle left its rows: nothing was answered without doing the work."""
    from oauth2_provider.models import get_access_token_model, get_id_token_model, get_refresh_token_model

    from trousseau.audit.events import EventTag
    from trousseau.audit.models import AuditEvent
    from trousseau.federation.oidc.models import Authorization

    found = {
        "authorizations": Authorization.objects.count(),
        "code_issued audit events": AuditEvent.objects.filter(tag=EventTag.OIDC_CODE_ISSUED).count(),
        "redeemed authorizations": Authorization.objects.filter(redeemed_at__isnull=False).count(),
        "access tokens": get_access_token_model().objects.count(),
        "refresh tokens": get_refresh_token_model().objects.count(),
        "ID tokens": get_id_token_model().objects.count(),
        "refusal audit events": AuditEvent.objects.filter(tag=EventTag.OIDC_REFUSED).count(),
    }
    expected = {
        "authorizations": codes,
        "code_issued audit events": codes,
        "redeemed authorizations": cycles,
        "access tokens": cycles,
        "refresh tokens": cycles,
        "ID tokens": cycles,
        "refusal audit events": 0,
    }
    wrong = [f"{k} {found[k]} (expected {v})" for k, v in expected.items() if found[k] != v]
    if wrong:
        raise BenchError("Trousseau's database check: " + ", ".join(wrong))


def check_panva_store(label: str, stats: dict[str, Any], codes: int, cycles: int) -> None:
    """What the adapter was asked to do, and what the store (Redis or the Map) holds at the end: every
    access and refresh token of the run is still live (600 s and 8 h), codes (60 s) may have expired."""
    held = stats["held"]
    found = {
        "codes stored": stats["upserts"].get("AuthorizationCode", 0),
        "codes consumed": stats["consumed"].get("AuthorizationCode", 0),
        "access tokens stored": stats["upserts"].get("AccessToken", 0),
        "refresh tokens stored": stats["upserts"].get("RefreshToken", 0),
        "access tokens held": held.get("AccessToken", 0),
        "refresh tokens held": held.get("RefreshToken", 0),
    }
    expected = {
        "codes stored": codes,
        "codes consumed": cycles,
        "access tokens stored": cycles,
        "refresh tokens stored": cycles,
        "access tokens held": cycles,
        "refresh tokens held": cycles,
    }
    wrong = [f"{k} {found[k]} (expected {v})" for k, v in expected.items() if found[k] != v]
    if held.get("AuthorizationCode", 0) > cycles:
        wrong.append(f"consumed codes held {held['AuthorizationCode']} (at most {cycles})")
    if wrong:
        raise BenchError(f"{label}'s store check: " + ", ".join(wrong))


def start_redis(workdir: Path) -> Server:
    """A throwaway redis-server (Debian's, `make redis`): no persistence, loopback only."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise BenchError("panva's Redis store: no `redis-server` on PATH (make redis, or give --redis-url)")
    port = free_port()
    argv = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(workdir),
    ]
    server = Server(dict(os.environ), workdir, name="redis", argv=argv, port=port)
    try:
        server.wait_ready()
    except BenchError:
        server.stop()
        raise
    return server


def redis_for(url: str | None, workdir: Path, cleanup: contextlib.ExitStack) -> str:
    """The given Redis once it answers, or a throwaway one of the run's own."""
    if url is None:
        server = start_redis(workdir)
        cleanup.callback(server.stop)
        url = f"redis://127.0.0.1:{server.port}/0"
    return check_redis(url)


def check_redis(url: str) -> str:
    """The Redis panva's adapter stores in, or BenchError when it does not answer."""
    try:
        import redis
    except ImportError as exc:
        raise BenchError("panva's Redis store: the `redis` Python package is missing (make setup)") from exc
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        raise BenchError(f"panva's Redis store: no Redis answers at {url} ({exc}); start redis-server") from exc
    return url


# --- the report -----------------------------------------------------------------------------------


@dataclass
class Measurement:
    panva: Rate  # with its grants in Redis: the goal's reference
    panva_memory: Rate
    ours: Rate
    round_ratios: list[float]
    memory_round_ratios: list[float]
    panva_client_busy: float  # CPU of this process (the clients) during panva's windows, in cores
    ours_client_busy: float
    client_cores: int


def total(parts: list[Rate]) -> Rate:
    return Rate(sum(p.count for p in parts), sum(p.wall for p in parts), sum(p.cpu or 0.0 for p in parts))


def disturbance(result: Measurement) -> str | None:
    ratios = sorted(result.round_ratios)
    median = ratios[len(ratios) // 2]
    if len(ratios) > 1 and (ratios[-1] - ratios[0]) > SPREAD * median:
        return f"the ratio moved from {ratios[0]:.2f} to {ratios[-1]:.2f} between rounds"
    return None


def client_bound(result: Measurement) -> str | None:
    if result.client_cores and result.panva_client_busy > 0.9 * result.client_cores:
        return (
            f"the clients used {result.panva_client_busy:.2f} of their {result.client_cores} core(s) during panva's "
            "windows: panva's figure may be limited by the clients"
        )
    return None


def _verdict(ratio: float) -> str:
    return f"**{ratio:.2f}**, {'goal met' if ratio >= GOAL else 'goal not met'}"


def result_block(args: argparse.Namespace, machine: dict[str, str], result: Measurement, sql: tuple[str, str]) -> str:
    panva, memory, ours = result.panva, result.panva_memory, result.ours
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    pinned = (
        f"each server pinned to CPU {machine['server_cpus']}, the clients to CPU {machine['client_cpus']}"
        if machine["server_cpus"]
        else "not pinned"
    )
    busy = (
        f"panva's process {100 * (panva.busy or 0):.0f} % (Redis), {100 * (memory.busy or 0):.0f} % (in memory), "
        f"Trousseau's {100 * (ours.busy or 0):.0f} % of their "
        f"windows; the clients {result.panva_client_busy:.2f} (panva, the busier) / {result.ours_client_busy:.2f} cores "
        f"({pinned})"
    )
    for warning in (disturbance(result), client_bound(result)):
        if warning:
            busy += f". ⚠ {warning}: rerun on a quiet machine"
    rows = [
        ("Date", date),
        ("Code", machine["code"]),
        ("CPU", machine["cpu"]),
        (
            "System",
            f"{machine['os']}, load average {machine['load']} before measuring"
            + (f", run at niceness {machine['nice']}" if machine["nice"] != "0" else ""),
        ),
        (
            "Python / Django / django-oauth-toolkit / jwcrypto",
            f"{machine['python']} / {machine['django']} / {machine['dot']} / {machine['jwcrypto']}",
        ),
        (
            "Node / oidc-provider",
            f"{machine['node']} (OpenSSL {machine['node_openssl']}) / {machine['oidc_provider']}",
        ),
        ("Database (Trousseau)", machine["database"]),
        ("Signatures", f"RS256, RSA {machine['rsa_bits']} bits on both sides"),
        (
            (
                f"Reference: panva oidc-provider {machine['oidc_provider']}, 1 node process, its grants in Redis "
                "(panva's example adapter, ioredis)"
            ),
            (
                f"**{panva.per_second:.1f} /s** ({panva.count} in {panva.wall:.1f} s, {args.clients} concurrent "
                f"clients); {panva.cpu_ms_each or float('nan'):.2f} ms CPU each in the server process "
                "(Redis's own not counted)"
            ),
        ),
        (
            "Beside it: the same panva, in-memory store",
            (
                f"{memory.per_second:.1f} /s ({memory.count} in {memory.wall:.1f} s); "
                f"{memory.cpu_ms_each or float('nan'):.2f} ms CPU each in the server process"
            ),
        ),
        (
            "Measured: Trousseau, 1 single-threaded WSGI server process",
            (
                f"**{ours.per_second:.1f} /s** ({ours.count} in {ours.wall:.1f} s, {args.clients} concurrent "
                f"clients); {ours.cpu_ms_each or float('nan'):.2f} ms CPU each in the server process"
            ),
        ),
        (
            f"Ratio of rates, Trousseau / panva (goal ≥ {GOAL:.1f})",
            (
                f"{_verdict(ours.per_second / panva.per_second)} (per round: {min(result.round_ratios):.2f} to "
                f"{max(result.round_ratios):.2f}, {len(result.round_ratios)} alternating rounds)"
            ),
        ),
        (
            "Ratio of rates, Trousseau / panva in memory",
            (
                f"{ours.per_second / memory.per_second:.2f} (per round: {min(result.memory_round_ratios):.2f} to "
                f"{max(result.memory_round_ratios):.2f})"
            ),
        ),
        (
            "Ratio of CPU time per cycle, panva / Trousseau",
            (
                f"**{(panva.cpu_ms_each or 0) / (ours.cpu_ms_each or 1):.2f}** with Redis, "
                f"{(memory.cpu_ms_each or 0) / (ours.cpu_ms_each or 1):.2f} in memory (waiting left out; the "
                "processes of PostgreSQL and Redis not counted)"
            ),
        ),
        ("Time on CPU (the rest: waiting for I/O, the clients or a core)", busy),
        ("SQL statements (Trousseau)", f"{sql[0]} per token request, {sql[1]} per userinfo request"),
    ]
    lines = [
        "| | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in rows),
        "",
        (
            f"Command: `.venv/bin/python bench/oidc.py --seconds {args.seconds:g} --database {args.database}` "
            f"({args.rounds} rounds)"
        ),
    ]
    return "\n".join(lines)


SECTION_HEAD = """## OpenID Connect: code → token + userinfo

Written by `bench/oidc.py` (`make bench-oidc`), which rewrites only this section.

**Goal**: on the same machine, Trousseau's provider completes at least as many
(code → token + userinfo) cycles per second as panva `oidc-provider` (ratio ≥ 1.0).

**Reference**: panva `oidc-provider` (the version `franceconnect-standin/` pins) in one node process,
configured like Trousseau's provider (`bench/panva/server.mjs`): authorization code with PKCE S256,
exact redirect URI, `client_secret_basic`, RS256 ID tokens signed with an RSA key of the same size,
pairwise `sub` (HMAC-SHA256), the scopes `openid profile ect.scope.cnx` with the same claims for the
same accounts (taken from Trousseau's own userinfo), in the ID token as in userinfo, and a refresh
token with every code, as Trousseau issues one. Its grants, codes, sessions and tokens are in Redis
through panva's example Redis adapter (ioredis, `bench/panva/package.json`; a `redis-server` of the
run's own, without persistence): the shared store that several node processes need, as several
Trousseau processes share PostgreSQL. Beside it, the same provider with an in-memory store (a Map
with expiry; panva's bundled MemoryAdapter keeps only 1000 entries): panva at its fastest, which a
deployment of more than one process cannot use.

**Measured**: Trousseau's provider (its own token code grant and UserInfo, `tokens.py` and
`userinfo.py`, over django-oauth-toolkit's token rows) in one single-threaded WSGI server process
(`bench/serve.py`, production settings, `TROUSSEAU_DEBUG=0`, the production middleware: on these
back-channel endpoints, only what `trousseau/core/back_channel.py` keeps) on a throwaway
database, with the signing keys in `TROUSSEAU_OIDC_KEYS_DIR`.

**Method**: both sides run the same client code. Untimed, each account's browser session (Trousseau:
a password login through the mire, `POST /login`; panva: `GET /auth` → `/interaction/UID`, the
benchmark's login `POST /interaction/UID/login`, resume at `/auth/UID`) gets the round's codes from
the real authorization endpoint, each with its own PKCE verifier, `state` and `nonce`; the answer
must be a redirect to the client with the code, `state` and `iss`. Timed, client threads of the
benchmark (two at a time, so that the server always has the next request queued; a new connection
per request) redeem them: `POST` token (`client_secret_basic`, `code_verifier`) then `GET` userinfo
with the access token. Every answer must be a 200 with access, refresh and ID tokens for this client
and nonce, and a userinfo whose `sub` is the ID token's and whose claims are the account's; once a
round an ID token of each side is verified with joserfc against the provider's JWKS (signature,
`iss`, `aud`, `sub`, `nonce`, `exp`, and `at_hash` when present: panva leaves it out of token
responses, as OpenID Connect Core allows); at the end Trousseau's database must hold one
authorization per code, and one redeemed authorization, one access, one refresh and one ID token per
cycle, and each panva's adapter must have stored as many codes and tokens and consumed as many codes,
and its store (Redis, or the Map) must still hold one access and one refresh token per cycle, or the
run fails. The three sides take turns in 5 rounds (2 s of each by default, the first side turning);
rates are totals over all rounds. Each server
is pinned to one core (node's own threads included) and the clients to the others. The ratio of CPU
time compares the server processes' CPU milliseconds per cycle (waiting left out).

**Token endpoint changes** (2026-12-04, measured on PostgreSQL back to back on the same loaded
machine, before with `--no-write`): the token request is one transaction (the code's claim, the
tokens, the grant's deletion), and the code's grant is read once instead of seven times: 26
statements and 3 commits per token request before, 20 and 1 after; Trousseau's server CPU per cycle
35.9 → 30.8 ms, its rate 6.9 → 9.7 cycles/s (panva in the same runs: 77.8 and 86.8/s; ratio 0.09 →
0.11). The rest of the gap is Django's ORM and the driver for those 20 statements, and oauthlib's
request handling; panva keeps everything in memory.
Since 2026-12-05 (same method, same machine, before run with `--no-write`): the grant, the account,
the client and the ID token just saved are each read once (the toolkit read them again to set the
request's scopes and nonce, to check the RFC 8707 resource, and to link the access token to its ID
token by parsing the signed JWT), and no savepoint is taken inside the token view's transaction: 20
statements and 2 savepoints per token request before, 13 and 1 after, userinfo 5 → 4; server CPU per
cycle 17.6 → 13.2 ms, rate 43.9 → 58.4 cycles/s (panva 306.8 and 306.0/s), ratio 0.14 → 0.19.

Since 2026-12-06 the code grant of the token endpoint and UserInfo are Trousseau's own
(`trousseau/federation/oidc/tokens.py`, `userinfo.py`, written against RFC 6749 §4.1.3 and §5, RFC
7636, RFC 6750 and OIDC Core instead of through oauthlib): the code is one row written at the
authorization endpoint (no toolkit Grant), claimed and read with its account by one statement
(`UPDATE … RETURNING` in a CTE) that also records its token family; the client comes from a
per-process cache; the three token rows are one statement on PostgreSQL; UserInfo reads the token's
row with its account's state by plain SQL and answers the claims the token endpoint kept in the
cache. Statements per token request 13 (+ 1 savepoint, 1 commit) → 3 (+ 1 commit) on PostgreSQL:
the claim, the claims' read (`federation/claims.py`), the token rows; per UserInfo 3 → 1 (over HTTP,
without a session cookie). Measured back to back on a heavily loaded machine (load 4 to 6 on 2
cores, other benchmarks and test suites running): Trousseau's server CPU per cycle 25.6 ms before,
about 13 to 16 ms after the first steps (panva+Redis 6 to 9 ms in the same runs); in-process, a token
request then cost about 9 ms of CPU (signature 0.8, claims 1.5 to 2, the claim 1.5, the token rows 1,
the framework and middleware about 1) and a UserInfo about 2.4 ms. With every step (load average 8
on 2 cores, `--seconds 9 --rounds 3`): Trousseau 9.6 ms of server CPU per cycle, panva+Redis 6.7 ms,
panva in memory 5.3 ms; ratio of CPU per cycle 0.31 → 0.70 against panva+Redis, ratio of rates 0.22 →
0.50 (the rates move with the load: per round 0.37 to 0.64). The figures of the table are the last
run's.

Since 2026-12-07 (issue #21), on PostgreSQL, a token request is one statement and no BEGIN or
COMMIT round trip: the claim of the code, the read of its authorization with its account, the
account's directory rows for the claims (a `LATERAL` join of `accounts.selectors`' statement) and
the write of the three token rows (`claim_sql.redeem`: the rows' INSERTs are CTEs fed by the claim,
written when the request matches `tokens._check`'s rules given as values; `_check` still runs on the
row read back and decides). A first try, the claim and the rows as two autocommit statements, was
slower than the transaction it replaced: one round trip fewer but one commit more (0.84 and 0.83
before, 0.79 and 0.73 after, alternating). With the rows in the claim's statement, back to back on the
same machine: Trousseau's server CPU per cycle 3.69 → 3.02 ms, ratio of rates 0.83 → 0.93 (CPU ratio
1.18 → 1.34). With the claims' rows in it too, alternating with the commit before: server CPU per
cycle 3.91 → 3.39 and 3.33 → 2.94 ms, rate 172 → 182 and 199 → 212 cycles/s. What is left is waiting:
the server process is on CPU about 60 % of its windows, against 96 % for node, which overlaps its
waits for Redis where a sync worker waits for each of its 4 statements per cycle (and for
PostgreSQL's work on them, on the core the clients use). Tried without gain, in alternation:
psycopg's server-side binding (statements prepared after five runs), and two worker processes on the
one core (80 % on CPU, but as much CPU per cycle lost to switching), and threads in the one process
(the standard library's `ThreadingMixIn`, a thread per connection; 2026-12-07, a slower machine,
twice each way): 73 and 77 cycles/s in one thread, 44 and 41 with threads, at about the same CPU per
cycle. A thread woken by its database answer waits for the interpreter lock held by one that is
computing, so threads add waits instead of hiding them.

Since 2026-12-07 (later that day), the token statement is prepared on each connection and planned
once (`trousseau/core/planned.py`). Most of the wait was PostgreSQL planning it: its log gave, per
token request, parse 0.43 + bind 1.20 (the planning) + execute 0.42 ms; prepared, bind 0.09 +
execute 0.53 ms, with no parse. The earlier try above prepared nothing: Django sets psycopg's
`prepare_threshold` to None, under which psycopg prepares no statement, even one that asks (the log
showed each run parsed as the unnamed statement). Alternating with the commit before, twice each way
on a noisy machine (`--seconds 6 --rounds 4`): Trousseau 133 and 141 → 155 and 176 cycles/s, ratio of
rates 0.92 and 0.88 → 1.06 and 0.96. UserInfo's statement, the session's read and save, and the
login's counting statements are prepared the same way.

Caveats: no TLS and no reverse proxy in front; Trousseau's SQLite file sits on the machine's disk,
so each commit is a real fsync, while panva writes to memory; oidc-provider 9 warns that node 20 is
not a supported runtime (it asks for node 22), which is what this machine has.

**How to reproduce**: `make bench-oidc` (SQLite, about a minute), or
`.venv/bin/python bench/oidc.py --database postgres` (creates and drops `trousseau_oidc_bench` on
`127.0.0.1:5432`); `--seconds N` sets each side's timed duration, `--profile` prints where
Trousseau's token and userinfo requests spend their time.
"""
SECTIONS = [("oidc-sqlite", "SQLite"), ("oidc-postgres", "PostgreSQL")]


def write_doc(key: str, body: str) -> None:
    write_section("oidc.py", SECTION_HEAD, SECTIONS, key, body)


# --- orchestration --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_common_arguments(parser, pg_url=OIDC_PG_URL)
    parser.add_argument("--warm-up", type=int, default=40, help="untimed cycles of each side first (default 40)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the servers and the clients to cores")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL"),
        help="an existing Redis for panva's adapter (keys prefixed, removed at the end); default: the benchmark "
        "starts its own redis-server on a free port, without persistence, and stops it",
    )
    args = parser.parse_args(argv)
    if args.seconds <= 0 or min(args.clients, args.rounds, args.warm_up) < 1:
        parser.error("--seconds, --rounds, --clients and --warm-up must be positive")
    return args


def profile(identifier: str, seconds: float) -> None:
    token_sql, userinfo_sql = queries_of_one_cycle(identifier)
    for name, queries in (("token request", token_sql), ("userinfo request", userinfo_sql)):
        print(f"SQL of one {name} ({len(queries)} statements):")
        for sql in queries:
            print(f"  {sql[:160]}")
    # Codes live 60 s: take them in batches (not profiled), each redeemed under the profiler right after.
    profiler = cProfile.Profile()
    count, profiled = 0, 0.0
    while profiled < seconds:
        batch = [in_process_code(identifier) for _ in range(20)]
        start = time.perf_counter()
        profiler.enable()
        for client, code in batch:
            in_process_cycle(client, code)
        profiler.disable()
        profiled += time.perf_counter() - start
        count += len(batch)
    print(
        f"\n{count} in-process cycles (token + userinfo) in {profiled:.1f} s ({1000 * profiled / count:.1f} ms each, "
        "profiler included); top functions by own time, then by cumulative time:"
    )
    stats = pstats.Stats(profiler)
    print_by_package(stats, profiled, count)
    stats.strip_dirs()
    stats.sort_stats("tottime").print_stats(20)
    stats.sort_stats("cumulative").print_stats(40)


def measure(args: argparse.Namespace, ours: TrousseauSide, redis: PanvaSide, memory: PanvaSide) -> Measurement:
    """Warm-up, then rounds: each side obtains its codes (untimed), then redeems them (timed); the order
    of the three sides turns from round to round."""
    piece = args.seconds / args.rounds
    sides: list[Side] = [ours, redis, memory]
    counts: dict[str, int] = {}
    for side in sides:  # warm-up, and the number of codes that makes a window last `piece`
        counts[side.label] = max(args.clients, round(side.window(args.warm_up, args.clients).rate.per_second * piece))
    windows: dict[str, list[Window]] = {side.label: [] for side in sides}
    ratios: list[float] = []
    memory_ratios: list[float] = []
    for n in range(args.rounds):
        for side in sides[n % 3 :] + sides[: n % 3]:
            window = side.window(counts[side.label], args.clients)
            windows[side.label].append(window)
            counts[side.label] = max(args.clients, round(window.rate.per_second * piece))
        a, b, c = (windows[side.label][-1].rate for side in sides)
        ratios.append(a.per_second / b.per_second)
        memory_ratios.append(a.per_second / c.per_second)
        print(
            f"  round {n + 1}/{args.rounds}: panva+Redis {b.per_second:6.1f}/s ({b.cpu_ms_each or 0:.2f} ms CPU), "
            f"panva in memory {c.per_second:6.1f}/s ({c.cpu_ms_each or 0:.2f} ms), Trousseau {a.per_second:6.1f}/s "
            f"({a.cpu_ms_each or 0:.2f} ms); ratio {ratios[-1]:.2f} (to panva in memory {memory_ratios[-1]:.2f})",
            flush=True,
        )

    def client_busy(side: Side) -> float:
        return sum(w.client_cpu for w in windows[side.label]) / sum(w.rate.wall for w in windows[side.label])

    return Measurement(
        panva=total([w.rate for w in windows[redis.label]]),
        panva_memory=total([w.rate for w in windows[memory.label]]),
        ours=total([w.rate for w in windows[ours.label]]),
        round_ratios=ratios,
        memory_round_ratios=memory_ratios,
        panva_client_busy=max(client_busy(redis), client_busy(memory)),
        ours_client_busy=client_busy(ours),
        client_cores=0,
    )


def start_panva(  # noqa: PLR0913 - the run's parts
    workdir: Path,
    *,
    users: list[User],
    cpus: set[int],
    key_set: dict[str, Any],
    scopes: dict[str, list[str]],
    store: str,
    redis_url: str,
) -> PanvaSide:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    config = {
        "port": port,
        "issuer": issuer,
        "secret": secrets.token_urlsafe(32),
        "jwks": key_set,
        "client": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uri": REDIRECT_URI},
        "scopes": scopes,
        "accounts": {u.login: {"password": PASSWORD, "claims": u.expected} for u in users},
        "store": store,
        "redis_url": redis_url,
        "prefix": f"trousseau-bench-panva:{secrets.token_hex(8)}:",  # the run's keys, removed at its end
    }
    config_file = workdir / f"panva-{store}.json"
    config_file.write_text(json.dumps(config))
    config_file.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NODE_", "DEBUG"))}
    argv = ["node", str(PANVA_SERVER), str(config_file)]
    server = Server(env, workdir, name=f"panva-{store}", argv=argv, port=port, cpus=cpus)
    try:
        server.wait_ready()
    except BenchError as exc:
        server.stop()
        raise BenchError(f"panva oidc-provider cannot run: {exc}") from exc
    return PanvaSide(server, issuer, [User(u.login, expected=u.expected) for u in users], store)


def log_in_panva(panva: PanvaSide) -> None:
    panva.discover()
    for user in panva.users:
        panva.login(user)


def scopes_of(users: list[User]) -> dict[str, list[str]]:
    """Trousseau's scope of each claim its accounts get, as panva's `claims` configuration."""
    from trousseau.federation.oidc import scopes

    mapping: dict[str, list[str]] = {scope: [] for scope in SCOPE.split()}
    for claim in dict.fromkeys(["sub", *(name for user in users for name in user.expected or {})]):
        mapping[scopes.scope_of(claim)].append(claim)
    return mapping


def trousseau_environment(workdir: Path, db_url: str, port: int) -> dict[str, str]:
    """The common environment (production settings, throwaway database, signing keys) and the issuer."""
    return configure_environment(db_url, workdir, TROUSSEAU_PUBLIC_URL=f"http://127.0.0.1:{port}")


def describe(args: argparse.Namespace, versions: dict[str, str], pins: tuple[set[int], set[int]]) -> dict[str, str]:
    from importlib.metadata import version

    from django.conf import settings
    from jwcrypto import jwk

    machine = describe_machine(args.database) | versions
    machine["dot"], machine["jwcrypto"] = version("django-oauth-toolkit"), version("jwcrypto")
    key = jwk.JWK.from_pem(settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"].encode())
    machine["rsa_bits"] = str(key.get_op_key("sign").key_size)
    machine["server_cpus"], machine["client_cpus"] = (",".join(map(str, sorted(cpus))) for cpus in pins)
    return machine


def warm_trousseau(ours: TrousseauSide) -> None:
    """Log every user in through the mire; one cycle each gives the claims its account must always get."""
    ours.discover()
    for user in ours.users:
        ours.login(user)
        _, info = ours.cycle(user, ours.authorize(user))
        user.expected = info
        ours.cycles_made += 1


def run(args: argparse.Namespace) -> None:  # noqa: PLR0915 - the run, step by step
    versions = node_versions()  # fails early when panva's provider cannot run
    with contextlib.ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="trousseau-bench-oidc-"))
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        redis_url = "" if args.profile else redis_for(args.redis_url, workdir, cleanup)
        db_url = database_url(args, workdir)
        port = free_port()
        env_vars = trousseau_environment(workdir, db_url, port)
        import django
        from django.core.management import call_command
        from django.db import connections

        django.setup()
        if args.database == "postgres":
            pg_create(db_url)
            cleanup.callback(pg_drop, db_url)
        cleanup.callback(connections.close_all)  # runs before the drop
        call_command("migrate", verbosity=0)
        identifiers, _ = create_accounts(max(2, args.clients))
        register_client()
        if args.profile:
            profile(identifiers[0], args.seconds)
            return
        token_sql, userinfo_sql = queries_of_one_cycle(identifiers[0])  # its code and tokens stay in the database
        server_cpus, client_cpus = pins = pin_plan(pin=not args.no_pin)
        machine = describe(args, versions, pins)
        key_set = panva_key_set()
        connections.close_all()  # the server process has the database to itself

        argv = [sys.executable, str(ROOT / "bench" / "serve.py"), str(port)]
        servers = [Server(env_vars, workdir, name="trousseau", argv=argv, port=port, cpus=server_cpus)]
        cleanup.callback(lambda: [server.stop() for server in servers])
        if client_cpus:
            os.sched_setaffinity(0, client_cpus)
            cleanup.callback(os.sched_setaffinity, 0, client_cpus | server_cpus)
        try:
            servers[0].wait_ready()
            ours = TrousseauSide(servers[0], f"http://127.0.0.1:{port}", [User(i) for i in identifiers[: args.clients]])
            warm_trousseau(ours)
            panvas = []
            for store in ("redis", "memory"):
                panvas.append(
                    start_panva(
                        workdir,
                        users=ours.users,
                        cpus=server_cpus,
                        key_set=key_set,
                        scopes=scopes_of(ours.users),
                        store=store,
                        redis_url=redis_url,
                    )
                )
                servers.append(panvas[-1].server)
                log_in_panva(panvas[-1])
            print(
                f"Measuring: {args.rounds} alternating rounds of about {args.seconds / args.rounds:g} s of "
                "code -> token + userinfo cycles on each side ...",
                flush=True,
            )
            result = measure(args, ours, *panvas)
            result.client_cores = len(client_cpus) or (os.cpu_count() or 1)
            for panva in panvas:
                check_panva_store(panva.label, panva.stats(), panva.codes_made, panva.cycles_made)
        except BenchError as exc:
            logs = "".join(f"\n{s.log.stem} server output (last lines):\n{s.tail()}" for s in servers)
            raise BenchError(f"{exc}{logs}") from exc
        for server in servers:
            server.stop()
        check_trousseau_store(ours.codes_made + 1, ours.cycles_made + 1)  # + the in-process cycle
        disturbed = disturbance(result) or client_bound(result)
        if disturbed:
            print(f"bench: WARNING: {disturbed}; rerun on a quiet machine", file=sys.stderr)
        body = result_block(args, machine, result, (sql_summary(token_sql), sql_summary(userinfo_sql)))
        print(f"\n{body}")
        if not args.no_write:
            write_doc(f"oidc-{args.database}", body)
            print(f"\nWritten to {DOC.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> int:
    return run_main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
