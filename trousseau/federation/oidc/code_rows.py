"""An authorization code's row and its audit event, written in one statement.

The code's row (models.Authorization) and the `OIDC_CODE_ISSUED` event were two INSERTs through the
ORM, each compiled anew and each a round trip. On PostgreSQL they are one data-modifying statement
(`record`), for the account `request.user` loaded (and Django checked against the session); elsewhere
the ORM's two in one transaction.

Values are prepared by the models' own fields, so the stored forms are the ORM's, and the event's
`post_save` is sent as the ORM sends it (ops.counting counts codes by it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from oauth2_provider.models import AbstractApplication

from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit_statement, audited
from trousseau.federation.oidc import services
from trousseau.federation.oidc.models import Authorization


@dataclass(frozen=True)
class Code:
    """What a code is tied to (models.Authorization), and who asked, from where."""

    code: str
    application: AbstractApplication
    session_key: str
    sid: str
    authenticated_at: datetime | None
    ip: str | None
    redirect_uri: str
    scope: str
    nonce: str
    code_challenge: str


def record(code: Code, account: Account) -> None:
    """The code's row and its event for `account` (`request.user`): one statement on PostgreSQL."""
    if connection.vendor == "postgresql":
        _record_in_one_statement(code, account)
        return
    with transaction.atomic():
        services.record_authorization(
            code=code.code,
            application=code.application,
            account=account,
            session_key=code.session_key,
            sid=code.sid,
            authenticated_at=code.authenticated_at,
            ip=code.ip,
            redirect_uri=code.redirect_uri,
            scope=code.scope,
            nonce=code.nonce,
            code_challenge=code.code_challenge,
        )


def _prepared(model: type[Model], values: dict[str, Any]) -> tuple[list[str], list[Any]]:
    fields = [model._meta.get_field(name) for name in values]  # noqa: SLF001 - Django's public model API
    columns = [connection.ops.quote_name(str(field.column)) for field in fields]  # type: ignore[union-attr]
    params = [field.get_db_prep_save(value, connection) for field, value in zip(fields, values.values(), strict=True)]  # type: ignore[union-attr]
    return columns, params


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)  # noqa: SLF001


def _record_in_one_statement(code: Code, account: Account) -> None:
    """PostgreSQL: the code's row and its event by one statement (the code's INSERT in a CTE, which
    PostgreSQL runs to completion whether or not the main statement reads it)."""
    code_columns, code_params = _prepared(
        Authorization,
        {
            "code_hash": services.code_digest(code.code),
            "redirect_uri": code.redirect_uri,
            "scope": code.scope,
            "nonce": code.nonce,
            "code_challenge": code.code_challenge,
            "application": code.application.pk,
            "account": account.pk,
            "session_key": code.session_key,
            "sid": code.sid,
            "authenticated_at": code.authenticated_at,
            "created_at": timezone.now(),
        },
    )
    event, (event_sql, event_params) = audit_statement(
        EventTag.OIDC_CODE_ISSUED, account=account, ip=code.ip, client=code.application.client_id
    )
    marks = ", ".join(["%s"] * len(code_params))
    # Names from the models' metadata, quoted; every value a parameter: nothing from the request.
    sql = f"WITH c AS (INSERT INTO {_table(Authorization)} ({', '.join(code_columns)}) VALUES ({marks})) {event_sql}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*code_params, *event_params])
        (event_id,) = cursor.fetchone()
    audited(event, event_id)  # the ORM's post_save, which ops.counting counts codes by
