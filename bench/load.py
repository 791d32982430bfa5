"""Load test: logins, SMS journeys, SAML and OpenID Connect single sign-on for several minutes.

    .venv/bin/python bench/load.py [--minutes 3] [--users 8] [--accounts 3000] [--no-write]

Two web processes (gunicorn with `deploy/gunicorn.conf.py`, one sync worker each) behind nginx on a throwaway PostgreSQL
database with Redis as cache (bench/cluster.py), and locust (bench/requirements.txt) in this process,
headless, as simulated people who each do one journey after another (bench/journeys.py):
  - password login at the mire, then the account page (most);
  - "Mot de passe perdu" by SMS: the code read from the dev outbox (the database), a new password,
    a login with it;
  - SAML SSO for a registered SP: an unsigned HTTP-Redirect AuthnRequest (the SP does not sign), the
    mire of the IdP, the auto-POST page holding the SAMLResponse;
  - OpenID Connect code flow with PKCE for a registered client: authorize, the mire, the code, the
    token endpoint (client secret + code verifier), userinfo.
Each journey is done by a new person (no cookies) with an address of their own, sent as
X-Forwarded-For, which nginx trusts from loopback here: per-address throttles and SMS budgets then
count as they would for real families, not for one address sending everything.

Any answer other than the expected one (each step's status, then the journey's end) is an error; a
run with errors prints them and exits 1 without writing. Otherwise the figures go into their section
of docs/benchmarks.md.
"""

# locust patches the standard library for gevent when imported: before requests and psycopg.
import locust  # noqa: F401, I001

import argparse
import base64
import contextlib
import hashlib
import itertools
import os
import platform
import secrets
import subprocess
import sys
import time
import zlib
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import gevent
import psycopg
from locust import HttpUser, between, task
from locust.env import Environment

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.cluster import PASSWORD, Cluster, ClusterError, _children  # noqa: E402
from bench.common import process_rss_kib  # noqa: E402
from bench.journeys import FOUND, JourneyError, Visitor, login, lost_password_by_sms  # noqa: E402
from bench.report import code_version  # noqa: E402

NEW_PASSWORD = "Trousse#Bleue2026"  # noqa: S105 - what the lost-password journeys choose
SP_ENTITY = "https://ent-charge.example.fr/saml"
SP_ACS = "https://ent-charge.example.fr/saml/acs"
OIDC_CLIENT = "bench-load"
OIDC_SECRET = "bench-load-secret-for-the-throwaway-cluster-only"  # noqa: S105
OIDC_REDIRECT = "https://pronote-charge.example.fr/cb"
SSO_REDIRECT = "/idp/profile/SAML2/Redirect/SSO"
AUTHORIZE = "/idp/profile/oidc/authorize"
KINDS = {"login": 6, "sms": 1, "saml": 2, "oidc": 2}  # the mix, by weight

SP_METADATA = f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{SP_ENTITY}">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{SP_ACS}" index="0"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"""


def authn_request(destination: str) -> str:
    """An unsigned AuthnRequest in the HTTP-Redirect encoding (DEFLATE, base64)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    xml = (
        '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
        f'ID="_{secrets.token_hex(16)}" Version="2.0" IssueInstant="{now}" Destination="{destination}" '
        f'AssertionConsumerServiceURL="{SP_ACS}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">'
        f"<saml:Issuer>{SP_ENTITY}</saml:Issuer></samlp:AuthnRequest>"
    )
    deflated = zlib.compressobj(wbits=-15)
    raw = deflated.compress(xml.encode()) + deflated.flush()
    return base64.b64encode(raw).decode()


