"""Changes the holder makes from "Gérer mon compte": password, email, mobile, sessions."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from trousseau.accounts.audit import audit
from trousseau.accounts.authentication import confirm_password
from trousseau.accounts.events import EventTag
from trousseau.accounts.models import Account
from trousseau.accounts.recovery import notify_password_changed
from trousseau.accounts.sessions import sessions_end


def password_change(*, account: Account, current: str, new: str, ip: str, keep_session: str | None) -> Account:
    """Check the current password, set the new one and end every other session.

    The current password is guarded like a login: a wrong one counts against the identifier (the
    same counter as the mire), and while that counter is closed no password is checked at all.
    Raises TooManyFailures or WrongCurrentPassword, changing nothing.
    """
    confirm_password(
        account=account, password=current, ip=ip, refused=EventTag.PASSWORD_CHANGE_FAILURE, wrong="wrong_current"
    )
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        locked.set_password(new)
        locked.save(update_fields=["password"])
        ended = sessions_end(locked, keep=keep_session)
        notified = notify_password_changed(locked)
        audit(EventTag.PASSWORD_CHANGED, account=locked, ip=ip, sessions_ended=ended, notified=notified)
    return locked


@transaction.atomic
def email_change(*, account: Account, email: str, ip: str | None = None) -> Account:
    """Store a new address, unverified until its link is followed; the caller sends the link."""
    locked = Account.objects.select_for_update().get(pk=account.pk)
    had_verified = locked.email_verified
    locked.email = email
    locked.email_verified_at = None
    locked.save(update_fields=["email", "email_verified_at"])
    audit(EventTag.EMAIL_CHANGED, account=locked, ip=ip, replaced_verified=had_verified)
    return locked


@transaction.atomic
def mobile_set_verified(*, account: Account, phone: str, ip: str | None = None) -> Account:
    """The account's own mobile, once a code sent to it was typed back."""
    locked = Account.objects.select_for_update().get(pk=account.pk)
    had_phone = bool(locked.phone)
    locked.phone = phone
    locked.phone_verified_at = timezone.now()
    locked.save(update_fields=["phone", "phone_verified_at"])
    audit(EventTag.MOBILE_CHANGED, account=locked, ip=ip, replaced=had_phone, ending=phone[-2:])
    return locked


def sessions_end_others(*, account: Account, keep: str | None, ip: str | None = None) -> int:
    """ "Se déconnecter partout": every session but this one ends."""
    ended = sessions_end(account, keep=keep)
    audit(EventTag.SESSIONS_ENDED, account=account, ip=ip, sessions_ended=ended)
    return ended
