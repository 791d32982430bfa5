"""Writes of the self-service journeys that end with an account: self-registration and merging."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from trousseau.accounts.exceptions import AlreadyActive
from trousseau.accounts.identifiers import new_identifier
from trousseau.accounts.models import (
    Account,
    AccountGuardian,
    AccountKind,
    AccountState,
    ActivationLetter,
    ContestedLink,
)
from trousseau.accounts.passwords import require_acceptable
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.directory.models import Guardian, Guardianship
from trousseau.directory.selectors import guardianships_of


def accounts_of_guardians(guardian_ids: list[int]) -> list[Account]:
    return list(Account.objects.filter(guardian_links__guardian_id__in=guardian_ids).distinct().order_by("pk"))


def identifier_for_self_registration(guardian_ids: list[int]) -> str:
    """The identifier self-registration will end with: an existing provisional account's, or a new one."""
    existing = accounts_of_guardians(guardian_ids)
    if existing:
        return existing[0].identifier
    first = Guardian.objects.get(pk=guardian_ids[0])
    return new_identifier(first.first_name, first.last_name)


def self_registration_personal_details(guardian_ids: list[int]) -> tuple[tuple[str, ...], tuple[date, ...]]:
    """What the new password must not contain: the guardians' and their children's names, the children's dates."""
    pupils = {link.pupil.pk: link.pupil for link in guardianships_of(guardian_ids)}
    guardians = Guardian.objects.filter(pk__in=guardian_ids)
    names = {n for g in guardians for n in (g.first_name, g.last_name)} | {p.first_name for p in pupils.values()}
    return tuple(sorted(names)), tuple(p.birth_date for p in pupils.values())


@transaction.atomic
def account_absorb(*, keep: Account, other: Account, ip: str | None = None) -> None:
    """Move `other`'s guardian records to `keep` and close `other`, pointing it to `keep`."""
    now = timezone.now()
    AccountGuardian.objects.filter(account=other).update(account=keep)
    ActivationLetter.objects.filter(account=other, used_at=None, revoked_at=None).update(revoked_at=now)
    other.state = AccountState.DISABLED
    other.merged_into = keep
    fields = ["state", "merged_into"]
    if other.franceconnect_sub and not keep.franceconnect_sub:
        # The FranceConnect link follows the children, or the next FranceConnect login would land
        # on the closed account. The sub is unique, so it leaves `other` first.
        keep.franceconnect_sub, other.franceconnect_sub = other.franceconnect_sub, None
        fields.append("franceconnect_sub")
        other.save(update_fields=["franceconnect_sub"])
        keep.save(update_fields=["franceconnect_sub"])
    # The password hash stays: a disabled account opens no session, and logging in with the old
    # password tells its holder which identifier was kept (authentication.Merged).
    other.save(update_fields=fields)
    audit(EventTag.ACCOUNT_MERGED, account=keep, ip=ip, absorbed=other.identifier)
    audit(EventTag.ACCOUNT_CLOSED_BY_MERGE, account=other, ip=ip, kept=keep.identifier)


@transaction.atomic
def account_register_guardian(*, guardian_ids: list[int], identifier: str, password: str, ip: str) -> Account:
    """Last step of self-registration: one active account speaking for these guardian records.

    Provisional accounts already issued for them (unused letters) are reused rather than duplicated:
    the oldest is kept, its letters revoked, the others absorbed. Raises AlreadyActive when one of
    the records already has an active account, PasswordRefused when the password breaks the rule.
    """
    names, birth_dates = self_registration_personal_details(guardian_ids)
    require_acceptable(password, identifier=identifier, names=names, birth_dates=birth_dates)
    existing = list(
        Account.objects.select_for_update().filter(pk__in=[a.pk for a in accounts_of_guardians(guardian_ids)])
    )
    if any(a.state != AccountState.PROVISIONAL for a in existing):
        raise AlreadyActive
    now = timezone.now()
    if existing:
        keep = existing[0]
        for other in existing[1:]:
            account_absorb(keep=keep, other=other, ip=ip)
        ActivationLetter.objects.filter(account=keep, used_at=None, revoked_at=None).update(revoked_at=now)
    else:
        first = Guardian.objects.get(pk=guardian_ids[0])
        keep = Account(kind=AccountKind.GUARDIAN, first_name=first.first_name, last_name=first.last_name)
        keep.identifier = identifier
        try:
            with transaction.atomic():
                keep.save()
        except IntegrityError:  # the noted identifier was taken meanwhile: the final page shows the new one
            keep.identifier = new_identifier(first.first_name, first.last_name)
            keep.save()
    linked = set(AccountGuardian.objects.filter(guardian_id__in=guardian_ids).values_list("guardian_id", flat=True))
    AccountGuardian.objects.bulk_create(
        [AccountGuardian(account=keep, guardian_id=g) for g in guardian_ids if g not in linked]
    )
    keep.set_password(password)
    keep.state = AccountState.ACTIVE
    keep.activated_at = now
    keep.save()
    audit(EventTag.SELF_REGISTRATION_SUCCESS, account=keep, ip=ip)
    return keep


def links_contest(*, guardianship_ids: list[int], account: Account | None, ip: str | None = None) -> None:
    """Record "Je ne suis pas le représentant légal de cet élève" for the school to resolve."""
    for guardianship in Guardianship.objects.filter(pk__in=guardianship_ids):
        ContestedLink.objects.get_or_create(guardianship=guardianship, defaults={"reported_by": account})
        audit(EventTag.LINK_CONTESTED, account=account, ip=ip, guardianship=guardianship.pk)
