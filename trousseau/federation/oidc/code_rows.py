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

from django.db import connection, router, transaction
from django.db.models import Model
from django.db.models.signals import post_save
from django.utils import timezone
from oauth2_provider.models import AbstractApplication

from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
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
    """PostgreSQL: the code's row, then its event, by one data-modifying statement."""
    account_id = account.pk
    now = timezone.now()
    code_columns, code_params = _prepared(
        Authorization,
        {
            "code_hash": services.code_digest(code.code),
            "redirect_uri": code.redirect_uri,
            "scope": code.scope,
            "nonce": code.nonce,
            "code_challenge": code.code_challenge,
            "application": code.application.pk,
            "session_key": code.session_key,
            "sid": code.sid,
            "authenticated_at": code.authenticated_at,
            "created_at": now,
        },
    )
    event = AuditEvent(
        tag=EventTag.OIDC_CODE_ISSUED,
        account_id=account_id,
        ip_address=code.ip or None,
        data={"client": code.application.client_id},
        created_at=now,
    )
    event_values = {name: getattr(event, name) for name in ("tag", "ip_address", "data", "created_at")}
    event_columns, event_params = _prepared(AuditEvent, event_values)

    def placeholders(params: list[Any]) -> str:
        return ", ".join(["%s"] * len(params))

    # Names from the models' metadata, quoted; every value a parameter: nothing from the request.
    sql = (
        f"WITH c AS (INSERT INTO {_table(Authorization)} ({', '.join(code_columns)}, account_id) "  # noqa: S608
        f"VALUES ({placeholders(code_params)}, %s) RETURNING account_id) "
        f"INSERT INTO {_table(AuditEvent)} ({', '.join(event_columns)}, account_id) "
        f"SELECT {placeholders(event_params)}, c.account_id FROM c RETURNING id"
    )
    params = [*code_params, account_id, *event_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (event_id,) = cursor.fetchone()
    using = router.db_for_write(AuditEvent)
    event.pk = event_id
    event._state.adding, event._state.db = False, using  # noqa: SLF001 - a row now in the database
    # The ORM's signal of a saved event, which create() would have sent (ops.counting counts codes by it).
    post_save.send(sender=AuditEvent, instance=event, created=True, update_fields=None, raw=False, using=using)
