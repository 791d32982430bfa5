"""Refusals of account services."""


class NotAwaitingActivation(Exception):
    """The account is no longer provisional, or its letter stopped being valid."""


class AlreadyActive(Exception):
    """A guardian record already has an active account: recover it rather than make a second one."""
