"""What every SMS backend is, what it raises, and the one HTTP call the real gateways make."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Protocol, TypeAlias
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from trousseau.core.phones import E164

JsonValue: TypeAlias = str | int | float | bool | list["JsonValue"] | dict[str, "JsonValue"] | None

# What a provider says back is kept in `Delivery.last_error` for an operator, so keep it short.
ERROR_DETAIL_CHARS = 300
MAX_RESPONSE_BYTES = 64 * 1024


class DeliveryError(Exception):
    """The message did not leave: the delivery is retried later."""


class PermanentDeliveryError(DeliveryError):
    """The message can never leave as it is (e.g. not a phone number): retrying is pointless."""


class SmsBackend(Protocol):
    def send(self, *, to: str, body: str) -> None:
        """Send one SMS to an E.164 number; raise (DeliveryError) on failure so the caller can retry."""


def e164(to: str) -> str:
    if not E164.fullmatch(to):
        raise PermanentDeliveryError(f"not an E.164 phone number: {to!r}")
    return to


def checked_url(url: str, *, setting: str) -> str:
    # urllib also opens file:// and ftp:// URLs; a gateway is only ever HTTP(S).
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ImproperlyConfigured(f"{setting} must be an http(s) URL, got {url!r}")
    return url


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """urllib turns a redirected POST into a body-less GET; a gateway that redirects is misconfigured."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


# Proxies from the environment (http_proxy, no_proxy) still apply: schools' networks often need one.
_opener = urllib.request.build_opener(_NoRedirect)


def post_json(url: str, payload: JsonValue, *, headers: Mapping[str, str], timeout: float) -> None:
    """POST a JSON document; return on 2xx, raise DeliveryError on anything else (status, network, timeout)."""
    data = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked by checked_url at configuration
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "Accept": "application/json", **headers},
    )
    host = urlsplit(url).netloc
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as exc:
        with exc:
            try:
                detail = exc.read(ERROR_DETAIL_CHARS).decode(errors="replace")
            except (OSError, http.client.HTTPException):
                detail = ""  # the status says enough when the error body is cut short
        msg = f"HTTP {exc.code} from {host}: {detail}"
        raise DeliveryError(msg[:ERROR_DETAIL_CHARS]) from exc
    except (OSError, http.client.HTTPException) as exc:
        # URLError, timeouts, refused or reset connections, TLS failures, garbled responses.
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        msg = f"{host} unreachable: {type(reason).__name__}: {reason}"
        raise DeliveryError(msg[:ERROR_DETAIL_CHARS]) from exc
