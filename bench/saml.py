"""SAML single sign-on: a response with an encrypted assertion, next to the same response unencrypted.

    .venv/bin/python bench/saml.py [--seconds N] [--database postgres|sqlite] [--no-write]

Goals: encrypting the assertion, which ÉduConnect's service providers ask for, adds at most a quarter
to a single sign-on (ratio of times per SSO ≤ 1.25); and (issue #21) the server's CPU per encrypted
answer is at most 1.5 × its cryptography done bare: its two signatures, the RSA-OAEP key transport and
the AES-GCM encryption, read from the answer itself (bench/morning_floor.py) and timed in the same
rounds with the same keys.

Reference: the same IdP-initiated single sign-on (`/idp/profile/SAML2/Unsolicited/SSO`) for a second
service provider registered from the same kind of metadata without encryption: a signed response and
a signed assertion, in the clear. Measured: the same for a service provider that asks for encryption
(AES-128-GCM, the key under the SP's RSA-3072 certificate with RSA-OAEP). One single-threaded WSGI
server process (`bench/serve.py`, production settings, every middleware), one logged-in browser, one
request at a time; the two sides alternate in rounds so that both see the same machine. Every answer
must be a 200 carrying a SAMLResponse for the SP's ACS, and once per round a response of each side
is read by pysaml2's client (the SP's side: xmlsec1 checks the signatures and decrypts), or the run
fails and writes nothing.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import html
import re
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402 - after the path is set
    PG_URL,
    BenchError,
    Browser,
    Server,
    configure_environment,
    create_accounts,
    free_port,
    pg_create,
    pg_drop,
    request,
    run_main,
)
from bench.morning_floor import AES, RSA_OAEP, RSA_SIGN, Floor, saml_response_operations  # noqa: E402
from bench.oidc_clients import User  # noqa: E402
from bench.report import describe_machine, write_section  # noqa: E402
from bench.saml_report import SECTION_HEAD, Bound, Side, result_block  # noqa: E402

SAML_PG_URL = PG_URL.rsplit("/", 1)[0] + "/trousseau_saml_bench"
FIELD = re.compile(r'name="SAMLResponse" value="([^"]+)"')


def register(workdir: Path, name: str, *, encrypt: bool) -> Side:
    from tests.federation.saml.sp import PySamlSP
    from trousseau.federation.saml.services import sp_register

    entity_id = f"https://{name}.bench.example/saml/metadata.xml"
    sp = PySamlSP(workdir / name, entity_id=entity_id, base=f"https://{name}.bench.example")
    sp_register(sp.metadata(), name=name, release_children=True, encrypt=encrypt, allow_idp_initiated=True)
    return Side("encrypted" if encrypt else "in the clear", entity_id, sp)


def sso(port: int, user: User, side: Side) -> str:
    path = "/idp/profile/SAML2/Unsolicited/SSO?" + urlencode({"providerId": side.entity_id, "target": "/bench"})
    resp = request(port, "GET", path, headers=user.cookie_header())
    found = FIELD.search(resp.body.decode(errors="replace"))
    if resp.status != 200 or not found:  # noqa: PLR2004
        raise BenchError(f"SSO for {side.label} answered {resp.status} without a SAMLResponse: {resp.body[:300]!r}")
    return html.unescape(found[1])


def check(side: Side, saml_response: str) -> None:
    """pysaml2's client reads it as the SP would: signatures, decryption (xmlsec1), audience, timing."""
    xml = base64.b64decode(saml_response)
    if (b"EncryptedAssertion" in xml) != (side.label == "encrypted"):
        raise BenchError(f"the response for the SP {side.label} is not as it asked")
    response = side.sp.read(saml_response, None)
    if response.assertion is None or not response.ava:
        raise BenchError(f"the SP {side.label} found no assertion or no attributes")


def measure(server: Server, user: User, sides: list[Side], floor: Floor, args: argparse.Namespace) -> list[float]:
    """Alternating rounds of both sides, and after the encrypted one its floor done as many times."""
    ratios = []
    for number in range(args.rounds):
        for side in sides if number % 2 == 0 else reversed(sides):
            check(side, sso(server.port, user, side))
            cpu, start, count = server.cpu_seconds(), time.perf_counter(), 0
            while time.perf_counter() - start < args.seconds:
                sso(server.port, user, side)
                count += 1
            side.wall += time.perf_counter() - start
            side.cpu += server.cpu_seconds() - cpu
            side.count += count
            side.round_ms = 1000 * (time.perf_counter() - start) / count
            if side.label == "encrypted":
                floor.run(count)
        clear, encrypted = sides
        ratios.append(encrypted.round_ms / clear.round_ms)
        print(f"  round {number + 1}/{args.rounds}: ratio {ratios[-1]:.2f}", flush=True)
    return ratios


def idle_request_ms(server: Server, seconds: float) -> float:
    """The server's CPU per GET /healthz, one request at a time on a new connection, as the SSOs were."""
    request(server.port, "GET", "/healthz")
    cpu, start, count = server.cpu_seconds(), time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        if request(server.port, "GET", "/healthz").status != 200:  # noqa: PLR2004
            raise BenchError(f"GET /healthz did not answer 200 on port {server.port}")
        count += 1
    return 1000 * (server.cpu_seconds() - cpu) / count


