"""Reads and writes of recovery: who a lost identifier or password can be sent to, and the reset."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from trousseau.accounts.models import Account, AccountKind, AccountState
from trousseau.accounts.passwords import require_acceptable_for
from trousseau.accounts.sessions import sessions_end
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.notifications.services import send_email, send_sms


class ResetTokens(PasswordResetTokenGenerator):
    """Django's state-bound tokens: a reset or a login since issue makes the link useless, and so
    does a newer link (its issue time is signed in)."""

    key_salt = "trousseau.accounts.recovery.ResetTokens"

    def _make_hash_value(self, user: Account, timestamp: int) -> str:
        issued = getattr(user, "reset_link_issued_at", None)
        return super()._make_hash_value(user, timestamp) + (issued.isoformat() if issued else "")

    def link_for(self, account: Account) -> str:
        """A new token for the account, voiding the ones issued before."""
        account.reset_link_issued_at = timezone.now()
        Account.objects.filter(pk=account.pk).update(reset_link_issued_at=account.reset_link_issued_at)
        return self.make_token(account)


reset_tokens = ResetTokens()


def active_accounts_with_verified_email(email: str) -> list[Account]:
    return list(
        Account.objects.filter(
            email__iexact=email.strip(), email_verified_at__isnull=False, state=AccountState.ACTIVE
        ).order_by("identifier")
    )


def active_guardian_accounts_for_mobile(phone: str) -> list[Account]:
    """Active guardian accounts whose school records, or own verified mobile, carry this number."""
    return list(
        Account.objects.filter(
            Q(guardian_links__guardian__mobile=phone) | Q(phone=phone, phone_verified_at__isnull=False),
            kind=AccountKind.GUARDIAN,
            state=AccountState.ACTIVE,
        )
        .distinct()
        .order_by("identifier")
    )


def recorded_mobile(account: Account) -> str | None:
    """The guardian's own verified mobile, else the one a school recorded (the first record that has one)."""
    if account.kind != AccountKind.GUARDIAN:
        return None
    if account.phone_verified:
        return account.phone
    mobiles = account.guardian_links.exclude(guardian__mobile="").values_list("guardian__mobile", flat=True)
    return next(iter(mobiles), None)


@transaction.atomic
def account_reset_password(*, account: Account, password: str, ip: str | None = None) -> Account:
    """Set a new password (PasswordRefused if it breaks the rule) and end every session of the account."""
    locked = Account.objects.select_for_update().get(pk=account.pk)
    require_acceptable_for(locked, password)
    locked.set_password(password)
    locked.save(update_fields=["password"])
    ended = sessions_end(locked)
    notified = notify_password_changed(locked)
    audit(EventTag.LOST_PASSWORD_SUCCESS, account=locked, ip=ip, sessions_ended=ended, notified=notified)
    return locked


CHANGE_NOTICE_SMS = (
    "Trousseau : le mot de passe du compte {identifier} vient d'être changé. "
    "Si ce n'est pas vous, utilisez « Mot de passe perdu » et prévenez votre établissement."
)


def notify_password_changed(account: Account) -> str:
    """Tell the holder on a channel they already had (ASVS 6.3.7): if it was not them, they know at once.

    Email when the account has a verified one, else an SMS to its mobile; returns the channel, or "".
    """
    if account.email_verified:
        send_email(
            to=account.email,
            subject="Votre mot de passe Trousseau a changé",
            template="accounts/email/password_changed.txt",
            context={"account": account, "login_url": settings.PUBLIC_URL.rstrip("/") + reverse("flows:login")},
        )
        return "email"
    phone = recorded_mobile(account)
    if phone:
        send_sms(to=phone, body=CHANGE_NOTICE_SMS.format(identifier=account.identifier))
        return "sms"
    return ""
