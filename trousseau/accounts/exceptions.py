"""Refusals of account services."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trousseau.accounts.models import LetterStatus


class PasswordRefused(Exception):
    """The password breaks the rule (`passwords.require_acceptable`); nothing was changed.

    `problems` are the messages, in the active language, that the form shows under the field.
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems)
        self.problems = problems


class NotAwaitingActivation(Exception):
    """The account is no longer provisional, or its letter stopped being valid."""


class AlreadyActive(Exception):
    """A guardian record already has an active account: recover it rather than make a second one."""


class WrongCurrentPassword(Exception):
    """The current password typed to change it is not the account's (counted like a failed login)."""


class BirthDateMismatch(Exception):
    """The birth date typed with a letter is none of the account's children's (counted on the letter)."""

    def __init__(self, remaining: int, status: LetterStatus) -> None:
        super().__init__(remaining, status)
        self.remaining = remaining  # wrong dates the letter still takes before it pauses or blocks
        self.status = status  # the letter's status after this one: still valid, paused or blocked


class LetterBudgetSpent(Exception):
    """The letter took its share of wrong birth dates: paused until tomorrow, or blocked for good."""

    def __init__(self, status: LetterStatus) -> None:
        super().__init__(status)
        self.status = status


class FreshLoginRequired(Exception):
    """An account without a password confirms a sensitive change by a recent FranceConnect login only."""
