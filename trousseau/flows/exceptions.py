"""What a transition can refuse; views turn each into a French message or a status."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trousseau.accounts.models import LetterStatus


class FlowError(Exception):
    """Base of every refusal a flow transition raises."""


class FlowExpired(FlowError):
    pass


class WrongState(FlowError):
    pass


class ForeignFlow(FlowError):
    """The flow belongs to another browser: a flow id alone is not a bearer token."""


class TooManyAttempts(FlowError):
    pass


class LetterNoLongerValid(FlowError):
    """The letter expired, was reissued or used while the flow was open."""


class LetterBlocked(FlowError):
    """The letter took its share of wrong birth dates: `status` is paused (until tomorrow) or blocked."""

    def __init__(self, status: LetterStatus) -> None:
        super().__init__(status)
        self.status = status


class WrongBirthDate(FlowError):
    def __init__(self, remaining: int) -> None:
        super().__init__(remaining)
        self.remaining = remaining


class NoMatch(FlowError):
    """What was typed matches no school record (said the same way whatever part was wrong)."""


class ResendTooSoon(FlowError):
    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class SendLimitReached(FlowError):
    """The SMS budget of this number or address is spent for now."""


class MobileChangeLimitReached(SendLimitReached):
    """The account started its day's mobile changes already (each one texts a number no school recorded)."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class CodeExpired(FlowError):
    pass


class CodeInvalid(FlowError):
    def __init__(self, remaining: int) -> None:
        super().__init__(remaining)
        self.remaining = remaining


class CodeExhausted(FlowError):
    """Too many wrong codes: this code is dead, a new one must be asked for."""


class IncompleteAnswers(FlowError):
    """Some child was left without an answer."""


class NothingConfirmed(FlowError):
    """Every link was contested: there is no child to attach the account to."""


class AccountExists(FlowError):
    """The guardian already has an active account: the journey offers recovery instead."""


class LinkInvalid(FlowError):
    """An emailed link that is forged, expired or already used."""
