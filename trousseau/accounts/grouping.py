"""Grouping ("Ajouter des élèves depuis un autre compte"): one guardian account for every child.

The holder of an account types the identifier and password of another account of theirs (its
letter's provisional password, or the password chosen when it was activated). The check is a
login (`authentication.authenticate`), so the same throttling and audit apply and a wrong pair
is told the same way whether or not the identifier exists. Only once the password was right may
the answer say more (not a guardian account, different names, letter expired, already grouped).

A letter's password alone is not enough (issue #15, finding 6: a homonym's letter would bring their
child): when the other account is still provisional, a birth date of one of its children is asked, as
activation asks it, under the same budget of wrong dates per letter (`accounts.letter_budget`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction

from trousseau.accounts import authentication as auth
from trousseau.accounts.exceptions import BirthDateMismatch, LetterBudgetSpent
from trousseau.accounts.identifiers import normalize_identifier
from trousseau.accounts.letter_budget import letter_birth_date_check
from trousseau.accounts.models import Account, AccountKind, AccountState, ActivationLetter, LetterStatus
from trousseau.accounts.self_registration import account_absorb
from trousseau.accounts.sessions import sessions_end
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.core.refusals import Throttled, WrongCredentials
from trousseau.core.text import fold


@dataclass(frozen=True)
class Grouped:
    absorbed_identifier: str
    children_added: int


@dataclass(frozen=True)
class SameAccount:
    pass


@dataclass(frozen=True)
class NotGuardianAccount:
    pass


@dataclass(frozen=True)
class NamesDiffer:
    pass


@dataclass(frozen=True)
class LetterUnusable:
    status: LetterStatus


@dataclass(frozen=True)
class OtherDisabled:
    pass


@dataclass(frozen=True)
class AlreadyGrouped:
    into_identifier: str


@dataclass(frozen=True)
class BirthDateNeeded:
    """The other account is still provisional: a birth date of one of its children must come too."""


@dataclass(frozen=True)
class WrongBirthDate:
    remaining: int


Outcome = (
    Grouped
    | WrongCredentials
    | SameAccount
    | NotGuardianAccount
    | NamesDiffer
    | LetterUnusable
    | OtherDisabled
    | AlreadyGrouped
    | Throttled
    | BirthDateNeeded
    | WrongBirthDate
)


def same_person(a: Account, b: Account) -> bool:
    """Same first and last names, whatever the accents, case, hyphens and spaces."""
    return fold(a.first_name) == fold(b.first_name) and fold(a.last_name) == fold(b.last_name)


def _refuse(outcome: Outcome, *, account: Account, ip: str, reason: str) -> Outcome:
    audit(EventTag.GROUPING_REFUSED, account=account, ip=ip, reason=reason)
    return outcome


@dataclass(frozen=True)
class _Opened:
    """What the other account's credentials opened: the account, and its letter if it was a letter's."""

    account: Account
    letter: ActivationLetter | None


def _other_account(outcome: auth.Outcome) -> _Opened | Outcome:
    """The account the credentials opened, or what to tell the holder instead."""
    match outcome:
        case auth.LoggedIn(account) | auth.ProvisionalLetter(account, _):
            return _Opened(account, outcome.letter if isinstance(outcome, auth.ProvisionalLetter) else None)
        case Throttled():
            return outcome
        case auth.LetterUnusable(status):
            return LetterUnusable(status)
        case auth.Disabled():
            return OtherDisabled()
        case auth.Merged(into_identifier):
            return AlreadyGrouped(into_identifier)
    return WrongCredentials()


def _other_account_checked(*, keep: Account, identifier: str, password: str, ip: str) -> _Opened | Outcome:
    """The other account if every check passes; else the refusal (each detail told only after the password)."""
    if keep.kind != AccountKind.GUARDIAN:
        return NotGuardianAccount()
    if normalize_identifier(identifier) == keep.identifier:
        return SameAccount()
    found = _other_account(
        auth.authenticate(
            identifier=identifier, password=password, ip=ip, success_tag=EventTag.GROUPING_CREDENTIALS_CHECKED
        )
    )
    if isinstance(found, _Opened) and found.account.kind != AccountKind.GUARDIAN:
        return NotGuardianAccount()
    if isinstance(found, _Opened) and not same_person(keep, found.account):
        return NamesDiffer()
    return found


def _letter_holder_checked(letter: ActivationLetter, birth_date: date | None, ip: str) -> Outcome | None:
    """None when the holder of the other account's letter also knows a child's birth date; else the refusal."""
    if birth_date is None:
        return BirthDateNeeded()  # nothing guessed: not counted
    try:
        letter_birth_date_check(letter_id=letter.pk, birth_date=birth_date, ip=ip, step="grouping")
    except BirthDateMismatch as exc:
        return WrongBirthDate(exc.remaining) if exc.status == LetterStatus.VALID else LetterUnusable(exc.status)
    except LetterBudgetSpent as exc:
        return LetterUnusable(exc.status)
    return None


def account_group(*, keep: Account, identifier: str, password: str, ip: str, birth_date: date | None = None) -> Outcome:
    """Absorb the account these credentials open into `keep`: its children move, it closes.

    Nothing changes unless the credentials are right, the other account is a live guardian account
    other than `keep`, the names on both are the same person's and, when the password was a letter's,
    `birth_date` is one of the other account's children's. Every refusal is audited on `keep`.
    """
    opened = _other_account_checked(keep=keep, identifier=identifier, password=password, ip=ip)
    if isinstance(opened, _Opened) and opened.letter is not None:
        refused = _letter_holder_checked(opened.letter, birth_date, ip)
        opened = refused if refused is not None else opened
    if not isinstance(opened, _Opened):
        return _refuse(opened, account=keep, ip=ip, reason=type(opened).__name__)
    found = opened.account
    before = keep.pupils().count()
    with transaction.atomic():
        locked = {
            a.pk: a for a in Account.objects.select_for_update().filter(pk__in=[keep.pk, found.pk]).order_by("pk")
        }
        kept, other = locked[keep.pk], locked[found.pk]
        if other.merged_into_id is not None or other.state == AccountState.DISABLED or not kept.is_active:
            return _refuse(WrongCredentials(), account=keep, ip=ip, reason="ChangedMeanwhile")
        account_absorb(keep=kept, other=other, ip=ip)
        sessions_end(other)
    return Grouped(absorbed_identifier=found.identifier, children_added=keep.pupils().count() - before)
