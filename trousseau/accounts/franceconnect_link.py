"""Accounts and FranceConnect: find an account by its `sub`, link one at first login, unlink it.

Only the `sub` links an account to FranceConnect (never an email or a phone: research/franceconnect.md
§3.1). The link is made at the end of a first login that proved the school's records (the recorded
mobile, an SMS code and the children's birth dates). An account that exists for those records is
linked, not duplicated; a provisional one becomes active without a password (FranceConnect is its way
in; "Mot de passe perdu" gives it one later).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from trousseau.accounts.identifiers import new_identifier
from trousseau.accounts.models import Account, AccountGuardian, AccountKind, AccountState, ActivationLetter
from trousseau.accounts.self_registration import account_absorb, accounts_of_guardians
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.directory.models import Guardian


class AccountUnusable(Exception):
    """The account for this person is disabled: only the school can help."""


class SubTaken(Exception):
    """This FranceConnect identity got linked to another account meanwhile."""


class NoOtherLogin(Exception):
    """Unlinking would leave the account without any way in: a password must be chosen first."""


def account_by_franceconnect_sub(sub: str) -> Account | None:
    return Account.objects.filter(franceconnect_sub=sub).first() if sub else None


def _new_guardian_account(guardian_ids: list[int]) -> Account:
    first = Guardian.objects.get(pk=guardian_ids[0])
    account = Account(kind=AccountKind.GUARDIAN, first_name=first.first_name, last_name=first.last_name)
    account.set_unusable_password()
    for attempt in range(3):
        account.identifier = new_identifier(first.first_name, first.last_name)
        try:
            with transaction.atomic():
                account.save()
            break
        except IntegrityError:  # the identifier was taken meanwhile
            if attempt == 2:  # noqa: PLR2004
                raise
    return account


@transaction.atomic
def account_link_franceconnect(*, guardian_ids: list[int], sub: str, ip: str | None = None) -> Account:
    """The one active account speaking for these guardian records, linked to this `sub`.

    The oldest active account is kept if there is one, else the oldest provisional one (activated),
    else a new one is made; the other provisional accounts of these records are absorbed and their
    letters revoked, as self-registration does. Raises AccountUnusable if the records only have
    disabled accounts, SubTaken if the `sub` is already another account's.
    """
    existing = list(
        Account.objects.select_for_update()
        .filter(pk__in=[a.pk for a in accounts_of_guardians(guardian_ids)])
        .order_by("pk")
    )
    active = [a for a in existing if a.state == AccountState.ACTIVE]
    provisional = [a for a in existing if a.state == AccountState.PROVISIONAL]
    if existing and not (active or provisional):
        raise AccountUnusable
    if Account.objects.filter(franceconnect_sub=sub).exclude(pk__in=[a.pk for a in existing]).exists():
        raise SubTaken
    if active:
        keep = active[0]
    elif provisional:
        keep = provisional[0]
    else:
        keep = _new_guardian_account(guardian_ids)
    for other in provisional:
        if other.pk != keep.pk:
            account_absorb(keep=keep, other=other, ip=ip)
    now = timezone.now()
    ActivationLetter.objects.filter(account=keep, used_at=None, revoked_at=None).update(revoked_at=now)
    linked = set(AccountGuardian.objects.filter(guardian_id__in=guardian_ids).values_list("guardian_id", flat=True))
    AccountGuardian.objects.bulk_create(
        [AccountGuardian(account=keep, guardian_id=g) for g in guardian_ids if g not in linked]
    )
    previous = keep.franceconnect_sub
    activated = keep.state != AccountState.ACTIVE
    keep.franceconnect_sub = sub
    if activated:
        keep.state = AccountState.ACTIVE
        keep.activated_at = now
    try:
        with transaction.atomic():
            keep.save()
    except IntegrityError as exc:  # unique sub: linked elsewhere between the check and the save
        raise SubTaken from exc
    audit(EventTag.FRANCECONNECT_LINKED, account=keep, ip=ip, activated=activated, replaced=bool(previous))
    return keep


def account_unlink_franceconnect(*, account: Account, ip: str | None = None) -> bool:
    """Remove the FranceConnect link; False if there was none. NoOtherLogin if it is the only way in."""
    account.refresh_from_db(fields=["franceconnect_sub", "password"])
    if not account.franceconnect_sub:
        return False
    if not account.has_usable_password():
        raise NoOtherLogin
    account.franceconnect_sub = None
    account.save(update_fields=["franceconnect_sub"])
    audit(EventTag.FRANCECONNECT_UNLINKED, account=account, ip=ip)
    return True