def bare_request_ms(env_vars: dict[str, str], workdir: Path, seconds: float) -> float:
    """The same, from bench/serve.py serving a WSGI application without Django."""
    port = free_port()
    argv = [sys.executable, str(ROOT / "bench" / "serve.py"), str(port), "hello"]
    server = Server(env_vars, workdir, name="hello", port=port, argv=argv)
    try:
        server.wait_ready()
        return idle_request_ms(server, seconds)
    finally:
        server.stop()


def built_answer_ms(identifier: str, side: Side, floor: Floor, rounds: int) -> tuple[float, float]:
    """CPU per encrypted answer built in this process, and per floor, in alternating blocks of 100.

    `floor`: a Floor of its own (not the rounds', whose timing the table's floor row reports)."""
    from trousseau.accounts.models import Account
    from trousseau.federation.saml import outbound
    from trousseau.federation.saml.inbound import unsolicited

    account = Account.objects.get(identifier=identifier)
    pending = unsolicited(side.entity_id, "/bench")
    instant = datetime.now(UTC)
    outbound.authn_response(pending, account, authn_instant=instant)  # the keys and the SP read once
    built = floored = 0.0
    for _ in range(rounds):
        start = time.thread_time()
        for _ in range(100):
            outbound.authn_response(pending, account, authn_instant=instant)
        built += time.thread_time() - start
        floored += floor.run(100)
    return 1000 * built / (100 * rounds), 1000 * floored / (100 * rounds)


def floor_of(workdir: Path, side: Side, saml_response: str) -> Floor:
    """The cryptography of one encrypted answer, read from it, ready to be done bare with the run's keys."""
    from bench.morning import keyring

    idp = x509.load_pem_x509_certificate((workdir / "saml-signing" / "cert.pem").read_bytes()).public_key()
    sp_key = serialization.load_pem_private_key((side.sp.directory / "key.pem").read_bytes(), password=None)
    if not isinstance(idp, rsa.RSAPublicKey) or not isinstance(sp_key, rsa.RSAPrivateKey):
        raise BenchError("the IdP's signing key and the SP's key must be RSA")
    operations = saml_response_operations(saml_response, side.label, idp_signer=idp, sp_key=sp_key)
    kinds = sorted(op.kind for op in operations)
    if kinds != sorted([RSA_SIGN, RSA_SIGN, RSA_OAEP, AES]):
        raise BenchError(f"an encrypted answer's cryptography is not two signatures, RSA-OAEP and AES: {kinds}")
    return Floor(operations, keyring(workdir))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="each side's time per round (3)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--pg-url", default=SAML_PG_URL, help=f"throwaway database (default {SAML_PG_URL})")
    parser.add_argument("--no-write", action="store_true", help="print the result without writing the doc")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> None:
    with contextlib.ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="trousseau-bench-saml-"))
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        db_url = args.pg_url if args.database == "postgres" else f"sqlite:///{workdir / 'bench.sqlite3'}"
        port = free_port()  # the SPs' metadata of the IdP names it
        env_vars = configure_environment(db_url, workdir, TROUSSEAU_PUBLIC_URL=f"http://127.0.0.1:{port}")
        import django
        from django.core.management import call_command
        from django.db import connections

        django.setup()
        if args.database == "postgres":
            pg_create(db_url)
            cleanup.callback(pg_drop, db_url)
        cleanup.callback(connections.close_all)
        call_command("migrate", verbosity=0)
        identifiers, _ = create_accounts(2)
        sides = [register(workdir, "clear", encrypt=False), register(workdir, "encrypted", encrypt=True)]
        machine = describe_machine(args.database)
        connections.close_all()

        server = Server(env_vars, workdir, name="serve", port=port)
        cleanup.callback(server.stop)
        server.wait_ready()
        user = User(identifiers[0])
        user.cookies = {"sessionid": Browser(port).login(user.login)}
        print(f"Measuring: {args.rounds} alternating rounds of {args.seconds:g} s per side ...", flush=True)
        floor = floor_of(workdir, sides[1], sso(server.port, user, sides[1]))
        ratios = measure(server, user, sides, floor, args)
        print("Measuring what the budget meets: a request that does nothing, the answer built in-process ...")
        idle = idle_request_ms(server, args.seconds)
        server.stop()  # the bare server next, alone on its core
        bare = bare_request_ms(env_vars, workdir, args.seconds)
        from bench.morning import keyring

        beside = Floor(floor.operations, keyring(workdir))
        built, floored = built_answer_ms(identifiers[0], sides[1], beside, args.rounds * 4)
        body = result_block(args, machine, sides, ratios, floor, bound=Bound(idle, bare, built, floored))
        print(f"\n{body}")
        if not args.no_write:
            results = [("saml-postgres", "PostgreSQL"), ("saml-sqlite", "SQLite")]
            write_section("saml.py", SECTION_HEAD, results, f"saml-{args.database}", body)
            print("\nWritten to docs/benchmarks.md")


def main(argv: list[str] | None = None) -> int:
    return run_main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
