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
import hashlib
import itertools
import re
import secrets
import subprocess
import sys
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import gevent
from locust import HttpUser, between, task
from locust.env import Environment

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.cluster import PASSWORD, Cluster, ClusterError  # noqa: E402
from bench.journeys import FOUND, JourneyError, Visitor, login, lost_password_by_sms  # noqa: E402
from bench.load_report import errors, loadavg, machine, memory_line, report, worker_rss_kib, write_doc  # noqa: E402
from bench.morning_journey import Forms, path_of  # noqa: E402

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
        # "Je suis" at ÉduConnect's mire, as each person answers it (a pupil choosing « Parent » is refused).
        self.profiles = {a.identifier: "eleve" if a.kind == "pupil" else "responsable" for a in cluster.accounts}
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
    """ÉduConnect's three login steps (trousseau/federation/saml/login.py) as a browser with script walks
    them: the local-storage page (e1s1), the mire (e1s2), the local-storage page (e1s3), then the answer."""
    query = urlencode({"SAMLRequest": authn_request(person.base_url + SSO_REDIRECT), "RelayState": "charge"})
    step = _next_step(person.send("GET", f"{SSO_REDIRECT}?{query}", "SAML GET SSO"), "e1s1")
    action, fields = _step_form(person, step, "SAML GET e1s1", "csrf_token")
    step = _next_step(person.send("POST", action, "SAML POST e1s1", fields), "e1s2")
    action, fields = _step_form(person, step, "SAML GET mire", "j_username")
    assert POOLS is not None  # noqa: S101
    fields |= {"j_username": identifier, "j_password": PASSWORD, "typeUser": POOLS.profiles[identifier]}
    step = _next_step(person.send("POST", action, "SAML POST mire", fields), "e1s3")
    action, fields = _step_form(person, step, "SAML GET e1s3", "csrf_token")
    answer = person.send("POST", action, "SAML POST e1s3", fields)
    if answer.status_code != 200 or 'name="SAMLResponse"' not in answer.text:  # noqa: PLR2004
        raise JourneyError(f"SAML: no SAMLResponse ({answer.status_code})")


def _next_step(response: Any, execution: str) -> str:
    """The path and query of the step a 302 leads to, which must be `execution`."""
    location = response.headers.get("Location", "") if response.status_code == FOUND else ""
    if f"execution={execution}" not in location:
        alert = re.search(r'class="fr-alert[^"]*"[^>]*>(.*?)</div>', response.text, re.DOTALL)
        said = f": {' '.join(re.sub(r'<[^>]+>', ' ', alert[1]).split())[:160]}" if alert else ""
        raise JourneyError(f"SAML: {response.status_code} to {location or 'nowhere'}, not {execution}{said}")
    return path_of(location)


def _step_form(person: Visitor, step: str, kind: str, field: str) -> tuple[str, dict[str, str]]:
    """The step page's form that has `field`: where it posts (the step itself when it does not say) and
    its inputs as the page fills them in."""
    page = person.send("GET", step, kind)
    forms = Forms(page.text).forms if page.status_code == 200 else []  # noqa: PLR2004
    action, fields = next(((a, f) for a, f in forms if field in f), ("", {}))
    if not fields:
        raise JourneyError(f"SAML: {kind} answered {page.status_code} without a form")
    return path_of(action) if action else step, fields


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