class Pools:
    """Accounts handed to the journeys: lost-password journeys change passwords, so they get their own."""

    def __init__(self, cluster: Cluster) -> None:
        guardians = [a for a in cluster.accounts if a.kind == "guardian"]
        sms = guardians[: len(guardians) // 2]
        self.sms = iter(sms)  # each used once: per-phone SMS budgets
        taken = {a.identifier for a in sms}
        others = [a.identifier for a in cluster.accounts if a.identifier not in taken]
        self.logins = itertools.cycle(others)
        self.addresses = (f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}" for n in itertools.count(1))
        self.cluster = cluster


POOLS: Pools | None = None


def _journey(user: "Person", kind: str, walk) -> None:
    """One journey by a new person; recorded as a JOURNEY entry, failed on any unexpected answer."""
    assert POOLS is not None  # noqa: S101
    user.client.cookies.clear()
    person = Visitor(user.client, user.host, address=next(POOLS.addresses), name_requests=True)
    start = time.perf_counter()
    error: Exception | None = None
    try:
        walk(person)
    except (JourneyError, KeyError, ValueError) as exc:
        error = exc
    bad = [s for s in person.steps if s.status >= 400]  # noqa: PLR2004
    if error is None and bad:
        error = JourneyError(f"{bad[0].kind} answered {bad[0].status}")
    user.environment.events.request.fire(
        request_type="JOURNEY",
        name=kind,
        response_time=(time.perf_counter() - start) * 1000,
        response_length=0,
        exception=error,
        context={},
    )


def _fail(why: str) -> None:
    raise JourneyError(why)


def _saml(person: Visitor, identifier: str) -> None:
    query = urlencode({"SAMLRequest": authn_request(person.base_url + SSO_REDIRECT), "RelayState": "charge"})
    start = person.send("GET", f"{SSO_REDIRECT}?{query}", "SAML GET SSO")
    if start.status_code != FOUND:
        raise JourneyError(f"SAML SSO: {start.status_code}")
    execution = urlsplit(start.headers["Location"])
    path = f"{execution.path}?{execution.query}"
    if person.send("GET", path, "SAML GET mire").status_code != 200:  # noqa: PLR2004
        raise JourneyError("SAML mire")
    data = {"j_username": identifier, "j_password": PASSWORD, "_eventId_proceed": ""}
    answer = person.send("POST", path, "SAML POST mire", data)
    if answer.status_code != 200 or 'name="SAMLResponse"' not in answer.text:  # noqa: PLR2004
        raise JourneyError(f"SAML: no SAMLResponse ({answer.status_code})")


def _oidc(person: Visitor, identifier: str) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "response_type": "code",
        "client_id": OIDC_CLIENT,
        "redirect_uri": OIDC_REDIRECT,
        "scope": "openid profile",
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    authorize = f"{AUTHORIZE}?{urlencode(params)}"
    to_mire = person.send("GET", authorize, "OIDC GET authorize")
    if to_mire.status_code != FOUND:
        raise JourneyError(f"OIDC authorize: {to_mire.status_code}")
    mire = urlsplit(to_mire.headers["Location"])
    token, _ = person.form(f"{mire.path}?{mire.query}", "OIDC GET mire")
    nxt = parse_qs(mire.query)["next"][0]
    data = {"csrfmiddlewaretoken": token, "identifier": identifier, "password": PASSWORD, "next": nxt}
    back = person.send("POST", f"{mire.path}?{mire.query}", "OIDC POST mire", data)
    if back.status_code != FOUND:
        raise JourneyError(f"OIDC mire: {back.status_code}")
    coded = person.send("GET", back.headers["Location"], "OIDC GET authorize (logged in)")
    code = parse_qs(urlsplit(coded.headers.get("Location", "")).query).get("code", [""])[0]
    if coded.status_code != FOUND or not code:
        raise JourneyError(f"OIDC: no code ({coded.status_code})")
    tokens = person.send(
        "POST",
        "/idp/profile/oidc/token",
        "OIDC POST token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": OIDC_REDIRECT,
            "client_id": OIDC_CLIENT,
            "client_secret": OIDC_SECRET,
            "code_verifier": verifier,
        },
    )
    access = tokens.json().get("access_token") if tokens.status_code == 200 else None  # noqa: PLR2004
    if not access:
        raise JourneyError(f"OIDC token: {tokens.status_code}")
    info = person.session.get(
        person.base_url + "/idp/profile/oidc/userinfo",
        headers={"Authorization": f"Bearer {access}", "X-Forwarded-For": person.address},
        name="OIDC GET userinfo",
    )
    if info.status_code != 200 or "sub" not in info.json():  # noqa: PLR2004
        raise JourneyError(f"OIDC userinfo: {info.status_code}")


