"""Which schools a staff member may see, and whether they may act there."""

from __future__ import annotations

from django.db.models import QuerySet

from trousseau.console.models import StaffMember, StaffRole
from trousseau.directory.models import School


class OutOfScope(Exception):
    """The staff member asked for a school (or an account) outside their role's reach."""


class ReadOnly(Exception):
    """A read-only staff member tried to change something."""


def schools_in_scope(staff: StaffMember) -> QuerySet[School]:
    """Operators: every school of their académie; the others: their school (a reader: either)."""
    if staff.role == StaffRole.ACADEMIE or (staff.role == StaffRole.READONLY and staff.school_id is None):
        return School.objects.filter(academie=staff.academie).order_by("name")
    if staff.school_id is None:
        return School.objects.none()
    return School.objects.filter(pk=staff.school_id).order_by("name")


def school_for(staff: StaffMember, uai: str) -> School:
    """The school with this UAI if the staff member may see it; raises OutOfScope otherwise.

    An unknown UAI is refused the same way as a school of another académie.
    """
    school = schools_in_scope(staff).filter(uai=uai).first()
    if school is None:
        raise OutOfScope(uai)
    return school


def require_action(staff: StaffMember) -> None:
    if not staff.can_act:
        raise ReadOnly
