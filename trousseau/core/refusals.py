"""Refusals that accounts, flows and console share: one type, one message (French source, translated).

A service answers "too many tries" the same way wherever a guessing guard closed (the mire, the
console, grouping, the SMS journeys): the person waits `minutes`, and the page says so in one sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import ngettext


@dataclass(frozen=True)
class Throttled:
    """A guard is closed: nothing more is judged for `minutes`, whatever the answer."""

    minutes: int


def too_many_tries(minutes: int) -> str:
    """The sentence every page shows for a closed guard, in the active language."""
    return ngettext(
        "Trop de tentatives. Patientez %(minutes)s minute avant de réessayer.",
        "Trop de tentatives. Patientez %(minutes)s minutes avant de réessayer.",
        minutes,
    ) % {"minutes": minutes}
