"""An authorization code's row and its audit event, written in one statement.

The code's row (models.Authorization) and the `OIDC_CODE_ISSUED` event were two INSERTs through the
ORM, each compiled anew and each a round trip, in a request that does little else. On PostgreSQL
they are one statement (a data-modifying CTE: both rows or neither); elsewhere the ORM's two, in one
transaction. Values are prepared by the models' own fields (token_rows.insert_statement), so the
stored forms are the ORM's, and the event's `post_save` is sent as the ORM sends it (ops counts codes).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, router, transaction
from django.db.models.signals import post_save
from django.utils import timezone
from oauth2_provider.models import AbstractApplication

from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.federation.oidc import services, token_rows
from trousseau.federation.oidc.models import Authorization


def record(  # noqa: PLR0913 - what the code is tied to
    *,
    code: str,
    application: AbstractApplication,
    account: Account,
    session_key: str,
    sid: str,
    authenticated_at: datetime | None,
    ip: str | None,
    redirect_uri: str,
    scope: str,
    nonce: str,
    code_challenge: str,
) -> None:
    if connection.vendor != "postgresql":
        with transaction.atomic():
            services.record_authorization(
                code=code,
                application=application,
                account=account,
                session_key=session_key,
                sid=sid,
                authenticated_at=authenticated_at,
                ip=ip,
                redirect_uri=redirect_uri,
                scope=scope,
                nonce=nonce,
                code_challenge=code_challenge,
            )
        return
    now = timezone.now()
    code_sql, code_params = token_rows.insert_statement(
        Authorization,
        {
            "code_hash": services.code_digest(code),
            "redirect_uri": redirect_uri,
            "scope": scope,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "application": application.pk,
            "account": account.pk,
            "session_key": session_key,
            "sid": sid,
            "authenticated_at": authenticated_at,
            "created_at": now,
        },
    )
    event = AuditEvent(
        tag=EventTag.OIDC_CODE_ISSUED,
        account_id=account.pk,
        ip_address=ip or None,
        data={"client": application.client_id},
        created_at=now,
    )
    event_values = {name: getattr(event, name) for name in ("tag", "ip_address", "data", "created_at")}
    event_sql, event_params = token_rows.insert_statement(AuditEvent, {**event_values, "account": account.pk})
    with connection.cursor() as cursor:
        cursor.execute(f"WITH c AS ({code_sql}) {event_sql} RETURNING id", [*code_params, *event_params])
        event.pk = cursor.fetchone()[0]
    using = router.db_for_write(AuditEvent)
    event._state.adding, event._state.db = False, using  # noqa: SLF001 - a row now in the database
    # The ORM's signal of a saved event, which create() would have sent (ops.counting counts codes by it).
    post_save.send(sender=AuditEvent, instance=event, created=True, update_fields=None, raw=False, using=using)
