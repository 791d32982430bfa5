"""bench/oidc.py's report: the measurement, its warnings, its block and its section of docs/benchmarks.md."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.common import (
    SPREAD,
    Rate,
)
from bench.report import shown, system_row, write_section

GOAL = 1.0


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
    return f"**{shown(ratio, GOAL)}**, {'goal met' if ratio >= GOAL else 'goal not met'}"


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
        ("System", system_row(machine)),
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
rates are totals over all rounds. Before the rounds, each side runs 2000 untimed cycles (`--warm-up`):
node compiles panva's hot code as it runs, and its CPU per cycle fell from 4.3 to 3.3 ms over its
first 2000 or so (2026-12-07, Intel Xeon: with the 40 cycles of warm-up used until then, panva's
rate rose from round to round and the ratio of rates fell from 1.23 to 0.88 within one run, 0.99 in
all; warmed, panva's rounds held at 3.2 to 3.5 ms a cycle). Each server
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

Measured warm (2026-12-07, Intel Xeon, 2000 warm-up cycles): ratio of rates 0.94 (rounds 0.91 to
0.99), of CPU 1.12. Trousseau spends less CPU per cycle than panva with Redis (3.0 against 3.4 ms) but
is on CPU 79 % of its windows, against 94 % for node: the rest is waiting for PostgreSQL, the token
statement's execution (0.4 to 0.5 ms by `EXPLAIN ANALYZE`: the code's claim, the account's claims,
three token rows with their indexes, 29 WAL records) and its commit's flush of the WAL. As a
diagnostic only, with `synchronous_commit = off` for the whole database server: on CPU 84 %, ratio of
rates 1.01. That setting is not taken: a code's redemption must survive a crash, or the code could be
redeemed a second time after it (panva's Redis here keeps nothing on disk, as the issue's reference
has it).

Since 2026-12-07 (evening), a token request writes a third less: 2675 bytes of WAL instead of 4000 to
4020, measured in-process over 2000 redemptions alternating with the code before. The refresh-token
family a code gives is drawn with the code at the authorization endpoint (`services.authorization_values`)
instead of by the claim, so the claim changes no indexed column, and the authorization table keeps room
in its pages (`fillfactor` 50): every claim is a heap-only update and writes no index entry (it wrote
one in each of the table's eight indexes). The claim still sets the family where a row has none (a code
issued by the version before, during an upgrade). The authorization's code and session and the access
token's checksum lost the second, `varchar_pattern_ops` index that Django adds on PostgreSQL for LIKE,
which no query makes. The INSERT texts are written once per shape of row, and the values are prepared
on the connection itself rather than through Django's proxy: the three rows' values 94 → 52 µs.
UserInfo reads the token's row with a plain cursor instead of a raw queryset: 213 → 131 µs of CPU.
On the machine of that evening: 0.91 before, then 0.94, 0.95, 0.96 and 0.97 as the steps went in,
one run each (rounds 0.88 to 1.03), the last in that evening's table. Measured and left: the statement's own
execution is now 0.14 ms and ten foreign-key checks of a few µs each; the commit's flush of the WAL
about 0.15 ms (the difference in-process with `synchronous_commit = off` for that one session); a profile of the server
during the rounds shows the rest spread thin (the ID token's RSA signature, about a fifth of the
process's time, is the largest single part; then the driver's own work per statement, Django's
request and response objects, the middleware). On userinfo, Django and the middleware take about
175 of a request's 310 µs of CPU; a handler outside Django could save part of that, which is the lean
WSGI entry the morning section describes. PostgreSQL pinned to the clients' core (a diagnostic, not
the benchmark's setting) gave 0.99.
On 2026-12-07's night, on an AMD EPYC machine (the kind issue #21 measured on), the same code: 1.10,
then 0.81 in a run where the machine was busy (Trousseau's rounds from 82.7 to 206 cycles a second),
then 1.03. On 2026-12-08, on another AMD EPYC machine: 1.27 (rounds 1.14 to 1.34) in a first run, then
1.07 (the table).

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
