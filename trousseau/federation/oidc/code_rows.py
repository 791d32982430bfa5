"""An authorization code's row and its audit event, written in one statement.

The code's row (models.Authorization) and the `OIDC_CODE_ISSUED` event were two INSERTs through the
ORM, each compiled anew and each a round trip, after a third statement that loaded the account to
check the browser's session. On PostgreSQL the three are one (`record_checked`): a data-modifying
CTE that inserts both rows only if the account the session names is active and the session's hash
still matches its password, which is what Django's `get_user` checks for every request
(django.contrib.auth: the account by the backend, AccountBackend: active only; then HMAC-SHA256 of
the password hash, keyed by SECRET_KEY). The HMAC is computed by the database from two pads made
here (RFC 2104: H((K ^ opad) || H((K ^ ipad) || password))), so the password hash never leaves it.
When nothing is inserted (a disabled or deleted account, a changed password, a hash made with a
fallback key), the caller answers as before through `request.user`, which logs such a session out
or renews its hash; elsewhere than PostgreSQL it always does (`record`, the ORM's statements).

Values are prepared by the models' own fields, so the stored forms are the ORM's, and the event's
`post_save` is sent as the ORM sends it (ops.counting counts codes by it).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, router, transaction
from django.db.models import Model
from django.db.models.signals import post_save
from django.utils import timezone
from oauth2_provider.models import AbstractApplication

from trousseau.accounts.models import Account, AccountState
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.federation.oidc import services
from trousseau.federation.oidc.models import Authorization

# django.contrib.auth's AbstractBaseUser._get_session_auth_hash: its salt, SHA-256.
SESSION_HASH_SALT = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
BLOCK = 64  # SHA-256's block size (RFC 2104's B)


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
    """The ORM's two statements, in one transaction, for an account already loaded (`request.user`)."""
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


@functools.cache
def _pads(secret: str) -> tuple[bytes, bytes]:
    """HMAC's inner and outer pads for Django's session hash key (salted_hmac's key: SHA-256 of salt + secret)."""
    key = hashlib.sha256((SESSION_HASH_SALT + secret).encode()).digest().ljust(BLOCK, b"\0")
    return bytes(byte ^ 0x36 for byte in key), bytes(byte ^ 0x5C for byte in key)


def session_hash_sql() -> tuple[str, list[Any]]:
    """SQL for Django's session hash of the row's password, with its parameters (the pads)."""
    inner, outer = _pads(str(settings.SECRET_KEY))
    return "encode(sha256(%s || sha256(%s || convert_to(password, 'UTF8'))), 'hex')", [outer, inner]


def _prepared(model: type[Model], values: dict[str, Any]) -> tuple[list[str], list[Any]]:
    fields = [model._meta.get_field(name) for name in values]  # noqa: SLF001 - Django's public model API
    columns = [connection.ops.quote_name(str(field.column)) for field in fields]  # type: ignore[union-attr]
    params = [field.get_db_prep_save(value, connection) for field, value in zip(fields, values.values(), strict=True)]  # type: ignore[union-attr]
    return columns, params


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)  # noqa: SLF001


def record_checked(code: Code, *, account_id: int, session_hash: str) -> bool:
    """PostgreSQL only: the code's row and its event, if the session's account is still logged in (module
    docstring); False when nothing was written."""
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
    hashed, hash_params = session_hash_sql()

    def placeholders(params: list[Any]) -> str:
        return ", ".join(["%s"] * len(params))

    # Names from the models' metadata, quoted; every value a parameter: nothing from the request.
    sql = (
        f"WITH a AS (SELECT id FROM {_table(Account)} WHERE id = %s AND state = %s AND {hashed} = %s), "  # noqa: S608
        f"c AS (INSERT INTO {_table(Authorization)} ({', '.join(code_columns)}, account_id) "
        f"SELECT {placeholders(code_params)}, a.id FROM a RETURNING account_id) "
        f"INSERT INTO {_table(AuditEvent)} ({', '.join(event_columns)}, account_id) "
        f"SELECT {placeholders(event_params)}, c.account_id FROM c RETURNING id"
    )
    params = [account_id, AccountState.ACTIVE.value, *hash_params, session_hash, *code_params, *event_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    using = router.db_for_write(AuditEvent)
    event.pk = row[0]
    event._state.adding, event._state.db = False, using  # noqa: SLF001 - a row now in the database
    # The ORM's signal of a saved event, which create() would have sent (ops.counting counts codes by it).
    post_save.send(sender=AuditEvent, instance=event, created=True, update_fields=None, raw=False, using=using)
    return True
