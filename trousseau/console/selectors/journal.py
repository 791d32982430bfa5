"""The console's own audit trail, per school: who did what, when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from trousseau.accounts.activity import EVENT_LABELS, UNKNOWN_EVENT
from trousseau.accounts.models import AuditEvent
from trousseau.directory.models import School

JOURNAL_LENGTH = 200


@dataclass(frozen=True)
class JournalLine:
    at: datetime
    tag: str
    label: str
    staff_email: str
    account: str
    ip: str | None


def school_journal(school: School) -> list[JournalLine]:
    rows = (
        AuditEvent.objects.filter(tag__startswith="console:", data__school=school.uai)
        .select_related("account")
        .order_by("-created_at", "-id")[:JOURNAL_LENGTH]
    )
    return [
        JournalLine(
            at=row.created_at,
            tag=row.tag,
            label=str(EVENT_LABELS.get(row.tag, UNKNOWN_EVENT)),
            staff_email=str(row.data.get("staff_email", "")),
            account=row.account.identifier if row.account else "",
            ip=row.ip_address,
        )
        for row in rows
    ]
