"""What a transition can refuse; views turn each into a French message or a status."""


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