class Person(HttpUser):
    wait_time = between(0.2, 1.0)  # a person's pause between two journeys

    @task(KINDS["login"])
    def mire_login(self) -> None:
        identifier = next(POOLS.logins)
        _journey(self, "login at the mire", lambda p: login(p, identifier, PASSWORD, tries=1))

    @task(KINDS["sms"])
    def lost_password(self) -> None:
        account = next(POOLS.sms, None)
        if account is None:
            _journey(self, "lost password by SMS", lambda _: _fail("every SMS account was used: raise --accounts"))
            return
        read = lambda: POOLS.cluster.latest_sms_code(account.phone)  # noqa: E731
        _journey(
            self,
            "lost password by SMS",
            lambda p: lost_password_by_sms(p, account.identifier, NEW_PASSWORD, read, tries=1),
        )

    @task(KINDS["saml"])
    def saml_sso(self) -> None:
        identifier = next(POOLS.logins)
        _journey(self, "SAML SSO", lambda p: _saml(p, identifier))

    @task(KINDS["oidc"])
    def oidc_code_flow(self) -> None:
        identifier = next(POOLS.logins)
        _journey(self, "OIDC code flow + PKCE", lambda p: _oidc(p, identifier))


def register_services(cluster: Cluster) -> None:
    env = cluster.processes[0].env
    metadata = cluster.workdir / "sp.xml"
    metadata.write_text(SP_METADATA)
    manage = [sys.executable, str(ROOT / "manage.py")]
    for command in (
        ["saml_sp_add", "--file", str(metadata), "--name", "ENT (charge)", "--no-encrypt", "--no-release-children"],
        [
            "oidc_client_add",
            "--name",
            "Pronote (charge)",
            "--client-id",
            OIDC_CLIENT,
            "--client-secret",
            OIDC_SECRET,
            "--redirect-uri",
            OIDC_REDIRECT,
        ],
    ):
        subprocess.run([*manage, *command], cwd=ROOT, env=env, check=True, capture_output=True)


def machine(cluster: Cluster, load_before: str) -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            model,
        )
    with psycopg.connect(cluster.database_url) as conn:
        pg = str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True, check=False).stderr.strip().split("/")[-1]
    return {
        "cpu": f"{model}, {os.cpu_count()} cores",
        "os": f"{platform.system()} {platform.release()}",
        "load": load_before,
        "versions": f"Python {platform.python_version()}, gunicorn {version('gunicorn')}, nginx {nginx}, "
        f"PostgreSQL {pg}, locust {version('locust')}",
        "code": code_version(),
    }


