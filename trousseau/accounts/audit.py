"""Writing the audit trail: one typed row per security step."""

from __future__ import annotations

from typing import Any

from trousseau.accounts.events import EventTag
from trousseau.accounts.models import Account, AuditEvent


def audit(tag: EventTag, *, account: Account | None = None, ip: str | None = None, **data: Any) -> AuditEvent:
    return AuditEvent.objects.create(tag=tag, account=account, ip_address=ip or None, data=data)
