"""Two reads of the token and UserInfo endpoints as plain SQL, where the ORM's compilation of a joined
query cost more than the database's work (profiles of 2026-12-06: ~2 ms of a ~10 ms token request).

- `claim` (PostgreSQL): the code's claim and the read of its authorization with its account, one
  statement (`UPDATE … RETURNING` in a CTE, joined to the account). Elsewhere (SQLite cannot put an
  UPDATE in a CTE) the caller keeps the ORM's two statements.
- `bearer_row`: an access token's row with its account's state, by the token's digest.

Table and column names come from the models' metadata; every value is a parameter.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from oauth2_provider.models import get_access_token_model

from trousseau.accounts.models import Account
from trousseau.core.model_sql import table
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


def claim(*, code_hash: str, application_id: int, family: uuid.UUID, now: datetime) -> Authorization | None:
    """PostgreSQL only: the claimed authorization with its account, or None when nothing was claimed."""
    picked = ", ".join(f"c.{name} AS oidc_{name}" for name in _CLAIMED)
    sql = (
        f"WITH c AS (UPDATE {table(Authorization)} SET redeemed_at = %s, token_family = %s "  # noqa: S608 - names from metadata
        "WHERE code_hash = %s AND application_id = %s AND redeemed_at IS NULL RETURNING *) "
        f"SELECT a.*, {picked} FROM c JOIN {table(Account)} a ON a.id = c.account_id"
    )
    found = list(Account._default_manager.raw(sql, [now, family, code_hash, application_id]))  # noqa: SLF001
    if not found:
        return None
    account = found[0]
    authorization = Authorization(
        account=account,
        application_id=application_id,
        code_hash=code_hash,
        **{name: getattr(account, f"oidc_{name}") for name in _CLAIMED},
    )
    authorization._state.adding = False  # noqa: SLF001 - a row read from the database
    return authorization


def bearer_row(digest: str) -> Any:
    """The access token's row (expires, scope, application, account) and `account_state`, or None."""
    model = get_access_token_model()
    sql = (
        f"SELECT t.id, t.expires, t.scope, t.application_id, t.user_id, a.state AS account_state "  # noqa: S608
        f"FROM {table(model)} t JOIN {table(Account)} a ON a.id = t.user_id WHERE t.token_checksum = %s"
    )
    found = list(model._default_manager.raw(sql, [digest]))  # noqa: SLF001
    return found[0] if found else None
