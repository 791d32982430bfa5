"""Refusals of account services."""


class NotAwaitingActivation(Exception):
    """The account is no longer provisional, or its letter stopped being valid."""


class AlreadyActive(Exception):
    """A guardian record already has an active account: recover it rather than make a second one."""


class WrongCurrentPassword(Exception):
    """The current password typed to change it is not the account's (counted like a failed login)."""


class TooManyFailures(Exception):
    """The identifier's login guard is closed for now: no password is checked until it reopens."""

    def __init__(self, minutes: int) -> None:
        super().__init__(minutes)
        self.minutes = minutes


class FreshLoginRequired(Exception):
    """An account without a password confirms a sensitive change by a recent FranceConnect login only."""