def loadavg() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def report(args: argparse.Namespace, env: Environment, seconds: float, info: dict[str, str], load_after: str) -> str:
    stats = env.stats
    rows = sorted(stats.entries.values(), key=lambda e: (e.method != "JOURNEY", e.name))
    lines = [
        "| | |",
        "|---|---|",
        f"| Date | {datetime.now(UTC):%Y-%m-%d %H:%M} UTC |",
        f"| Code | {info['code']} |",
        f"| Machine | {info['cpu']}; {info['os']}; load average {info['load']} before, {load_after} after |",
        f"| Software | {info['versions']} |",
        (
            f"| Set-up | 2 web processes (gunicorn, `deploy/gunicorn.conf.py`, 1 sync worker each) behind nginx, PostgreSQL, Redis; "
            f"{args.accounts} active accounts; locust, {args.users} simulated people on this same machine, "
            "0.2–1 s between journeys, each journey a new person with their own address |"
        ),
        f"| Duration | {seconds:.0f} s |",
        f"| Memory | {info.get('memory', 'not measured')} |",
        f"| Errors | **{errors(env)}** |",
        (
            f"| Throughput | **{stats.total.total_rps - _journey_rps(stats):.1f} requests/s**, "
            f"{_journey_rps(stats):.1f} journeys/s |"
        ),
        "",
        "| Kind | Count | Errors | p50 (ms) | p99 (ms) | per second |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for e in rows:
        label = f"**journey: {e.name}**" if e.method == "JOURNEY" else e.name
        lines.append(
            f"| {label} | {e.num_requests} | {e.num_failures} | {e.get_response_time_percentile(0.5):.0f} | "
            f"{e.get_response_time_percentile(0.99):.0f} | {e.total_rps:.2f} |"
        )
    lines += [
        "",
        f"Command: `make bench-load MINUTES={args.minutes:g}` (`bench/load.py --minutes {args.minutes:g} --users {args.users}`)",
    ]
    if info["load"].split(" / ")[0] and float(info["load"].split(" / ")[0]) >= 1.5:  # noqa: PLR2004
        lines.append(
            "\n⚠ The machine was busy with other work when the run started (load average ≥ 1.5 on 2 cores): "
            "the figures are lower and the tails longer than on a quiet machine."
        )
    return "\n".join(lines)


def worker_rss_kib(cluster: Cluster) -> list[int]:
    """Resident memory of each process's gunicorn worker (the master's child), in KiB."""
    return [
        process_rss_kib(pid) for process in cluster.processes if process.proc for pid in _children(process.proc.pid)
    ]


def memory_line(early: list[int], late: list[int], at: float) -> str:
    if not early or len(early) != len(late):
        return "not measured"
    growth = max((b - a) / a for a, b in zip(early, late, strict=True)) * 100
    mib = lambda values: " / ".join(f"{v / 1024:.0f}" for v in values)  # noqa: E731 - a local format
    return f"workers' RSS {mib(early)} MiB at {at:.0f} s, {mib(late)} MiB at the end (largest growth {growth:+.1f} %)"


def errors(env: Environment) -> int:
    """Failed requests and journeys, and exceptions raised in the simulated people's code."""
    crashes = sum(e["count"] for e in env.runner.exceptions.values()) if env.runner else 0
    return env.stats.total.num_failures + crashes


def _journey_rps(stats) -> float:
    return sum(e.total_rps for e in stats.entries.values() if e.method == "JOURNEY")


def run(args: argparse.Namespace) -> int:
    global POOLS  # noqa: PLW0603 - locust's users are created by the runner, they read the pools here
    load_before = loadavg()
    print(f"Load average before: {load_before}", flush=True)
    with Cluster.start(processes=2, accounts=args.accounts, database_prefix="trousseau_load_bench") as cluster:
        register_services(cluster)
        info = machine(cluster, load_before)
        POOLS = Pools(cluster)
        env = Environment(user_classes=[Person], host=cluster.url)
        runner = env.create_local_runner()
        seconds = args.minutes * 60
        print(f"{args.users} people for {seconds:.0f} s against {cluster.url} ...", flush=True)
        runner.start(args.users, spawn_rate=args.users)
        gevent.spawn_later(seconds, runner.quit)
        # Memory of each web worker once warm (a sixth of the run, at most a minute) and at the end: a
        # soak (`--minutes 10`) shows whether it keeps growing.
        early: list[int] = []
        gevent.spawn_later(min(60.0, seconds / 6), lambda: early.extend(worker_rss_kib(cluster)))
        started = time.monotonic()
        runner.greenlet.join()
        elapsed = time.monotonic() - started
        info["memory"] = memory_line(early, worker_rss_kib(cluster), min(60.0, seconds / 6))
        body = report(args, env, elapsed, info, loadavg())
        print(f"\n{body}")
        if errors(env):
            print("\nErrors:", file=sys.stderr)
            for error in env.stats.errors.values():
                print(f"  {error.occurrences} × {error.method} {error.name}: {error.error}", file=sys.stderr)
            for crash in runner.exceptions.values():
                print(f"  {crash['count']} × {crash['msg']}\n{crash['traceback']}", file=sys.stderr)
            print(cluster.logs(), file=sys.stderr)
            return 1
    if not args.no_write:
        write_doc(body)
        print("\nWritten to docs/benchmarks.md")
    return 0


def write_doc(body: str) -> None:
    """Replace the `result:load` block of docs/benchmarks.md (its section is not a script's own:
    bench/run.py's writer keeps only its login blocks, and silently dropped this one)."""
    doc = ROOT / "docs" / "benchmarks.md"
    start, end = "<!-- result:load -->\n", "\n<!-- /result:load -->"
    text = doc.read_text()
    if start not in text or end not in text:
        raise SystemExit("docs/benchmarks.md has no result:load block to replace")
    head, rest = text.split(start, 1)
    doc.write_text(head + start + body + end + rest.split(end, 1)[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="duration (default 3)")
    parser.add_argument("--users", type=int, default=8, help="simulated people at once (default 8)")
    parser.add_argument("--accounts", type=int, default=3000, help="active accounts to create (default 3000)")
    parser.add_argument("--no-write", action="store_true", help="print the result without writing the doc")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (ClusterError, subprocess.CalledProcessError) as exc:
        print(f"bench-load: FAILED: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
