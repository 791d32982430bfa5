"""The birth date asked with a letter, and the letter's budget of wrong ones (issue #15, findings 2 and 6).

Whoever holds a letter (stolen from a letterbox, found in a schoolbag) must also know a child's birth
date, at activation and when grouping the letter's account into another. Wrong dates are counted on
the letter itself, under its row's lock, so that neither a new login with the letter (which resets the
identifier's login counter) nor parallel requests give more guesses: `LETTER_BIRTH_DATE_FAILURES_PER_DAY`
a day and `LETTER_BIRTH_DATE_FAILURES_IN_ALL` in all, after which the letter is blocked until the school
issues a new one (a new row, whose count starts at zero).
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from trousseau.accounts.exceptions import BirthDateMismatch, LetterBudgetSpent
from trousseau.accounts.models import ActivationLetter, LetterStatus
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit

SPENT = (LetterStatus.BLOCKED, LetterStatus.PAUSED)


def letter_birth_date_check(*, letter_id: int, birth_date: date, ip: str, step: str) -> None:
    """Returns when `birth_date` is one the letter's account knows; raises otherwise.

    BirthDateMismatch(remaining, status) for a wrong date, counted (its status says whether it was the
    last one the letter took); LetterBudgetSpent(status) when the letter takes no more dates (nothing
    is compared then, not even a right date). `step` names the journey for the audit trail
    ("activation", "grouping"). The comparison runs under the letter's lock: parallel guesses are
    counted one after the other and cannot all pass a budget about to close.
    """
    with transaction.atomic():
        letter = ActivationLetter.objects.select_for_update().select_related("account").get(pk=letter_id)
        account, now = letter.account, timezone.now()
        status = letter.status(now)
        if status in SPENT:
            audit(EventTag.LETTER_BIRTH_DATE_REFUSED, account=account, ip=ip, step=step, status=status)
        elif birth_date in account.known_birth_dates():
            return
        else:
            letter.count_birth_date_failure(now)
            letter.save(update_fields=["birth_date_failures", "birth_date_failures_today", "birth_date_day_began_at"])
            audit(
                EventTag.LETTER_BIRTH_DATE_FAILURE,
                account=account,
                ip=ip,
                step=step,
                letter_id=letter.pk,
                failures=letter.birth_date_failures,
            )
            if letter.status(now) == LetterStatus.BLOCKED:
                audit(EventTag.LETTER_BLOCKED, account=account, ip=ip, step=step, letter_id=letter.pk)
    # Raised once the block has committed: the count and the audit rows must outlive the refusal.
    if status in SPENT:
        raise LetterBudgetSpent(status)
    raise BirthDateMismatch(letter.birth_dates_remaining(now), letter.status(now))
