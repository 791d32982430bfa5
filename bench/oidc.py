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
import contextlib
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402 - after the path is set
    DOC,
    PG_URL,
    BenchError,
    Server,
    add_common_arguments,
    configure_environment,
    create_accounts,
    database_url,
    free_port,
    pg_create,
    pg_drop,
    run_main,
)
from bench.oidc_clients import PanvaSide, Side, TrousseauSide, User, Window  # noqa: E402
from bench.oidc_processes import (  # noqa: E402
    check_panva_store,
    check_trousseau_store,
    in_process_code,
    in_process_cycle,
    log_in_panva,
    node_versions,
    panva_key_set,
    pin_plan,
    queries_of_one_cycle,
    redis_for,
    register_client,
    scopes_of,
    start_panva,
)
from bench.oidc_report import Measurement, client_bound, disturbance, result_block, total, write_doc  # noqa: E402
from bench.report import (  # noqa: E402
    describe_machine,
    print_by_package,
    sql_summary,
)

# Not run.py's database: each benchmark drops its own, and they may run at the same time.
OIDC_PG_URL = PG_URL.rsplit("/", 1)[0] + "/trousseau_oidc_bench"
# Cycles of each side before the rounds. panva's CPU per cycle fell from 4.3 to 3.3 ms over its first
# 2000 or so (V8 compiles hot code as it runs): fewer, and the rounds would measure it still warming.
WARM_UP = 2000


# --- orchestration --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_common_arguments(parser, pg_url=OIDC_PG_URL)
    parser.add_argument(
        "--warm-up",
        type=int,
        default=WARM_UP,
        help=f"untimed cycles of each side first (default {WARM_UP}: panva's node compiles its hot code as it runs)",
    )
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
