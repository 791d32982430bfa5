"""A guardian's morning journey: the identity provider's CPU per journey next to its cryptographic floor.

    .venv/bin/python bench/morning.py [--journeys 240] [--rounds 6] [--database postgres|sqlite]
                                      [--profile FILE | --layers] [--no-write]

Goal (issue #21): the journey costs at most twice its cryptography, floor / journey ≥ 0.5.

Measured: the whole journey of bench/morning_journey.py (the demo ENT by SAML with a signed
AuthnRequest, ÉduConnect's login steps and an argon2id password login, a signed and encrypted
assertion; the Pronote-like by OpenID Connect, code with PKCE, token, userinfo; the téléservices-like
by SAML riding the session), each journey a fresh browser and another guardian, against one gunicorn
sync worker with deploy/gunicorn.conf.py (through bench/morning_gunicorn.py, which adds per-request
hooks), production settings, PostgreSQL; the CPU of that worker per journey.

Reference, the floor: the cryptographic operations of the journey, read from the answers themselves
(bench/morning_floor.py: each signature, key transport, AES-GCM encryption, request-signature
verification, the ID token's signature, the argon2id verify with the stored hash's parameters), done
bare with the same keys on the same core. Journeys and floor alternate in rounds so that both see the
same machine. Every journey is checked step by step; once a round its two SAMLResponses are read by
pysaml2's client as the SP would (xmlsec1 checks the signatures and decrypts) and its ID token is
verified against the JWKS; the floor is derived again from that journey and must not change. Any
failure stops the run and writes nothing.

Also reported: per request of the journey, the worker's CPU in the application, its share of
cryptography (the floor's operations of that request) and its SQL statements. `--profile FILE` runs
the worker under cProfile (about four times slower: read its shares, not its milliseconds), writes
the profile to FILE, prints a summary and writes no figures. `--layers` splits each request's CPU
into gunicorn's part, Django's handler, the middleware, the session's read and write and the view
(bench/morning_layers.py) and writes that table only (PostgreSQL): its timers cost the journey a little.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.cluster import GUNICORN, _children  # noqa: E402 - after the path is set
from bench.common import (  # noqa: E402
    PG_URL,
    BenchError,
    Server,
    configure_environment,
    create_accounts,
    free_port,
    pg_create,
    pg_drop,
    request,
    run_main,
)
from bench.morning_floor import Floor, Operation  # noqa: E402
from bench.morning_journey import STEPS, Journey, morning  # noqa: E402
from bench.morning_layers import layer_table  # noqa: E402
from bench.morning_report import SECTION_HEAD, derive_floor, result_block, same_cryptography  # noqa: E402
from bench.report import describe_machine, print_by_package, write_section  # noqa: E402

MORNING_PG_URL = PG_URL.rsplit("/", 1)[0] + "/trousseau_morning_bench"
CONF = ROOT / "bench" / "morning_gunicorn.py"


def cpu_with_children(pid: int) -> float:
    """utime + stime of a process and of the children it waited for (an xmlsec1 would count)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / os.sysconf("SC_CLK_TCK")


def register_services(workdir: Path) -> tuple[Any, Any]:
    """The demo's services as `make run` registers them: two SAML SPs asking for encryption, one OIDC client."""
    from django.core.management import call_command

    from bench.morning_journey import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI
    from tests.federation.saml.sp import PySamlSP
    from trousseau.federation.saml.services import sp_register

    ent = PySamlSP(workdir / "ent", entity_id="http://127.0.0.1:8010/auth/saml/metadata",
                   base="http://127.0.0.1:8010", sign_requests=True)  # fmt: skip
    sp_register(ent.metadata(), name="ENT de démonstration", release_children=True, release_join=True,
                encrypt=True, allow_idp_initiated=True)  # fmt: skip
    ts = PySamlSP(workdir / "teleservices", entity_id="http://127.0.0.1:8012/auth/saml/metadata",
                  base="http://127.0.0.1:8012", sign_requests=True)  # fmt: skip
    sp_register(ts.metadata(), name="Téléservices (démonstration)", release_children=False, encrypt=True,
                allow_idp_initiated=False)  # fmt: skip
    call_command(
        "oidc_client_add", "--update", "--name", "Pronote (démonstration)", "--client-id", CLIENT_ID,
        "--client-secret", CLIENT_SECRET, "--redirect-uri", REDIRECT_URI, "--children",
    )  # fmt: skip
    return ent, ts


