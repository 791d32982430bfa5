"""The token and UserInfo endpoints' statements as plain SQL, where the ORM's compilation of a joined
query cost more than the database's work (profiles of 2026-12-06: ~2 ms of a ~10 ms token request).

- `redeem` (PostgreSQL): the code's claim, the read of its authorization with its account and the
  account's directory rows for the claims, and the write of its tokens, one statement (`UPDATE …
  RETURNING` in a CTE, joined to the account, feeding token_rows' INSERTs; the claims' rows by a
  LATERAL join, accounts.selectors). Elsewhere (SQLite cannot put an UPDATE in a CTE) the caller
  keeps the ORM's statements.
- `bearer_row`: an access token's row with its account's state, by the token's digest.

Table and column names come from the models' metadata; every value is a parameter.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connections
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from trousseau.accounts import selectors
from trousseau.accounts.backends import account_columns, account_of
from trousseau.accounts.models import Account, AccountKind, AccountState
from trousseau.core.model_sql import table
from trousseau.core.planned import planned_cursor
from trousseau.federation.oidc import token_rows
from trousseau.federation.oidc.models import Authorization

# The authorization's columns, named apart from the account's (both have id and created_at).
_CLAIMED = (
    "id",
    "redirect_uri",
    "scope",
    "nonce",
    "code_challenge",
    "session_key",
    "sid",
    "authenticated_at",
    "created_at",
    "redeemed_at",
    "token_family",
)


@dataclass(frozen=True)
class Expected:
    """What the authorization must match for the tokens to be written with its claim: tokens._check's
    rules, worked out from the request before the code is read (the checks are redone in Python on
    the row read back, which decides; this only spares the separate write of the rows)."""

    not_before: datetime  # created at or after: the code's lifetime
    redirect_uri: str
    challenge: str | None  # the S256 of a well-formed code_verifier
    no_challenge_ok: bool  # no verifier sent, and a confidential client


@dataclass(frozen=True)
class Redeemed:
    authorization: Authorization  # with its account
    written: bool  # the tokens, by the same statement
    records: selectors.ClaimsRecords | None  # what the claims read of the directory, when read with it


def redeem(*, code_hash: str, application_id: int, issue: token_rows.Issue, expected: Expected) -> Redeemed | None:
    """PostgreSQL only: claim the code, read its authorization with its account and the account's
    directory rows for the claims, and write the tokens when it matches `expected`, in one statement
    (one round trip, one commit). None when nothing was claimed."""
    using = Account._default_manager.db  # noqa: SLF001
    accounts = table(Account)
    # The account's columns as the ORM selects them (named by its table), then the authorization's.
    columns = account_columns(using)
    picked = ", ".join(f"c.{name} AS oidc_{name}" for name in _CLAIMED)
    rows_sql, rows_params = token_rows.ctes(issue, "g")
    record = ", ".join(f"oidc_r{n}" for n in range(selectors.RECORD_COLUMNS))
    sql = (
        # The family is the row's own (kept: PostgreSQL sees no indexed column change, a HOT update).
        f"WITH c AS (UPDATE {table(Authorization)} SET redeemed_at = %s, "  # noqa: S608 - names from metadata
        "token_family = COALESCE(token_family, %s) "
        "WHERE code_hash = %s AND application_id = %s AND redeemed_at IS NULL RETURNING *), "
        f"ca AS (SELECT {', '.join(columns)}, {picked}, COALESCE(c.created_at >= %s "
        f"AND c.redirect_uri = %s AND {accounts}.state = %s "
        "AND CASE WHEN c.code_challenge <> '' THEN c.code_challenge = %s ELSE %s END, false) AS oidc_matches "
        f"FROM c JOIN {accounts} ON {accounts}.id = c.account_id), "
        "g AS (SELECT id AS account_id, oidc_scope AS scope, oidc_token_family AS token_family "
        "FROM ca WHERE oidc_matches), "
        f"{rows_sql} SELECT ca.*, (SELECT count(*) FROM r) AS oidc_written, rec.* FROM ca "
        f"LEFT JOIN LATERAL ({selectors.claims_records_lateral('ca')}) AS rec({record}) ON TRUE"
    )
    params = [issue.now, issue.token_family, code_hash, application_id]
    params += [expected.not_before, expected.redirect_uri, AccountState.ACTIVE.value]
    params += [expected.challenge, expected.no_challenge_ok, *rows_params]
    params += [AccountKind.PUPIL.value, AccountKind.PUPIL.value]
    # One row per directory row of the account (at least one: the LEFT JOIN), each with the account:
    # its columns, the authorization's, oidc_matches, oidc_written, the record's. Read by position, with
    # a plain cursor: a raw queryset's column lookup and annotations cost more than the statement's
    # own client work. Planned once per connection: planning it cost PostgreSQL three times running it.
    with planned_cursor(using) as cursor:
        cursor.execute(sql, params)
        found: list[tuple[Any, ...]] = cursor.fetchall()
    if not found:
        return None
    first, count, claimed = found[0], len(columns), len(_CLAIMED)
    account = account_of(using, first[:count])
    authorization = Authorization(
        account=account,
        application_id=application_id,
        code_hash=code_hash,
        **dict(zip(_CLAIMED, first[count : count + claimed], strict=True)),
    )
    authorization._state.adding = False  # noqa: SLF001 - a row read from the database
    written = first[count + claimed + 1]  # after oidc_matches
    rows = [row[count + claimed + 2 :] for row in found]
    return Redeemed(
        authorization,
        written=written == 1,
        records=selectors.records_of(account, [row for row in rows if row[0] is not None]),
    )


@functools.cache
def _bearer_sql() -> str:
    return (
        f"SELECT t.expires, t.scope, t.application_id, t.user_id, a.state "  # noqa: S608 - names from metadata
        f"FROM {table(get_access_token_model())} t JOIN {table(Account)} a ON a.id = t.user_id "
        "WHERE t.token_checksum = %s"
    )


class Bearer(NamedTuple):
    """What UserInfo needs of an access token's row, and its account's state."""

    expires: datetime
    scope: str
    application_id: int
    user_id: int
    account_state: str


def bearer_row(digest: str) -> Bearer | None:
    """The access token's row (expires, scope, application, account) and `account_state`, or None.
    Read by a plain cursor: a raw queryset's model instance cost more than the statement (issue #21)."""
    using = get_access_token_model()._default_manager.db  # noqa: SLF001
    with planned_cursor(using) as cursor:
        cursor.execute(_bearer_sql(), [digest])
        found = cursor.fetchone()
    if found is None:
        return None
    row = Bearer(*found)
    if timezone.is_naive(row.expires):  # SQLite's driver gives the stored UTC time without its zone
        row = row._replace(expires=timezone.make_aware(row.expires, connections[using].timezone))
    return row
