"""Changes the holder makes from "Gérer mon compte": password, email, mobile, sessions.

Each change of a way in or of a recovery channel first asks the holder to prove it is them again
(`confirm_holder`), so that a session left open on a shared computer cannot be turned into the
account for good (issue #15, finding 5), and each is told on the channels the account had before
(`change_notices`), with a "Ce n'était pas moi" link.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trousseau.accounts import change_notices
from trousseau.accounts.authentication import confirm_password
from trousseau.accounts.exceptions import FreshLoginRequired, PasswordRefused
from trousseau.accounts.models import Account
from trousseau.accounts.passwords import require_acceptable_for
from trousseau.accounts.recovery import notify_password_changed, recorded_mobile
from trousseau.accounts.sessions import sessions_end
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit


def confirm_holder(
    *, account: Account, password: str, authenticated_at: datetime | None, ip: str, refused: EventTag
) -> None:
    """The holder proves it is them again before a sensitive change (ASVS 5.0 V6.3, V7.5).

    An account with a password types it, guarded like a login (`confirm_password`). An account that
    has none (FranceConnect only) must have logged in with FranceConnect in this session less than
    `REAUTH_FRESH_LOGIN` ago. Raises TooManyTries, WrongCurrentPassword or FreshLoginRequired,
    each audited as `refused`, having changed nothing.
    """
    if account.has_usable_password():
        confirm_password(account=account, password=password, ip=ip, refused=refused, wrong="wrong_current")
        return
    if authenticated_at is None or timezone.now() - authenticated_at > settings.REAUTH_FRESH_LOGIN:
        audit(refused, account=account, ip=ip, reason="stale_login")
        raise FreshLoginRequired


CURRENT_PASSWORD_KEPT = _("Choisissez un mot de passe différent de l'actuel.")


def password_change(  # noqa: PLR0913 - the holder's proof and the new password, all named
    *,
    account: Account,
    current: str,
    new: str,
    ip: str,
    keep_session: str | None,
    authenticated_at: datetime | None = None,
) -> Account:
    """Check the current password (or a fresh FranceConnect login), set the new one, end every other session.

    The current password is guarded like a login: a wrong one counts against the identifier (the
    same counter as the mire), and while that counter is closed no password is checked at all.
    Raises TooManyTries, WrongCurrentPassword or FreshLoginRequired, changing nothing; and first
    PasswordRefused, counting nothing, when the new password breaks the rule or is the current one.
    """
    require_acceptable_for(account, new)
    if new == current:
        raise PasswordRefused([str(CURRENT_PASSWORD_KEPT)])
    confirm_holder(
        account=account,
        password=current,
        authenticated_at=authenticated_at,
        ip=ip,
        refused=EventTag.PASSWORD_CHANGE_FAILURE,
    )
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        locked.set_password(new)
        locked.save(update_fields=["password"])
        ended = sessions_end(locked, keep=keep_session)
        notified = notify_password_changed(locked)
        audit(EventTag.PASSWORD_CHANGED, account=locked, ip=ip, sessions_ended=ended, notified=notified)
    return locked


def email_change(*, account: Account, email: str, password: str, authenticated_at: datetime | None, ip: str) -> Account:
    """Ask for a new address once the holder proved it is them; the caller sends its link.

    A verified address stays the account's (and recovery's) until the new one is verified: the new
    one waits in `pending_email`. An account without a verified address takes the new one at once,
    unverified, as there is no channel to keep. The previous address and the mobile are told.
    """
    confirm_holder(
        account=account,
        password=password,
        authenticated_at=authenticated_at,
        ip=ip,
        refused=EventTag.EMAIL_CHANGE_FAILURE,
    )
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        previous = locked.email if locked.email_verified else ""
        if previous:
            locked.pending_email = email
            locked.save(update_fields=["pending_email"])
            audit(EventTag.EMAIL_CHANGE_REQUESTED, account=locked, ip=ip, domain=email.rpartition("@")[2])
        else:
            locked.email, locked.email_verified_at, locked.pending_email = email, None, ""
            locked.save(update_fields=["email", "email_verified_at", "pending_email"])
            audit(EventTag.EMAIL_CHANGED, account=locked, ip=ip, replaced_verified=False)
        change_notices.notify_change(
            locked,
            what=change_notices.EMAIL,
            old=previous,
            new=email,
            to_email=previous,
            to_phone=recorded_mobile(locked) or "",
            ip=ip,
        )
    return locked


@transaction.atomic
def mobile_set_verified(*, account: Account, phone: str, ip: str | None = None) -> Account:
    """The account's own mobile, once a code sent to it was typed back; the previous mobile and the email are told."""
    locked = Account.objects.select_for_update().get(pk=account.pk)
    had_phone = bool(locked.phone)
    previous_own = locked.phone if locked.phone_verified else ""
    previous_recorded = recorded_mobile(locked) or ""
    locked.phone = phone
    locked.phone_verified_at = timezone.now()
    locked.save(update_fields=["phone", "phone_verified_at"])
    audit(EventTag.CHANGE_MOBILE_SUCCESS, account=locked, ip=ip, replaced=had_phone, ending=phone[-2:])
    change_notices.notify_change(
        locked,
        what=change_notices.MOBILE,
        old=previous_own,
        new=phone,
        to_email=locked.email if locked.email_verified else "",
        to_phone=previous_recorded if previous_recorded != phone else "",
        ip=ip,
    )
    return locked


def sessions_end_others(*, account: Account, keep: str | None, ip: str | None = None) -> int:
    """ "Se déconnecter partout": every session but this one ends."""
    ended = sessions_end(account, keep=keep)
    audit(EventTag.SESSIONS_ENDED, account=account, ip=ip, sessions_ended=ended)
    return ended
