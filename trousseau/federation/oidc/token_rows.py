"""The rows of one code exchange (ID token, access token, refresh token).

They are django-oauth-toolkit's rows, exactly as its models would write them (digests of the tokens,
never the tokens: COMPLIANT_BCP_RFC9700_TOKEN_STORAGE), so that refresh rotation, family revocation,
RFC 7009 revocation, logout and cleanup keep working on them. Values are prepared by the models' own
fields (core/model_sql.py), so the stored forms are the ORM's. Two ways to write them:

- `ctes`: on PostgreSQL, as data-modifying CTEs of the statement that claims the code
  (claim_sql.redeem): claim and tokens commit together, in one round trip and one commit.
- `store`: three INSERTs in a transaction (SQLite; PostgreSQL when that statement did not write
  them). The claim has committed before them, so a replay of the code can come in between: it marks
  the authorization (services.code_refused) and revokes the family, which tokens written after would
  escape. The rows are therefore written only while the authorization is not marked, its row locked
  first: whichever takes the row first, the other waits for it.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from oauth2_provider.models import get_access_token_model, get_id_token_model, get_refresh_token_model

from trousseau.core.model_sql import insert, table
from trousseau.federation.oidc.models import Authorization
from trousseau.federation.oidc.provider_settings import ACCESS_TOKEN_SECONDS, ID_TOKEN_SECONDS


def checksum(token: str) -> str:
    """The digest the toolkit looks tokens up by (TokenChecksumField)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 random bits


@dataclass(frozen=True)
class Issue:
    """The tokens one exchange gives, drawn before the statement that claims the code and writes them."""

    application_id: int
    now: datetime
    access_token: str = field(default_factory=new_token)
    refresh_token: str = field(default_factory=new_token)
    jti: uuid.UUID = field(default_factory=uuid.uuid4)
    # The family for a code whose row has none (drawn before families were drawn with the codes, during
    # an upgrade); otherwise the claim keeps the row's own (services.authorization_values).
    token_family: uuid.UUID = field(default_factory=uuid.uuid4)

    def rows(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """The three rows' values but their owner (`user`), `scope` and the refresh token's
        `token_family`, which are the authorization's."""
        stamps = {"created": self.now, "updated": self.now, "application": self.application_id}
        id_values = {"jti": self.jti, "expires": self.now + timedelta(seconds=ID_TOKEN_SECONDS), **stamps}
        access_values = {
            "token": "",  # RFC 9700 storage: the digest only
            "token_checksum": checksum(self.access_token),
            "expires": self.now + timedelta(seconds=ACCESS_TOKEN_SECONDS),
            "resource": [],
            **stamps,
        }
        refresh_values = {
            "token": "",
            "token_checksum": checksum(self.refresh_token),
            "resource": [],
            **stamps,
        }
        return id_values, access_values, refresh_values


def ctes(issue: Issue, source: str) -> tuple[str, list[Any]]:
    """`i AS (…), a AS (…), r AS (… RETURNING id)`: the three rows for each row of `source`, a CTE with
    the columns `account_id`, `scope` and `token_family` (none when it is empty)."""
    id_values, access_values, refresh_values = issue.rows()
    owner = {"user": f"{source}.account_id"}
    id_sql, id_params = insert(
        get_id_token_model(), id_values, {**owner, "scope": f"{source}.scope"}, source=source, returning="id"
    )
    access_sql, access_params = insert(
        get_access_token_model(),
        access_values,
        {"user": "s.account_id", "scope": "s.scope", "id_token": "i.id"},
        source=f"i, {source} s",
        returning="id",
    )
    refresh_sql, refresh_params = insert(
        get_refresh_token_model(),
        refresh_values,
        {"user": "s.account_id", "access_token": "a.id", "token_family": "s.token_family"},
        source=f"a, {source} s",
        returning="id",
    )
    return (
        f"i AS ({id_sql}), a AS ({access_sql}), r AS ({refresh_sql})",
        [*id_params, *access_params, *refresh_params],
    )


def store(issue: Issue, *, authorization: Authorization) -> bool:
    """Write the three rows; False, writing nothing, when the authorization was marked replayed."""
    authorization_id, account_id, scope = authorization.pk, authorization.account_id, authorization.scope
    id_values, access_values, refresh_values = issue.rows()
    owner = {"user": account_id}
    with transaction.atomic(), connection.cursor() as cursor:
        # The row's lock first (SQLite: the database's write lock), then the mark read under it.
        cursor.execute(
            f"UPDATE {table(Authorization)} SET replayed_at = NULL WHERE id = %s AND replayed_at IS NULL",  # noqa: S608 - names from metadata
            [authorization_id],
        )
        if cursor.rowcount != 1:
            return False
        id_token = _insert(cursor, get_id_token_model(), {**id_values, **owner, "scope": scope})
        access = _insert(
            cursor, get_access_token_model(), {**access_values, **owner, "scope": scope, "id_token": id_token}
        )
        refresh_values.update(owner, access_token=access, token_family=authorization.token_family)
        _insert(cursor, get_refresh_token_model(), refresh_values)
    return True


def _insert(cursor: Any, model: Any, values: dict[str, Any]) -> int:
    sql, params = insert(model, values, returning="id")
    cursor.execute(sql, params)
    return int(cursor.fetchone()[0])
