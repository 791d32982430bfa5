"""TOTP second factor (RFC 6238, 30-second steps, 6 digits) with pyotp, and its provisioning QR code.

A code is accepted for the current step or one step either side (clock drift), and only for a step
later than the last one accepted: the same code never serves twice.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from django.utils import timezone

from trousseau.console.conf import totp_issuer

WINDOW = 1  # steps accepted either side of now


@dataclass(frozen=True)
class Check:
    """What a code is worth: `step` when it matched, `reused` when it matched a step already spent."""

    step: int | None
    reused: bool = False

    @property
    def ok(self) -> bool:
        return self.step is not None and not self.reused


def new_secret() -> str:
    """A 160-bit base32 secret (pyotp draws it with `secrets`)."""
    return pyotp.random_base32(32)


def _step(totp: pyotp.TOTP, when: datetime) -> int:
    return int(totp.timecode(when))


def check_code(secret: str, code: str, *, last_step: int | None, now: datetime | None = None) -> Check:
    """Compare `code` with the codes of the steps around `now`, in constant time."""
    code = "".join(code.split())
    if not secret or len(code) != pyotp.TOTP(secret).digits or not code.isdigit():
        return Check(step=None)
    totp = pyotp.TOTP(secret)
    now = now or timezone.now()
    current = _step(totp, now)
    matched = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            matched = step
    if matched is None:
        return Check(step=None)
    if last_step is not None and matched <= last_step:
        return Check(step=matched, reused=True)
    return Check(step=matched)


def code_at(secret: str, when: datetime) -> str:
    """The code an authenticator app shows at `when` (tests, the demo)."""
    return pyotp.TOTP(secret).at(when)


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=totp_issuer())


def qr_data_uri(uri: str) -> str:
    """The `otpauth://` URI as an SVG QR code in a data: URI (CSP allows data: images, not inline styles)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2, dark="#000091"))


def grouped(secret: str) -> str:
    """`JBSWY3DPEHPK3PXP…` in groups of four, to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
