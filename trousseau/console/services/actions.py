"""What staff do to a family's account: reset, disable, enable, fix a guardian's contact, settle a link.

Each function takes the acting staff member and the school they act from (already checked to be in
their scope, and the account to belong to it), locks the rows it changes, and audits the step with
the account, so the family reads it in its own history too. Refusals raise `ActionRefused`.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trousseau.accounts.authentication import login_guards
from trousseau.accounts.models import Account, AccountState, ContestedLink
from trousseau.accounts.sessions import sessions_end
from trousseau.audit.events import EventTag
from trousseau.console.audit import staff_audit
from trousseau.console.models import StaffMember
from trousseau.console.scoping import require_action
from trousseau.core import throttle
from trousseau.core.phones import mask, normalize_mobile
from trousseau.directory.models import Guardian, School


class ActionRefused(Exception):
    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


def _lock(account: Account) -> Account:
    return Account.objects.select_for_update().get(pk=account.pk)


@transaction.atomic
def account_reset(*, staff: StaffMember, school: School, account: Account, ip: str | None = None) -> Account:
    """Back to provisional: the password stops working and every session ends; a new letter follows.

    The caller prints the new letter (`services.letters`), which revokes the previous one.
    """
    require_action(staff)
    locked = _lock(account)
    if locked.state == AccountState.DISABLED:
        raise ActionRefused(_("Ce compte est désactivé : réactivez-le avant de le réinitialiser."))
    if locked.merged_into_id is not None:
        raise ActionRefused(_("Ce compte a été regroupé avec un autre : réinitialisez le compte conservé."))
    previous = locked.state
    locked.state = AccountState.PROVISIONAL
    locked.activated_at = None
    locked.set_unusable_password()
    locked.save(update_fields=["state", "activated_at", "password"])
    ended = sessions_end(locked)
    # The school vouches for the family: the identifier's guessing counter (and lock) starts again.
    throttle.reset(login_guards(locked.identifier, "")[0])
    staff_audit(
        EventTag.CONSOLE_ACCOUNT_RESET,
        staff=staff,
        school=school,
        account=locked,
        ip=ip,
        previous_state=previous,
        sessions_ended=ended,
    )
    return locked


@transaction.atomic
def account_disable(*, staff: StaffMember, school: School, account: Account, ip: str | None = None) -> Account:
    """No login, no activation, every session ended; the letters and password are kept for a re-enable."""
    require_action(staff)
    locked = _lock(account)
    if locked.state == AccountState.DISABLED:
        raise ActionRefused(_("Ce compte est déjà désactivé."))
    previous = locked.state
    locked.state = AccountState.DISABLED
    locked.save(update_fields=["state"])
    ended = sessions_end(locked)
    staff_audit(
        EventTag.CONSOLE_ACCOUNT_DISABLED,
        staff=staff,
        school=school,
        account=locked,
        ip=ip,
        previous_state=previous,
        sessions_ended=ended,
    )
    return locked


@transaction.atomic
def account_enable(*, staff: StaffMember, school: School, account: Account, ip: str | None = None) -> Account:
    """Back to active if it had been activated (its password works again), else to provisional."""
    require_action(staff)
    locked = _lock(account)
    if locked.state != AccountState.DISABLED:
        raise ActionRefused(_("Ce compte n'est pas désactivé."))
    activated = locked.activated_at is not None and locked.has_usable_password()
    locked.state = AccountState.ACTIVE if activated else AccountState.PROVISIONAL
    locked.save(update_fields=["state"])
    staff_audit(
        EventTag.CONSOLE_ACCOUNT_ENABLED, staff=staff, school=school, account=locked, ip=ip, new_state=locked.state
    )
    return locked


def guardian_contact_update(  # noqa: PLR0913 - keyword-only: who, where, which row, what
    *,
    staff: StaffMember,
    school: School,
    guardian: Guardian,
    account: Account | None,
    mobile: str,
    email: str,
    ip: str | None = None,
) -> Guardian:
    """Correct the mobile (stored in E.164) and email the school recorded for this guardian.

    This is the number self-registration and SMS recovery match against; the audit keeps its last
    two digits only. Raises ActionRefused for a number that is not a valid mobile (a landline
    included), audited outside the update's transaction so that the refusal stays on record.
    """
    require_action(staff)
    try:
        new_mobile = normalize_mobile(mobile) if mobile.strip() else ""
    except ValueError as exc:
        staff_audit(
            EventTag.CONSOLE_CONTACT_REFUSED,
            staff=staff,
            school=school,
            account=account,
            ip=ip,
            guardian=guardian.pk,
            error=str(exc),
        )
        raise ActionRefused(str(exc)) from exc
    return _contact_save(
        staff=staff, school=school, guardian=guardian, account=account, mobile=new_mobile, email=email, ip=ip
    )


@transaction.atomic
def _contact_save(  # noqa: PLR0913 - keyword-only, as guardian_contact_update
    *,
    staff: StaffMember,
    school: School,
    guardian: Guardian,
    account: Account | None,
    mobile: str,
    email: str,
    ip: str | None,
) -> Guardian:
    locked = Guardian.objects.select_for_update().get(pk=guardian.pk)
    new_mobile = mobile
    new_email = email.strip()
    changed = [
        name
        for name, old, new in (("mobile", locked.mobile, new_mobile), ("email", locked.email, new_email))
        if old != new
    ]
    if not changed:
        return locked
    locked.mobile, locked.email = new_mobile, new_email
    fields = list(changed)
    if "mobile" in changed:
        # The next import shows this correction beside the file's number instead of undoing it.
        locked.mobile_fixed_at = timezone.now()
        fields.append("mobile_fixed_at")
    locked.save(update_fields=fields)
    staff_audit(
        EventTag.CONSOLE_CONTACT_UPDATED,
        staff=staff,
        school=school,
        account=account,
        ip=ip,
        guardian=locked.pk,
        fields=changed,
        mobile=mask(new_mobile) if new_mobile else "",
    )
    return locked


@transaction.atomic
def contested_link_resolve(
    *, staff: StaffMember, school: School, contest: ContestedLink, remove: bool, ip: str | None = None
) -> None:
    """The school looked at a link a family reported: it stands (confirmed) or goes (the link is removed).

    A confirmed link is listed again among the guardian's children; a removed one is gone from the
    directory until an import brings it back.
    """
    require_action(staff)
    locked = ContestedLink.objects.select_for_update().select_related("guardianship__pupil").get(pk=contest.pk)
    if locked.resolved_at is not None:
        raise ActionRefused(_("Ce signalement a déjà été traité."))
    link = locked.guardianship
    link_row = getattr(link.guardian, "account_link", None)
    guardian_account = link_row.account if link_row else None
    details = {"pupil": link.pupil.ine, "guardian": link.guardian_id, "reported_by": locked.reported_by_id}
    if remove:
        link.delete()  # the ContestedLink row goes with it
        tag = EventTag.CONSOLE_LINK_REMOVED
    else:
        locked.resolved_at = timezone.now()
        locked.save(update_fields=["resolved_at"])
        tag = EventTag.CONSOLE_LINK_CONFIRMED
    staff_audit(tag, staff=staff, school=school, account=guardian_account, ip=ip, **details)


def school_contact_set(  # noqa: PLR0913 - the staff member, the school, then the contact's parts
    *, staff: StaffMember, school: School, phone: str, email: str, hours: str, ip: str | None = None
) -> None:
    """The contact printed on the school's letters; the change is audited with the old and new values."""
    require_action(staff)
    before = {"phone": school.contact_phone, "email": school.contact_email, "hours": school.contact_hours}
    school.contact_phone, school.contact_email, school.contact_hours = phone, email, hours
    school.save(update_fields=["contact_phone", "contact_email", "contact_hours"])
    after = {"phone": phone, "email": email, "hours": hours}
    staff_audit(EventTag.CONSOLE_SCHOOL_CONTACT_UPDATED, staff=staff, school=school, ip=ip, before=before, after=after)
