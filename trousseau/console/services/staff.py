"""Staff accounts: creation (with a one-time enrolment link or a temporary password), enrolment, and their
administration in the console (who may add, reset and remove whom, per school)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
    ip: str | None = None,
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
        ip=ip,
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
def staff_reinvite(
    *, staff: StaffMember, temporary_password: bool = False, by: StaffMember | None = None, ip: str | None = None
) -> Invitation:
    """Lost phone or password: the old password and TOTP secret stop working, a new enrolment starts.

    Sessions end with them (the console's session hash covers both); a withdrawn access is restored.
    `by` is the operator who asked in the console, None for the command line.
    """
    locked = StaffMember.objects.select_for_update().get(pk=staff.pk)
    reactivated = not locked.is_active
    locked.is_active = True
    invitation = _invite(locked, timezone.now(), temporary_password=temporary_password)
    staff_audit(
        EventTag.CONSOLE_STAFF_RESET,
        staff=by,
        school=locked.school,
        ip=ip,
        **_member_data(locked),
        reactivated=reactivated,
        by="command line" if by is None else "console",
    )
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


# --- Administration in the console (the school's "Personnel" page) -------------------------------

# The roles a school's staff hold, in the order the page lists them.
SCHOOL_ROLES = (StaffRole.HEAD, StaffRole.SECRETARIAT, StaffRole.READONLY)
# What a head may give and take back: never a head's or an operator's access.
HEAD_GRANTS = (StaffRole.SECRETARIAT, StaffRole.READONLY)


class StaffOutOfReach(Exception):
    """The person may not manage this school's staff, or this member: a 403, audited as an access denial."""


class StaffRefused(Exception):
    """Bad input for a new staff member: `message` (French) says what to fix, `field` where; nothing changed."""

    def __init__(self, message: str, *, field: str, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.reason = reason


def _member_data(member: StaffMember) -> dict[str, Any]:
    return {"member": member.pk, "member_email": member.email, "member_role": member.role}


def manages_staff(actor: StaffMember, school: School) -> bool:
    """Operators manage the staff of every school of their académie, heads their own school's."""
    if actor.role == StaffRole.ACADEMIE:
        return bool(actor.academie) and school.academie == actor.academie
    return actor.role == StaffRole.HEAD and actor.school_id == school.pk and actor.is_active


def grantable_roles(actor: StaffMember) -> tuple[StaffRole, ...]:
    if actor.role == StaffRole.ACADEMIE:
        return SCHOOL_ROLES
    if actor.role == StaffRole.HEAD:
        return HEAD_GRANTS
    return ()


def can_remove(actor: StaffMember, member: StaffMember) -> bool:
    """A head removes their secretaries and readers; an operator anyone of a school of the académie.

    Nobody removes themselves here: a head cannot touch a head's access, their own included, so a school
    loses its head only by an operator's decision (the confirmation then says no head is left).
    """
    if not member.is_active or member.pk == actor.pk or member.school is None:
        return False
    if not manages_staff(actor, member.school):
        return False
    return actor.role == StaffRole.ACADEMIE or member.role in HEAD_GRANTS


def can_reset(actor: StaffMember, member: StaffMember) -> bool:
    """Only an operator starts a new enrolment (lost phone or password); a withdrawn access comes back so."""
    return (
        actor.role == StaffRole.ACADEMIE
        and member.school is not None
        and member.pk != actor.pk
        and manages_staff(actor, member.school)
    )


def school_staff(school: School) -> list[StaffMember]:
    """The school's staff, active first, heads then secretaries then readers, by name."""
    order: dict[str, int] = {str(role): index for index, role in enumerate(SCHOOL_ROLES)}
    members = StaffMember.objects.filter(school=school).select_related("school")
    return sorted(members, key=lambda m: (not m.is_active, order.get(m.role, 9), m.last_name.lower(), m.first_name))


def is_last_head(member: StaffMember) -> bool:
    if member.role != StaffRole.HEAD or not member.is_active or member.school_id is None:
        return False
    others = StaffMember.objects.filter(school_id=member.school_id, role=StaffRole.HEAD, is_active=True)
    return not others.exclude(pk=member.pk).exists()


def staff_member_in(school: School, member_id: int) -> StaffMember | None:
    """A staff member of this school; another school's is "not found" from here."""
    return StaffMember.objects.filter(school=school, pk=member_id).select_related("school").first()


def staff_refusal(  # noqa: PLR0913 - who, where, and what was refused
    actor: StaffMember, school: School, *, reason: str, fields: list[str], ip: str | None, email: str = ""
) -> None:
    """Audit a refused addition (the form's or the service's), without the refused values but the email."""
    staff_audit(
        EventTag.CONSOLE_STAFF_REFUSED, staff=actor, school=school, ip=ip, reason=reason, fields=fields, email=email
    )


def check_new_staff(*, actor: StaffMember, school: School, email: str, role: str) -> str:
    """The normalised email when this addition may go ahead; StaffRefused (nothing audited) otherwise."""
    if not manages_staff(actor, school):
        raise StaffOutOfReach
    if role not in grantable_roles(actor):
        message = _("Vous ne pouvez pas donner ce rôle. Choisissez un des rôles proposés.")
        raise StaffRefused(str(message), field="role", reason="role")
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        message = _("Saisissez une adresse email valide, par exemple prenom.nom@ac-normandie.fr.")
        raise StaffRefused(str(message), field="email", reason="email_invalid") from None
    if StaffMember.objects.filter(email=email).exists():
        message = _(
            "Cette adresse email est déjà celle d'un accès à la console. Saisissez une autre adresse, ou demandez "
            "à l'opérateur académique de réinitialiser cet accès."
        )
        raise StaffRefused(str(message), field="email", reason="email_taken")
    return email


def staff_add(  # noqa: PLR0913 - keyword-only fields of the new staff member
    *,
    actor: StaffMember,
    school: School,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    ip: str | None,
) -> Invitation:
    """A new access to this school's console, with its one-time enrolment link; refusals are audited."""
    try:
        email = check_new_staff(actor=actor, school=school, email=email, role=role)
        with transaction.atomic():
            return staff_create(
                email=email,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                role=StaffRole(role),
                school=school,
                created_by=actor,
                ip=ip,
            )
    except StaffRefused as exc:
        staff_refusal(actor, school, reason=exc.reason, fields=[exc.field], ip=ip, email=email.strip().lower()[:254])
        raise
    except (IntegrityError, ValidationError):  # the same email added at the same moment by someone else
        staff_refusal(actor, school, reason="email_taken", fields=["email"], ip=ip, email=email[:254])
        message = _("Cette adresse email est déjà celle d'un accès à la console. Saisissez une autre adresse.")
        raise StaffRefused(str(message), field="email", reason="email_taken") from None


def staff_reset(*, actor: StaffMember, member: StaffMember, ip: str | None) -> Invitation:
    """Lost second factor or password, asked by an operator: a new enrolment link, sessions ended."""
    if not can_reset(actor, member):
        raise StaffOutOfReach
    return staff_reinvite(staff=member, by=actor, ip=ip)


@transaction.atomic
def staff_remove(*, actor: StaffMember, member: StaffMember, ip: str | None) -> StaffMember:
    """Withdraw an access: no more login, its sessions and any unused enrolment link stop working."""
    locked = StaffMember.objects.select_for_update().get(pk=member.pk)
    if not can_remove(actor, locked):  # judged on the locked row: a role changed meanwhile counts
        raise StaffOutOfReach
    was_last_head = is_last_head(locked)
    locked.is_active = False
    locked.enrolment_digest = ""
    locked.enrolment_expires_at = None
    locked.save(update_fields=["is_active", "enrolment_digest", "enrolment_expires_at"])
    staff_audit(
        EventTag.CONSOLE_STAFF_REMOVED,
        staff=actor,
        school=locked.school,
        ip=ip,
        **_member_data(locked),
        last_head=was_last_head,
    )
    return locked
