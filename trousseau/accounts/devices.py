"""Device cookies: a browser where someone logged in is not locked out by an attacker's failures.

OWASP's "Slow Down Online Guessing Attacks with Device Cookies": after a successful login the browser
receives a signed cookie naming the account and carrying a random nonce. A later attempt on that
account from that browser is counted against the nonce alone (its own small budget), not against the
identifier, so failures from everywhere else cannot keep the holder out. Browsers without it stay
throttled as before (accounts/authentication.py says how).

The account is named by a keyed digest of its identifier, never the identifier itself: a shared
computer's cookie tells nobody who logged in there. One cookie holds the few accounts of a family
device (a parent and the children on one tablet); each success gives that account a fresh nonce.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core import signing
from django.http.response import HttpResponseBase

from trousseau.core.secrets import keyed_digest

SALT = "trousseau.accounts.devices"
ACCOUNTS_PER_DEVICE = 5  # the family tablet; the oldest account is forgotten past this
_TAG_CHARS = 32  # 128 bits of the digest: enough to tell accounts apart, short enough for a cookie


def _tag(identifier: str) -> str:
    return keyed_digest(identifier, purpose="device-cookie")[:_TAG_CHARS]


def _entries(cookie: str) -> list[tuple[str, str]]:
    """The (account tag, nonce) pairs of a cookie this service signed and that has not expired."""
    if not cookie:
        return []
    try:
        value = signing.loads(cookie, salt=SALT, max_age=settings.DEVICE_COOKIE_AGE)
    except signing.BadSignature:  # forged, altered, expired or signed with a retired key: a stranger
        return []
    if not isinstance(value, list):
        return []
    pairs = [entry for entry in value if isinstance(entry, list) and len(entry) == 2]  # noqa: PLR2004 - a pair
    return [(str(tag), str(nonce)) for tag, nonce in pairs][:ACCOUNTS_PER_DEVICE]


def device_nonce(cookie: str, identifier: str) -> str | None:
    """The nonce this browser holds for the account `identifier` names, or None when it holds none."""
    tag = _tag(identifier)
    return next((nonce for entry_tag, nonce in _entries(cookie) if entry_tag == tag), None)


def remembered(cookie: str, identifier: str) -> str:
    """The cookie to give the browser after a successful login to `identifier`: a fresh nonce for it.

    The nonce comes from `secrets` and is new at every success, so a budget the browser spent is not
    carried over to the next login's cookie (its old counter is forgotten with the nonce).
    """
    tag = _tag(identifier)
    others = [[entry_tag, nonce] for entry_tag, nonce in _entries(cookie) if entry_tag != tag]
    entries = [[tag, secrets.token_urlsafe(16)], *others][:ACCOUNTS_PER_DEVICE]
    return signing.dumps(entries, salt=SALT, compress=True)


def cookie_name() -> str:
    """Over HTTPS the __Host- prefix pins the cookie to this host and path / (as the session's)."""
    return "__Host-device" if settings.SECURE_COOKIES else "trousseau_device"


def give(response: HttpResponseBase, cookie: str) -> HttpResponseBase:
    """Set the device cookie on a response: host-only, HttpOnly, Secure outside debug, SameSite=Lax."""
    response.set_cookie(
        cookie_name(),
        cookie,
        max_age=int(settings.DEVICE_COOKIE_AGE.total_seconds()),
        path="/",
        secure=settings.SECURE_COOKIES,
        httponly=True,
        samesite="Lax",
    )
    return response
