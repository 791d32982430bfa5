"""An authorization code's row and its audit event, written in one statement.

The code's row (models.Authorization) and the `OIDC_CODE_ISSUED` event were two INSERTs through the
ORM, each compiled anew and each a round trip. On PostgreSQL they are one data-modifying statement
(`record`), for the account `request.user` loaded (and Django checked against the session); elsewhere
the ORM's two in one transaction (`services.record_authorization`). Both write
`services.authorization_values`.

Values are prepared by the models' own fields (core/model_sql.py), so the stored forms are the ORM's,
and the event's `post_save` is sent as the ORM sends it (ops.counting counts codes by it).
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit_statement, audited
from trousseau.core.model_sql import insert
from trousseau.core.planned import planned_cursor
from trousseau.federation.oidc import services
from trousseau.federation.oidc.models import Authorization


def record(code: services.Code, account: Account) -> None:
    """The code's row and its event for `account` (`request.user`): one statement on PostgreSQL."""
    if connection.vendor != "postgresql":
        with transaction.atomic():
            services.record_authorization(code, account)
        return
    code_sql, code_params = insert(
        Authorization, {**services.authorization_values(code, account), "created_at": timezone.now()}
    )
    event, (event_sql, event_params) = audit_statement(
        EventTag.OIDC_CODE_ISSUED, account=account, ip=code.ip, client=code.application.client_id
    )
    # The code's INSERT in a CTE, which PostgreSQL runs to completion whether or not the main
    # statement reads it; both statements are model_sql's and audit's own, every value a parameter.
    with planned_cursor(connection.alias) as cursor:
        cursor.execute(f"WITH c AS ({code_sql}) {event_sql}", [*code_params, *event_params])
        (event_id,) = cursor.fetchone()
    audited(event, event_id)  # the ORM's post_save, which ops.counting counts codes by
