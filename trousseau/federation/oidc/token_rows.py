"""The rows of one code exchange (ID token, access token, refresh token), written in one statement.

They are django-oauth-toolkit's rows, exactly as its models would write them (digests of the tokens,
never the tokens: COMPLIANT_BCP_RFC9700_TOKEN_STORAGE), so that refresh rotation, family revocation,
RFC 7009 revocation, logout and cleanup keep working on them. Through the ORM they were three
INSERTs, each compiled anew and each a round trip to the database, in a request that does little
else; on PostgreSQL the three are one statement (data-modifying CTEs), elsewhere three plain INSERTs.
Values are prepared by the models' own fields (`get_db_prep_save`), so the stored forms are the ORM's.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Model
from oauth2_provider.models import get_access_token_model, get_id_token_model, get_refresh_token_model


def checksum(token: str) -> str:
    """The digest the toolkit looks tokens up by (TokenChecksumField)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _prepared(model: type[Model], values: dict[str, Any]) -> tuple[list[str], list[Any]]:
    fields = [model._meta.get_field(name) for name in values]  # noqa: SLF001 - Django's public model API
    columns = [connection.ops.quote_name(str(field.column)) for field in fields]  # type: ignore[union-attr]
    params = [field.get_db_prep_save(value, connection) for field, value in zip(fields, values.values(), strict=True)]  # type: ignore[union-attr]
    return columns, params


def _insert(model: type[Model], values: dict[str, Any], linked: tuple[str, str] | None = None) -> tuple[str, list[Any]]:
    """INSERT … VALUES (…) for `values`, plus `linked` = (field, SQL giving its id) when given."""
    columns, params = _prepared(model, values)
    placeholders = ["%s"] * len(params)
    if linked is not None:
        field, source = linked
        column = model._meta.get_field(field).column  # type: ignore[union-attr]  # noqa: SLF001
        columns.append(connection.ops.quote_name(str(column)))
        placeholders.append(source)
    table = connection.ops.quote_name(model._meta.db_table)  # noqa: SLF001
    # Names from the models' metadata, quoted; every value a parameter: nothing from the request.
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(placeholders)})", params  # noqa: S608


def store(  # noqa: PLR0913 - one exchange's facts
    *,
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
) -> None:
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
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            id_sql, id_params = _insert(id_model, id_values)
            access_sql, access_params = _insert(access_model, access_values, ("id_token", "(SELECT id FROM i)"))
            refresh_sql, refresh_params = _insert(refresh_model, refresh_values, ("access_token", "(SELECT id FROM a)"))
            cursor.execute(
                f"WITH i AS ({id_sql} RETURNING id), a AS ({access_sql} RETURNING id) {refresh_sql}",
                [*id_params, *access_params, *refresh_params],
            )
            return
        cursor.execute(*_insert(id_model, id_values))
        id_token_id = cursor.lastrowid
        cursor.execute(*_insert(access_model, {**access_values, "id_token": id_token_id}))
        access_token_id = cursor.lastrowid
        cursor.execute(*_insert(refresh_model, {**refresh_values, "access_token": access_token_id}))
