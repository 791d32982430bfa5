"""Writes on accounts: creation from the directory, letters, activation, email."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trousseau.accounts.exceptions import NotAwaitingActivation, PasswordRefused
from trousseau.accounts.identifiers import new_identifier
from trousseau.accounts.models import (
    Account,
    AccountGuardian,
    AccountKind,
    AccountState,
    ActivationLetter,
    LetterStatus,
)
from trousseau.accounts.passwords import require_acceptable_for
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.core.secrets import provisional_password
from trousseau.directory.models import Guardian, Pupil


@transaction.atomic
def account_create_for_pupil(*, pupil: Pupil) -> Account:
    account = Account(
        identifier=new_identifier(pupil.first_name, pupil.last_name),
        kind=AccountKind.PUPIL,
        first_name=pupil.first_name,
        last_name=pupil.last_name,
        pupil=pupil,
    )
    account.set_unusable_password()
    account.save()
    return account


@transaction.atomic
def account_create_for_guardian(*, guardian: Guardian) -> Account:
    account = Account(
        identifier=new_identifier(guardian.first_name, guardian.last_name),
        kind=AccountKind.GUARDIAN,
        first_name=guardian.first_name,
        last_name=guardian.last_name,
    )
    account.set_unusable_password()
    account.save()
    AccountGuardian.objects.create(account=account, guardian=guardian)
    return account


@transaction.atomic
def letter_issue(*, account: Account, now: datetime | None = None) -> tuple[ActivationLetter, str]:
    """Issue a new letter, revoking any earlier one; returns the letter and its clear password.

    The clear password exists only in the return value: it goes onto paper, never into the database.
    """
    now = now or timezone.now()
    ActivationLetter.objects.filter(account=account, used_at=None, revoked_at=None).update(revoked_at=now)
    password = provisional_password()
    letter = ActivationLetter.objects.create(
        account=account,
        password_hash=make_password(password),
        issued_at=now,
        expires_at=now + settings.ACTIVATION_LETTER_VALIDITY,
    )
    audit(EventTag.LETTER_ISSUED, account=account, letter_id=letter.pk)
    return letter, password


def current_letter(account: Account) -> ActivationLetter | None:
    """The letter most recently issued and not revoked (it may be expired or used)."""
    return account.letters.filter(revoked_at=None).first()


LETTER_PASSWORD_KEPT = _("Choisissez un mot de passe différent de celui du courrier.")


def is_the_letters_password(letter: ActivationLetter | None, password: str) -> bool:
    """The provisional password must die with the activation (ASVS 6.4.1): never kept as the new one."""
    return letter is not None and check_password(password, letter.password_hash)


@transaction.atomic
def account_activate(*, account: Account, letter_id: int, password: str, email: str, ip: str | None = None) -> Account:
    """Provisional -> active with the chosen password; the letter is spent.

    Locks the account row so two tabs cannot activate it twice with different passwords.
    Raises NotAwaitingActivation when the account or the letter moved on meanwhile, PasswordRefused
    when the password breaks the rule or is the letter's own.
    """
    locked = Account.objects.select_for_update().get(pk=account.pk)
    letter = ActivationLetter.objects.select_for_update().get(pk=letter_id, account=locked)
    now = timezone.now()
    if locked.state != AccountState.PROVISIONAL or letter.status(now) != LetterStatus.VALID:
        raise NotAwaitingActivation
    require_acceptable_for(locked, password)
    if is_the_letters_password(letter, password):
        raise PasswordRefused([str(LETTER_PASSWORD_KEPT)])
    locked.set_password(password)
    locked.state = AccountState.ACTIVE
    locked.activated_at = now
    if email:
        locked.email = email
        locked.email_verified_at = None
    locked.save()
    letter.used_at = now
    letter.save(update_fields=["used_at"])
    audit(EventTag.ACTIVATION_BY_LETTER_SUCCESS, account=locked, ip=ip, letter_id=letter.pk, email_given=bool(email))
    return locked


@transaction.atomic
def account_verify_email(*, account: Account, email: str, ip: str | None = None) -> bool:
    """Mark the email verified if it is still the one awaiting its link; False when the link is stale.

    An address waiting in `pending_email` replaces the verified one only now, once it is proven.
    """
    locked = Account.objects.select_for_update().get(pk=account.pk)
    if email_awaiting_verification(locked) != email:
        return False
    replaced = bool(locked.pending_email)
    locked.email, locked.email_verified_at, locked.pending_email = email, timezone.now(), ""
    locked.save(update_fields=["email", "email_verified_at", "pending_email"])
    audit(EventTag.EMAIL_VERIFICATION_SUCCESS, account=locked, ip=ip, replaced_verified=replaced)
    return True


def email_awaiting_verification(account: Account) -> str:
    """The address a verification link may still prove: the pending one, else an unverified `email`."""
    if account.pending_email:
        return account.pending_email
    return account.email if account.email and not account.email_verified_at else ""
