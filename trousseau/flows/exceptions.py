"""The refusals only the journeys give; views turn each into a French message or a status.

A refusal the journeys share with accounts or the console is not redefined here: a transition lets it
through as the service raised it (`core.refusals.TooManyTries`, `accounts.exceptions.AlreadyActive`,
`LetterBudgetSpent`), and the views catch it by that name.
"""


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


class LinkInvalid(FlowError):
    """An emailed link that is forged, expired or already used."""
