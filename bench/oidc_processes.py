"""bench/oidc.py's processes and stores: panva's node process and its Redis, Trousseau's client and in-process
helpers, and the checks that each store holds what the answers claimed.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench.common import (
    PASSWORD,
    ROOT,
    BenchError,
    Server,
    free_port,
)
from bench.oidc_clients import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    SCOPE,
    Code,
    PanvaSide,
    User,
    authorize_query,
    short,
)

PANVA_SERVER = ROOT / "bench" / "panva" / "server.mjs"
STANDIN = ROOT / "franceconnect-standin"


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
