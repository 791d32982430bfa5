"""The login benchmark's report (bench/run.py): its verdicts, its table and its section of docs/benchmarks.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench.common import SPREAD, Rate
from bench.report import shown, system_row, write_section

GOAL = 0.9
GOAL_21 = 0.8  # issue #21's step towards GOAL, for the password login alone
QUIET = 0.9  # share of a core the pure-CPU reference must get for the run to count as undisturbed


@dataclass
class Environment:
    database: str
    seconds: float
    accounts: int
    clients: int
    rounds: int
    machine: dict[str, str] = field(default_factory=dict)


@dataclass
class Measurement:
    reference: Rate
    logins: Rate
    round_ratios: list[float]
    made: int  # logins made through the server, warm-up included


def disturbance(result: Measurement) -> str | None:
    """Why the figures are unreliable (other load on the machine), or None for an undisturbed run."""
    ref, ratios = result.reference, sorted(result.round_ratios)
    if ref.busy is not None and ref.busy < QUIET:
        return f"the pure-CPU reference had only {100 * ref.busy:.0f} % of a core"
    median = ratios[len(ratios) // 2]
    if (ratios[-1] - ratios[0]) > SPREAD * median:
        return f"the ratio moved from {ratios[0]:.2f} to {ratios[-1]:.2f} between rounds"
    return None


def _verdict(ratio: float) -> str:
    reached = "goal met" if ratio >= GOAL else "issue #21's 0.80 met" if ratio >= GOAL_21 else "goal not met"
    return f"**{shown(ratio, GOAL if ratio >= GOAL_21 else GOAL_21)}**, {reached}"


def result_block(env: Environment, result: Measurement, params: tuple[int, int, int], queries: str) -> str:
    ref, logins = result.reference, result.logins
    t, mem, p = params
    m = env.machine
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    ref_cpu = ref.cpu_ms_each or float("nan")
    login_cpu = logins.cpu_ms_each or float("nan")
    busy_row = f"reference {100 * (ref.busy or 0):.0f} %, server {100 * (logins.busy or 0):.0f} % of their windows"
    disturbed = disturbance(result)
    if disturbed:
        busy_row += f". ⚠ Other load disturbed this run ({disturbed}): rerun on a quiet machine"
    rows = [
        ("Date", date),
        ("Code", m["code"]),
        ("CPU", m["cpu"]),
        ("System", system_row(m)),
        ("Python / Django / argon2-cffi", f"{m['python']} / {m['django']} / {m['argon2']}"),
        ("Database", m["database"]),
        (
            f"Reference: raw argon2id verify (t={t}, m={mem} KiB, p={p}), 1 thread",
            f"**{ref.per_second:.1f} /s** ({ref.count} in {ref.wall:.1f} s); {ref_cpu:.1f} ms CPU each",
        ),
        (
            "Measured: full logins, 1 single-threaded server process",
            (
                f"**{logins.per_second:.1f} /s** ({logins.count} in {logins.wall:.1f} s, {env.accounts} accounts, "
                f"{env.clients} concurrent clients); {login_cpu:.1f} ms CPU each in the server process"
            ),
        ),
        (
            f"Ratio of rates (goal ≥ {GOAL:.2f}; issue #21: ≥ {GOAL_21:.2f})",
            (
                f"{_verdict(logins.per_second / ref.per_second)} (per round: {min(result.round_ratios):.2f} to "
                f"{max(result.round_ratios):.2f}, {len(result.round_ratios)} alternating rounds)"
            ),
        ),
        (
            f"Ratio of CPU time per operation (goal ≥ {GOAL:.2f}; issue #21: ≥ {GOAL_21:.2f})",
            f"{_verdict(ref_cpu / login_cpu)} (waiting left out; PostgreSQL's own processes not counted)",
        ),
        ("Time on CPU (the rest: waiting for I/O or for a core)", busy_row),
        ("SQL statements per login", queries),
    ]
    lines = [
        "| | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in rows),
        "",
        (
            f"Command: `.venv/bin/python bench/run.py --seconds {env.seconds:g} --database {env.database}` "
            f"({env.rounds} rounds)"
        ),
    ]
    return "\n".join(lines)


SECTION_HEAD = """## Password login (the mire, `POST /login`)

