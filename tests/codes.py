"""Wrong codes for the tests: another 6-digit code than the one received by SMS or shown by the authenticator."""

from __future__ import annotations


def other_code(code: str, by: int = 1) -> str:
    """Another 6-digit code than `code`: `by` further on, wrapping round at 1 000 000.

    `by` exists because a TOTP check also accepts the codes of the neighbouring time steps: the console's
    login tests move far from them (500 000) so that their wrong code cannot be one of those; an SMS code has
    a single right value, so one further on is enough.
    """
    return f"{(int(code) + by) % 1_000_000:06d}"
