"""Every console step goes to the one audit trail (`audit.AuditEvent`) with who, where and what.

`data` always holds `staff` (id) and `staff_email`, and `school` (UAI) when the step concerns one;
`account` is the family account acted on, so the family reads the step in its own history too.
"""

from __future__ import annotations

from typing import Any

from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.audit.services import audit
from trousseau.console.models import StaffMember
from trousseau.directory.models import School


def staff_audit(
    tag: EventTag,
    *,
    staff: StaffMember | None,
    school: School | None = None,
    account: Account | None = None,
    ip: str | None = None,
    **data: Any,
) -> AuditEvent:
    who: dict[str, Any] = {"staff": staff.pk, "staff_email": staff.email, "role": staff.role} if staff else {}
    where = {"school": school.uai} if school else {}
    return audit(tag, account=account, ip=ip, **who, **where, **data)