Written by `bench/run.py` (`make bench`), which rewrites only this section.

**Goal**: per core, full password logins reach at least 0.9 × the raw argon2id verification rate,
i.e. the service adds at most about 10 % to the hash that any password login must pay. Issue #21 asks
for 0.8 on the way there: the rows show both.

**Reference**: argon2-cffi's `PasswordHasher` with the project's parameters
(`trousseau/accounts/hashers.py`), `verify()` of a right password in a loop, one thread.

**Measured**: one single-threaded WSGI server process (`bench/serve.py`: the standard library's
`wsgiref` serving `trousseau.wsgi`, production settings, `TROUSSEAU_DEBUG=0`, every middleware) on a
throwaway database holding 1000 active accounts (pupils and their guardians, built with
`trousseau.accounts.services`). Client threads in the benchmark process send `POST /login`
(`identifier`, `password`, CSRF cookie and token, no session cookie) two at a time, so that the server
always has the next request queued; every answer must be a 302 to `/compte/` setting a new session
cookie, the last session must open `/compte/`, and afterwards the database must hold one session and
one `account:login:success` audit event per login, or the run fails. The server process uses at most
one core; the clients (and PostgreSQL's backend) run on another one.

**Method**: the two sides alternate in 5 rounds (2 s of reference, then 2 s of logins, by default) so
that both see the same machine; rates are totals over all rounds. The ratio of rates (wall clock) is
the goal's figure on a quiet machine. The ratio of CPU time compares CPU milliseconds per verification
with the server process's CPU milliseconds per login, i.e. rates per second of one core's time: it
leaves out waiting (SQLite's fsyncs, PostgreSQL round trips, other processes) and moves much less when
the machine is shared, but it does not count the work PostgreSQL's processes do for the server. When
the pure-CPU reference gets less than 90 % of a core, or the ratio moves by more than 25 % between
rounds, other load disturbed the run and the result says so. "SQL statements per login" counts the
statements doing work, then the transactions around them: each commit waits for the disk.

**What a login writes** (since 2026-12-04): the attempt is counted first, alone, and committed (both
throttling counters inserted if missing and locked in two statements, then updated), so that
concurrent guesses see it (`trousseau/core/throttle.py`); after the password, one transaction
settles the counters (the address's count given back, the identifier's counter deleted, nothing
written for a counter that does not exist), writes the audit event, opens the session (Django's
key rotation, `last_login`, the session's data saved) and lists it (`AccountSession` created, not
looked up); Django's session middleware then finds nothing new to save
(`trousseau/core/session_store.py`). Before: 19 statements and 6 commits, then 14 and 2.
Since 2026-12-05 the new session's row is inserted once, with its data, by that save: Django's store
looked the drawn key up, inserted an empty row, then updated it, each write in a savepoint. Now 12
statements and 2 commits; on PostgreSQL, back to back on the same machine: server CPU per login
29.6 → 27.8 ms, ratio of rates 0.59 → 0.63. What remains beyond the hash (about 8 ms of CPU) is
Django's request handling and ORM and the driver for those 12 statements.
Since issue #21 (2026-12-06), on PostgreSQL: the attempt is counted by one `INSERT … ON CONFLICT …
DO UPDATE … RETURNING` for the three counters (rolled back when one is closed), the counters are
settled by one statement that locks them in key order, the profile chosen at the mire ("Je suis") is
checked by authentication on the account it loads (no lookup of its own), and `last_login`, the
session's row (the replaced key's deleted) and its `AccountSession` are one statement: 5 statements
and 2 commits per login (SQLite keeps the ORM's statements for the counters). Since 2026-12-07 the
settling, the audit event and the session's writes are one statement sent on its own, atomic by itself,
without a BEGIN and a COMMIT around it (a login that writes rows itself, when Django keeps or flushes
a session that already has a login, opens that transaction): 3 statements and 1 commit per login.
Since 2026-12-07 (later that day) the attempt's count is one statement too, without a transaction:
it reads whether a guard is closed and, only if none is, counts them all (`throttle_sql.count_if_open`;
a guard closed by a concurrent attempt after that read leaves the others given back). 3 statements and
no BEGIN or COMMIT per login; alternating with the commit before, three runs each on a noisy machine:
ratio of rates 0.71 → 0.74, of CPU 0.78 → 0.82 (means of the runs).
Since 2026-12-07 (later still) the login's statements are prepared, planned once per connection
(`trousseau/core/planned.py`; PostgreSQL's log: the counting statement's planning, 0.3 to 0.5 ms at
each run before, gone once its generic plan is chosen). No gain shows at the login's scale: alternating
with the commit before, three runs each on a noisy machine, ratio of rates 0.74, 0.74, 0.78 before and
0.71, 0.75, 0.75 after, of CPU 0.81, 0.81, 0.86 and 0.76, 0.79, 0.81, within the runs' spread.
Issue #21's 0.80 was met on the machine of 2026-12-07's afternoon (0.83, rounds 0.80 to 0.85) and not
on that evening's, sold as the same Intel Xeon: 0.72 in that evening's table, then 0.74 with the code from
before that evening's changes (none of which is on the login's path) and 0.78 with the code after,
run one after the other. There, argon2id alone was slower (17.1 → 19.7 ms a verify in the loop) and
the login's CPU beyond it much more so (2.3 → 5.8 ms): the same cold-cache effect on argon2id's
19 MiB that the morning journey's section measures, larger on a machine whose caches are busier.
On that machine, argon2id alone in a loop pinned to one core took 19.9 to 21.1 ms a verify back to
back, 21.7 to 22.2 ms with a sleep of 5 ms between verifies (the core idles, as a server's does between
requests, and others use its caches) and 22.6 to 22.7 ms with 8 MiB of other memory touched between
them, with no page fault in any: idling alone costs the verify about 2 ms there.
On 2026-12-07's night, on an AMD EPYC machine (the kind issue #21 measured on): 0.75, 0.75 and 0.77
in three runs, then 0.83 in that night's table, where the reference was slower than in the others (25.9 ms
a verify against 21 to 23.7) and the login's CPU the same (29.2 ms). In-process (the real WSGI handler,
no HTTP server), the login's own Python takes 2.5 ms of CPU with a cheap hasher in argon2id's place and
4.4 to 5.4 ms after argon2id: the hash's 19 MiB leave the interpreter's code and data out of the caches,
and what follows it runs at about half speed. That, not a statement or a layer, is most of the login's
CPU beyond the hash on this machine. Transparent huge pages under malloc for the server only
(`GLIBC_TUNABLES=glibc.malloc.hugetlb=1`) gave 0.78, 0.76 and 0.77 against 0.75, 0.77 and 0.75 run
alternately: within the spread, not adopted.
On 2026-12-08, on another AMD EPYC machine: 0.80 (rounds 0.78 to 0.84) and a CPU ratio of 0.86 in a
first run (argon2id 18.6 ms a verify in the loop), then 0.78 and 0.83 in the table's, where the
reference itself moved from 41.7 to 51.4 verifies a second between rounds. There, a login's rate also
loses about 1 ms to PostgreSQL's commit. The attempt's count already commits without waiting for the
disk (core/throttle_sql.py). The login's own statement carries its audit event, so its commit waits
for the WAL to reach the disk, and the one-threaded server waits with it: 0.8 to 1.1 ms a commit here,
against 0.1 with `synchronous_commit = off`, about 4 % of a login's time. Turning it off for that
statement would lose the sessions and audit events of the logins in the last fraction of a second
before a crash of the database. Audit events may not be lost, so it stays on.

Caveats: all accounts share one password hash (same cost to verify as one hash each); no TLS and no
reverse proxy in front; the SQLite file sits on the machine's disk, so each commit is a real fsync.

**How to reproduce**: `make bench` (SQLite, about a minute), or
`.venv/bin/python bench/run.py --database postgres` (creates and drops `trousseau_bench` on
`127.0.0.1:5432`); `--seconds N` sets each side's duration, `--profile` prints where a login's time goes.

"""

SECTIONS = [("login-sqlite", "SQLite"), ("login-postgres", "PostgreSQL")]


def write_doc(key: str, body: str) -> None:
    write_section("run.py", SECTION_HEAD, SECTIONS, key, body)
