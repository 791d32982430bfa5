"""The console's settings, with their defaults: a deployment overrides them in its settings module."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings


def idle_timeout() -> timedelta:
    """A staff session with no request for this long is closed (ANSSI: short sessions for admins)."""
    value: timedelta = getattr(settings, "CONSOLE_IDLE_TIMEOUT", timedelta(minutes=15))
    return value


def pending_login_lifespan() -> timedelta:
    """Time between the right password and the TOTP code (or the enrolment page)."""
    value: timedelta = getattr(settings, "CONSOLE_PENDING_LOGIN_LIFESPAN", timedelta(minutes=5))
    return value


def enrolment_validity() -> timedelta:
    """How long the one-time enrolment link printed by `console_staff_add` stays valid."""
    value: timedelta = getattr(settings, "CONSOLE_ENROLMENT_VALIDITY", timedelta(hours=72))
    return value


def totp_issuer() -> str:
    """The name authenticator apps show beside the staff member's email."""
    return str(getattr(settings, "CONSOLE_TOTP_ISSUER", "Trousseau console"))


def staff_min_password_length() -> int:
    """Staff passwords are longer than families' (ANSSI for privileged accounts)."""
    return int(getattr(settings, "CONSOLE_STAFF_MIN_PASSWORD_LENGTH", 12))
