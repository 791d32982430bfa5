"""Staff accounts: creation (with a one-time enrolment link or a temporary password) and enrolment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from trousseau.audit.events import EventTag
from trousseau.console.audit import staff_audit
from trousseau.console.conf import enrolment_validity
from trousseau.console.models import StaffMember, StaffRole
from trousseau.console.passwords import require_acceptable_staff_password
from trousseau.core.secrets import keyed_digest, provisional_password, token
from trousseau.directory.models import School

ENROLMENT_PURPOSE = "console-enrolment"


@dataclass(frozen=True)
class Invitation:
    """What to hand the new staff member: an enrolment token (for a link) or a temporary password."""

    staff: StaffMember
    token: str = ""
    temporary_password: str = ""


def _issue_token(staff: StaffMember, now: datetime) -> str:
    secret = token()
    staff.enrolment_digest = keyed_digest(secret, purpose=ENROLMENT_PURPOSE)
    staff.enrolment_expires_at = now + enrolment_validity()
    return secret


@transaction.atomic
def staff_create(  # noqa: PLR0913 - keyword-only fields of the new staff member
    *,
    email: str,
    first_name: str,
    last_name: str,
    role: StaffRole,
    school: School | None = None,
    academie: str = "",
    temporary_password: bool = False,
    created_by: StaffMember | None = None,
) -> Invitation:
    """Create a staff member who enrols (password + TOTP) at first visit; raises ValidationError on bad data."""
    now = timezone.now()
    if role == StaffRole.ACADEMIE and not academie and school is not None:
        academie = school.academie
    staff = StaffMember(
        email=email.strip().lower(),
        first_name=first_name,
        last_name=last_name,
        role=role,
        school=None if role == StaffRole.ACADEMIE else school,
        academie=academie,
    )
    staff.full_clean()
    invitation = _invite(staff, now, temporary_password=temporary_password)
    staff_audit(
        EventTag.CONSOLE_STAFF_CREATED,
        staff=created_by,
        school=school,
        created=staff.pk,
        created_email=staff.email,
        created_role=role,
        by="command line" if created_by is None else "console",
    )
    return invitation


def _invite(staff: StaffMember, now: datetime, *, temporary_password: bool) -> Invitation:
    staff.totp_secret = ""
    staff.totp_confirmed_at = None
    staff.totp_last_step = None
    if temporary_password:
        # Drawn here, readable and random, and replaced at enrolment: no caller chooses it, so no rule to judge.
        password = provisional_password(16)
        staff.set_password(password)
        staff.enrolment_digest = ""
        staff.enrolment_expires_at = None
        staff.save()
        return Invitation(staff, temporary_password=password)
    staff.password = ""
    secret = _issue_token(staff, now)
    staff.save()
    return Invitation(staff, token=secret)


@transaction.atomic
def staff_reinvite(*, staff: StaffMember, temporary_password: bool = False) -> Invitation:
    """Lost phone or password: the old password and TOTP secret stop working, a new enrolment starts."""
    locked = StaffMember.objects.select_for_update().get(pk=staff.pk)
    invitation = _invite(locked, timezone.now(), temporary_password=temporary_password)
    staff_audit(EventTag.CONSOLE_STAFF_CREATED, staff=None, school=locked.school, created=locked.pk, reinvited=True)
    return invitation


def staff_by_enrolment_token(secret: str) -> StaffMember | None:
    """The staff member whose enrolment link this is, while it is valid."""
    if not secret:
        return None
    digest = keyed_digest(secret, purpose=ENROLMENT_PURPOSE)
    return StaffMember.objects.filter(
        enrolment_digest=digest, enrolment_expires_at__gt=timezone.now(), is_active=True
    ).first()


@transaction.atomic
def enrolment_complete(*, staff: StaffMember, password: str, secret: str, step: int, ip: str | None) -> StaffMember:
    """Store the chosen password and the confirmed TOTP secret; the enrolment link is spent.

    PasswordRefused, changing nothing, when the password breaks the staff rule.
    """
    locked = StaffMember.objects.select_for_update().get(pk=staff.pk)
    require_acceptable_staff_password(locked, password)
    locked.set_password(password)
    locked.totp_secret = secret
    locked.totp_confirmed_at = timezone.now()
    locked.totp_last_step = step
    locked.enrolment_digest = ""
    locked.enrolment_expires_at = None
    locked.save()
    staff_audit(EventTag.CONSOLE_TOTP_ENROLLED, staff=locked, school=locked.school, ip=ip)
    return locked


@transaction.atomic
def staff_create_enrolled(  # noqa: PLR0913 - keyword-only fields of the new staff member
    *,
    email: str,
    first_name: str,
    last_name: str,
    role: StaffRole,
    password: str,
    totp_secret: str,
    school: School | None = None,
    academie: str = "",
) -> StaffMember:
    """A staff member already enrolled (the demo and the tests, which know the password and secret).

    PasswordRefused when the password breaks the staff rule; ValidationError on bad data.
    """
    staff = StaffMember(
        email=email.strip().lower(),
        first_name=first_name,
        last_name=last_name,
        role=role,
        school=school,
        academie=academie,
        totp_secret=totp_secret,
        totp_confirmed_at=timezone.now(),
    )
    require_acceptable_staff_password(staff, password)
    staff.set_password(password)
    staff.full_clean()
    staff.save()
    staff_audit(EventTag.CONSOLE_STAFF_CREATED, staff=None, school=school, created=staff.pk, by="seed")
    return staff
