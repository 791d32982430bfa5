"""Refusals that accounts, flows and console share: one type, one message (French source, translated).

A service answers "too many tries" the same way wherever a guessing guard closed (the mire, the
console, grouping, the SMS journeys, a proof of the holder): the person waits `minutes`, and the page
says so in one sentence. Services that return an outcome return `Throttled`; those that raise their
refusals raise `TooManyTries`: the same refusal, in the style of the service that gives it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import ngettext


@dataclass(frozen=True)
class WrongCredentials:
    """Unknown identifier or wrong password: one answer for both, so that nobody learns which exists."""


@dataclass(frozen=True)
class Throttled:
    """A guard is closed: nothing more is judged for `minutes`, whatever the answer."""

    minutes: int


class TooManyTries(Exception):
    """`Throttled`, raised: a guard is closed for `minutes`, so nothing more is judged until it reopens."""

    __match_args__ = ("minutes",)

    def __init__(self, minutes: int) -> None:
        super().__init__(minutes)
        self.minutes = minutes


def too_many_tries(minutes: int) -> str:
    """The sentence every page shows for a closed guard, in the active language."""
    return ngettext(
        "Trop de tentatives. Patientez %(minutes)s minute avant de réessayer.",
        "Trop de tentatives. Patientez %(minutes)s minutes avant de réessayer.",
        minutes,
    ) % {"minutes": minutes}