def guardians(count: int) -> list[str]:
    from trousseau.accounts.models import Account

    identifiers, _ = create_accounts(2 * count)
    found = list(
        Account.objects.filter(identifier__in=identifiers, kind="guardian")
        .order_by("pk")
        .values_list("identifier", flat=True)
    )
    if len(found) < count:
        raise BenchError(f"{len(found)} guardian accounts made, {count} needed")
    return found[:count]


class Run:
    """The server, the services and the measurements of one run."""

    def __init__(self, args: argparse.Namespace, server: Server, worker: int, services: tuple[Any, Any], issuer: str):
        self.args, self.server, self.worker = args, server, worker
        self.ent, self.teleservices = services
        self.issuer = issuer
        self.log = Path(server.log.parent / "requests.log")
        self.layers_log = Path(server.log.parent / "layers.log") if args.layers else None
        self.layer_lines: list[list[str]] = []  # --layers: each measured request's line, as `lines`
        self.journey_cpu = self.journey_wall = 0.0
        self.journeys = 0
        self.lines: list[list[str]] = []  # the worker's per-request lines of the measured journeys
        # What deriving the floor again needs, and the cores (server's, clients'): set once the server runs.
        self.workdir, self.stored_hash, self.jwks = server.log.parent, "", {}
        self.pins: tuple[set[int], set[int]] = (set(), set())

    def journey(self, identifier: str) -> Journey:
        return morning(self.server.port, identifier, self.ent, self.teleservices, self.issuer)

    def read_lines(self, start: int) -> list[list[str]]:
        lines = self.log.read_text().splitlines()[start:]
        return [line.split() for line in lines]

    def floor_of(self, journey: Journey) -> list[Operation]:
        return derive_floor(journey, self.workdir, self.stored_hash, self.jwks)

    def measured(self, identifiers: list[str]) -> Journey:
        """Journeys for these guardians, timed; the first is returned for the checks."""
        os.sched_setaffinity(0, self.pins[1] or os.sched_getaffinity(0))
        start_line = len(self.log.read_text().splitlines())
        cpu0, wall0 = cpu_with_children(self.worker), time.perf_counter()
        first = None
        for identifier in identifiers:
            done = self.journey(identifier)
            first = first or done
        self.journey_wall += time.perf_counter() - wall0
        sent = [step for _ in identifiers for step in first.sent] if first else []
        lines = self.read_lines(start_line)
        deadline = time.monotonic() + 10
        while len(lines) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.02)  # the worker writes a request's line after sending its answer
            lines = self.read_lines(start_line)
        # Read once the last line is written: the worker's work after the last answer is the journey's.
        self.journey_cpu += cpu_with_children(self.worker) - cpu0
        self.journeys += len(identifiers)
        if [(m, p) for m, p, *_ in lines] != sent:
            raise BenchError("the worker's request log does not match the requests sent (another client? a restart?)")
        if first is None:
            raise BenchError("a round without journeys")
        self.lines += lines
        if self.layers_log is not None:
            layers = [line.split() for line in self.layers_log.read_text().splitlines()[start_line:]]
            if len(layers) != len(lines):
                raise BenchError("the worker's layer log does not match its request log")
            self.layer_lines += layers
        return first


def check(run: Run, journey: Journey) -> None:
    """The deeper checks, once a round: the SPs read their responses; the ID token verifies."""
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    for sp, (step, saml) in zip((run.ent, run.teleservices), journey.saml.items(), strict=True):
        response = sp.read(saml, journey.request_ids[step])
        if response.assertion is None or not response.ava:
            raise BenchError(f"{step}: the service provider found no assertion or no attributes")
    try:
        token = jwt.decode(journey.tokens["id_token"], KeySet.import_key_set(run.jwks), algorithms=["RS256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": run.issuer},
            aud={"essential": True, "value": "pronote-demo"},
            nonce={"essential": True, "value": journey.nonce},
            sub={"essential": True, "value": journey.userinfo["sub"]},
            exp={"essential": True},
        ).validate(token.claims)
    except (JoseError, ValueError) as exc:
        raise BenchError(f"the ID token does not verify against the JWKS: {exc!r}") from exc


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--journeys", type=int, default=240, help="measured journeys in all (240)")
    parser.add_argument("--warmup", type=int, default=20, help="journeys before measuring (20)")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds (6)")
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--pg-url", default=MORNING_PG_URL, help=f"throwaway database (default {MORNING_PG_URL})")
    parser.add_argument("--profile", metavar="FILE", help="cProfile of the worker into FILE; writes no figures")
    parser.add_argument("--layers", action="store_true", help="each request's CPU by layer; writes that table only")
    parser.add_argument("--no-write", action="store_true", help="print the result without writing the doc")
    args = parser.parse_args(argv)
    if args.journeys < args.rounds or args.rounds < 1:
        parser.error("at least one journey per round")
    if args.profile and args.layers:
        parser.error("--profile and --layers each change what the worker spends: one at a time")
    if args.layers and args.database != "postgres" and not args.no_write:
        parser.error("--layers writes its table for PostgreSQL only: add --no-write to print it for SQLite")
    return args


