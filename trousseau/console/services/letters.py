"""Activation letters from the console: which accounts a school prints for, as PDF or CSV, audited.

The letters themselves are `trousseau.letters` (`export`, `pdf`): each account gets
a new provisional password (its previous letter is revoked) and one PDF page or one CSV row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from trousseau.accounts.models import Account, ActivationLetter
from trousseau.audit.events import EventTag
from trousseau.console.audit import staff_audit
from trousseau.console.models import StaffMember
from trousseau.console.scoping import require_action
from trousseau.console.services.actions import account_reset
from trousseau.directory.models import Pupil, School
from trousseau.letters.export import accounts_for_class, accounts_for_pupil, accounts_for_school, letters_csv
from trousseau.letters.pdf import letters_pdf

PUPILS, GUARDIANS, BOTH = "pupils", "guardians", "both"


def accounts_to_notify(school: School, *, kinds: str, class_name: str = "") -> list[Account]:
    """Accounts of the school (or one class) still waiting for activation: pupils, guardians or both."""
    pupils, guardians = kinds in {PUPILS, BOTH}, kinds in {GUARDIANS, BOTH}
    if class_name:
        return accounts_for_class(school, class_name, pupils=pupils, guardians=guardians)
    return accounts_for_school(school, pupils=pupils, guardians=guardians)


def with_valid_letter(accounts: Sequence[Account]) -> set[int]:
    """The accounts among these whose last letter can still be used: a new one would void it."""
    now = timezone.now()
    live = ActivationLetter.objects.filter(
        account__in=[a.pk for a in accounts], used_at=None, revoked_at=None, expires_at__gt=now
    ).values_list("account_id", flat=True)
    return set(live)


def accounts_of_pupil(pupil: Pupil) -> list[Account]:
    """The pupil's account and their legal guardians' accounts, those still waiting for activation."""
    return accounts_for_pupil(pupil)


def _what(accounts: Sequence[Account], scope: str) -> dict[str, Any]:
    return {"scope": scope, "count": len(accounts), "accounts": [a.identifier for a in accounts][:500]}


def print_pdf(
    *, staff: StaffMember, school: School, accounts: Sequence[Account], scope: str, ip: str | None = None
) -> bytes:
    """One page per account, each with a new provisional password (the previous letter is revoked)."""
    require_action(staff)
    pdf = letters_pdf(list(accounts))
    staff_audit(EventTag.CONSOLE_LETTERS_PRINTED, staff=staff, school=school, ip=ip, **_what(accounts, scope))
    return pdf


def export_csv(
    *, staff: StaffMember, school: School, accounts: Sequence[Account], scope: str, ip: str | None = None
) -> bytes:
    """The same letters as rows for a mail merge (with new passwords: the CSV replaces any PDF printed)."""
    require_action(staff)
    data = letters_csv(list(accounts))
    staff_audit(EventTag.CONSOLE_LETTERS_EXPORTED, staff=staff, school=school, ip=ip, **_what(accounts, scope))
    return data


@transaction.atomic
def reset_and_print(*, staff: StaffMember, school: School, account: Account, ip: str | None = None) -> bytes:
    """Reset the account and print its new letter, together: no reset without its letter."""
    account = account_reset(staff=staff, school=school, account=account, ip=ip)
    return print_pdf(staff=staff, school=school, accounts=[account], scope="account", ip=ip)
