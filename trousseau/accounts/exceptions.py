"""Refusals of account services."""


class NotAwaitingActivation(Exception):
    """The account is no longer provisional, or its letter stopped being valid."""