def start_server(env: dict[str, str], workdir: Path, port: int, args: argparse.Namespace, cpus: set[int]):
    extra = {
        "TROUSSEAU_BIND": f"127.0.0.1:{port}",
        "TROUSSEAU_WORKERS": "1",
        # No rolling restart in the middle of a run (production: 5000 ± 10 %): the worker is measured by pid.
        "TROUSSEAU_MAX_REQUESTS": "1000000",
        "MORNING_REQUEST_LOG": str(workdir / "requests.log"),
    }
    if args.profile:
        extra["MORNING_PROFILE"] = str(Path(args.profile).resolve())
    if args.layers:
        extra["MORNING_LAYERS"] = str(workdir / "layers.log")
    server = Server({**env, **extra}, workdir, name="gunicorn", argv=[GUNICORN, "-c", str(CONF)], port=port, cpus=cpus)
    server.wait_ready()
    deadline = time.monotonic() + 120
    while request(port, "GET", "/login").status != 200:  # noqa: PLR2004 - the worker has loaded Django
        if time.monotonic() > deadline:
            raise BenchError(f"gunicorn served no page:\n{server.tail()}")
        time.sleep(0.2)
    workers = _children(server.proc.pid)
    if len(workers) != 1:
        raise BenchError(f"gunicorn has {len(workers)} workers, not one")
    return server, workers[0]


def run(args: argparse.Namespace) -> None:
    with contextlib.ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="trousseau-bench-morning-"))
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        db_url = args.pg_url if args.database == "postgres" else f"sqlite:///{workdir / 'bench.sqlite3'}"
        port = free_port()
        issuer = f"http://127.0.0.1:{port}"
        env = configure_environment(db_url, workdir, TROUSSEAU_PUBLIC_URL=issuer)
        import django
        from django.core.management import call_command
        from django.db import connections

        django.setup()
        if args.database == "postgres":
            pg_create(db_url)
            cleanup.callback(pg_drop, db_url)
        cleanup.callback(connections.close_all)
        print("Preparing: database, guardians, the demo's services ...", flush=True)
        call_command("migrate", verbosity=0)
        identifiers = guardians(args.warmup + args.journeys)
        services = register_services(workdir)
        from trousseau.accounts.models import Account

        stored_hash = Account.objects.get(identifier=identifiers[0]).password
        machine = describe_machine(args.database)
        connections.close_all()

        usable = sorted(os.sched_getaffinity(0))
        pins = ({usable[-1]}, set(usable[:-1])) if len(usable) > 1 else (set(), set())
        server, worker = start_server(env, workdir, port, args, pins[0])
        cleanup.callback(server.stop)
        meta = json.loads(request(port, "GET", "/.well-known/openid-configuration").body)
        jwks = json.loads(request(port, "GET", urlsplit(meta["jwks_uri"]).path).body)
        bench = Run(args, server, worker, services, issuer)
        bench.stored_hash, bench.jwks, bench.pins = stored_hash, jwks, pins
        print(f"Warming up: {args.warmup} journeys ...", flush=True)
        last = None
        for identifier in identifiers[: args.warmup]:
            last = bench.journey(identifier)
        if last is None:
            raise BenchError("no warm-up journey: the floor is derived from one")
        operations = bench.floor_of(last)
        floor = Floor(operations, keyring(workdir))
        ratios = rounds(bench, floor, identifiers[args.warmup :], operations)
        server.stop()
        if args.profile:
            show_profile(Path(args.profile), bench.journeys)
            return
        report(args, machine, bench, floor, ratios)


