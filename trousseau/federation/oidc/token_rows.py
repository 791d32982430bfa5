"""The rows of one code exchange (ID token, access token, refresh token), written in one statement.

They are django-oauth-toolkit's rows, exactly as its models would write them (digests of the tokens,
never the tokens: COMPLIANT_BCP_RFC9700_TOKEN_STORAGE), so that refresh rotation, family revocation,
RFC 7009 revocation, logout and cleanup keep working on them. Through the ORM they were three
INSERTs, each compiled anew and each a round trip to the database, in a request that does little
else; on PostgreSQL the three are one statement (data-modifying CTEs), elsewhere three plain INSERTs
in a transaction. Values are prepared by the models' own fields (core/model_sql.py), so the stored
forms are the ORM's.

The rows are written only while the code's authorization is not marked replayed, and with its row
locked: the claim commits before them (tokens.py), so a replay of the code can come in between. It
marks the authorization (services.code_refused) and revokes the family; written after, the tokens
would escape that revocation. Whichever takes the row first, the other waits for it: the replay
then revokes rows that are committed, or the rows see the mark and are not written.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from django.db import connection, transaction
from oauth2_provider.models import get_access_token_model, get_id_token_model, get_refresh_token_model

from trousseau.core.model_sql import insert, table
from trousseau.federation.oidc.models import Authorization


def checksum(token: str) -> str:
    """The digest the toolkit looks tokens up by (TokenChecksumField)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def store(  # noqa: PLR0913 - one exchange's facts
    *,
    authorization_id: int,
    account_id: int,
    application_id: int,
    scope: str,
    jti: uuid.UUID,
    id_expires: datetime,
    access_token: str,
    access_expires: datetime,
    refresh_token: str,
    token_family: uuid.UUID,
    now: datetime,
) -> bool:
    """Write the three rows; False, writing nothing, when the authorization was marked replayed."""
    stamps = {"created": now, "updated": now}
    owner = {"user": account_id, "application": application_id}
    id_values = {**owner, "jti": jti, "expires": id_expires, "scope": scope, **stamps}
    access_values = {
        **owner,
        "token": "",  # RFC 9700 storage: the digest only
        "token_checksum": checksum(access_token),
        "expires": access_expires,
        "scope": scope,
        "resource": [],
        **stamps,
    }
    refresh_values = {
        **owner,
        "token": "",
        "token_checksum": checksum(refresh_token),
        "token_family": token_family,
        "resource": [],
        **stamps,
    }
    id_model, access_model, refresh_model = get_id_token_model(), get_access_token_model(), get_refresh_token_model()
    authorizations = table(Authorization)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            id_sql, id_params = insert(id_model, id_values, source="g")
            access_sql, access_params = insert(access_model, access_values, ("id_token", "i.id"), source="i")
            refresh_sql, refresh_params = insert(refresh_model, refresh_values, ("access_token", "a.id"), source="a")
            cursor.execute(
                f"WITH g AS (SELECT id FROM {authorizations} WHERE id = %s AND replayed_at IS NULL FOR UPDATE), "  # noqa: S608 - names from metadata
                f"i AS ({id_sql} RETURNING id), a AS ({access_sql} RETURNING id) {refresh_sql}",
                [authorization_id, *id_params, *access_params, *refresh_params],
            )
            return bool(cursor.rowcount == 1)
        with transaction.atomic():
            # The write lock first (SQLite has one per database), then the mark read under it.
            cursor.execute(
                f"UPDATE {authorizations} SET replayed_at = NULL WHERE id = %s AND replayed_at IS NULL",  # noqa: S608
                [authorization_id],
            )
            if cursor.rowcount != 1:
                return False
            cursor.execute(*insert(id_model, id_values))
            id_token_id = cursor.lastrowid
            cursor.execute(*insert(access_model, {**access_values, "id_token": id_token_id}))
            access_token_id = cursor.lastrowid
            cursor.execute(*insert(refresh_model, {**refresh_values, "access_token": access_token_id}))
    return True
