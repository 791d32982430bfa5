"""Every secret handed to a person comes from here, drawn with `secrets`, never `random`."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings

# No 0/O, 1/l/I, 5/S, 2/Z: provisional passwords are typed from paper by tired parents.
READABLE_LOWER = "abcdefghjkmnpqrstuvwxyz"
READABLE_UPPER = "ABCDEFGHJKLMNPQRTUVWXY"
READABLE_DIGITS = "346789"
READABLE_SPECIALS = "!?@#%+"


def provisional_password(length: int = 12) -> str:
    """A password for a letter: readable, and meeting the seed's composition rule by construction."""
    pools = [READABLE_LOWER, READABLE_UPPER, READABLE_DIGITS, READABLE_SPECIALS]
    chars = [secrets.choice(pool) for pool in pools]
    alphabet = READABLE_LOWER + READABLE_UPPER + READABLE_DIGITS
    chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
    # Fisher-Yates with secrets so the mandatory classes do not sit at fixed positions.
    for i in range(len(chars) - 1, 0, -1):
        j = secrets.randbelow(i + 1)
        chars[i], chars[j] = chars[j], chars[i]
    if chars[0] in READABLE_SPECIALS:
        # A leading + or @ reads as a formula in spreadsheets (mail-merge exports escape it).
        k = next(n for n, c in enumerate(chars) if c not in READABLE_SPECIALS)
        chars[0], chars[k] = chars[k], chars[0]
    return "".join(chars)


def random_string(length: int, alphabet: str) -> str:
    """`length` characters drawn uniformly from `alphabet` (at most 256), from one read of `secrets` per
    batch: Django's get_random_string reads the system's random source once per character (32 reads for a
    session key, about 0.1 ms). A byte is kept only below the largest multiple of the alphabet's size, so
    that `byte % size` favours no character."""
    size = len(alphabet)
    if not 0 < size <= 256:  # noqa: PLR2004 - one byte per draw
        msg = "an alphabet of 1 to 256 characters"
        raise ValueError(msg)
    limit = 256 - 256 % size
    chars: list[str] = []
    while len(chars) < length:
        chars += [alphabet[byte % size] for byte in secrets.token_bytes(length * 2) if byte < limit]
    return "".join(chars[:length])


def numeric_code(digits: int = 6) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def keyed_digest(value: str, *, purpose: str) -> str:
    """HMAC of a value under the site secret: for lookups of secrets without storing them."""
    key = f"{purpose}:{settings.SECRET_KEY}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def token() -> str:
    return secrets.token_urlsafe(32)