def report(args: argparse.Namespace, machine: dict[str, str], bench: Run, floor: Floor, ratios: list[float]) -> None:
    key = f"morning-{args.database}"
    if args.layers:
        key, body = f"{key}-layers", layers_block(args, machine, bench, floor)
    else:
        body = result_block(args, machine, bench, floor, ratios)
    print(f"\n{body}")
    if not args.no_write:
        write_section("morning.py", SECTION_HEAD, RESULTS, key, body)
        print("\nWritten to docs/benchmarks.md")


RESULTS = [
    ("morning-postgres", "PostgreSQL"),
    ("morning-postgres-layers", "PostgreSQL, each request by layer (`--layers`)"),
    ("morning-sqlite", "SQLite"),
]


def layers_block(args: argparse.Namespace, machine: dict[str, str], bench: Run, floor: Floor) -> str:
    crypto = dict.fromkeys(STEPS, 0.0)
    for index, operation in enumerate(floor.operations):
        crypto[operation.step] += 1000 * floor.timing.spent[index] / floor.timing.times
    journey_ms = 1000 * bench.journey_cpu / bench.journeys
    requests_ms = 1000 * sum(float(line[3]) for line in bench.lines) / bench.journeys
    table = layer_table(STEPS, bench.lines, bench.layer_lines, crypto)
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine['cpu']}, code {machine['code']}, "
        f"{machine['database']}: {bench.journeys} journeys, **{journey_ms:.1f} ms** of the worker's CPU per "
        f"journey with the timers: the requests below, and gunicorn's {journey_ms - requests_ms:.1f} ms around "
        f"them. Milliseconds of CPU per request, means over the measured journeys:\n\n{table}\n\n"
        f"Command: `.venv/bin/python bench/morning.py --layers --journeys {args.journeys} --rounds {args.rounds} "
        f"--database {args.database}`"
    )


def keyring(workdir: Path) -> dict[str, Any]:
    """Every RSA private key the run made (the IdP's, the OIDC provider's, the SPs'), by public fingerprint."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from bench.morning_floor import fingerprint

    keys = {}
    for pem in workdir.rglob("*.pem"):
        with contextlib.suppress(ValueError, TypeError):
            key = load_pem_private_key(pem.read_bytes(), password=None)
            if isinstance(key, rsa.RSAPrivateKey):
                keys[fingerprint(key.public_key())] = key
    return keys


def rounds(bench: Run, floor: Floor, identifiers: list[str], operations: list[Operation]) -> list[float]:
    per_round = len(identifiers) // bench.args.rounds
    ratios = []
    for number in range(bench.args.rounds):
        chunk = identifiers[number * per_round : (number + 1) * per_round]
        cpu_before, journeys_before = bench.journey_cpu, bench.journeys

        def journeys(chunk: list[str] = chunk) -> None:
            first = bench.measured(chunk)
            check(bench, first)
            if not same_cryptography(bench.floor_of(first), operations):
                raise BenchError("the cryptography of a journey changed during the run")

        def bare(count: int = len(chunk)) -> float:
            os.sched_setaffinity(0, bench.pins[0] or os.sched_getaffinity(0))  # the server's core
            return floor.run(count)

        floor_cpu = 0.0
        for part in (journeys, bare) if number % 2 == 0 else (bare, journeys):
            spent = part()
            floor_cpu = spent if isinstance(spent, float) else floor_cpu
        journey_ms = 1000 * (bench.journey_cpu - cpu_before) / (bench.journeys - journeys_before)
        ratios.append(1000 * floor_cpu / len(chunk) / journey_ms)
        print(f"  round {number + 1}/{bench.args.rounds}: journey {journey_ms:.1f} ms CPU, "
              f"floor {1000 * floor_cpu / len(chunk):.1f} ms, ratio {ratios[-1]:.2f}", flush=True)  # fmt: skip
    return ratios


def show_profile(path: Path, journeys: int) -> None:
    if not path.exists():
        raise BenchError(f"the worker wrote no profile to {path}")
    stats = pstats.Stats(str(path))
    total = sum(own for (_, _, own, _, _) in stats.stats.values())  # type: ignore[attr-defined]
    print(f"\nProfile of the worker: {path} ({1000 * total / max(journeys, 1):.1f} ms CPU per journey, all included)")
    print_by_package(stats, total, max(journeys, 1))
    stats.sort_stats("cumulative").print_stats(40)


def main(argv: list[str] | None = None) -> int:
    return run_main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
