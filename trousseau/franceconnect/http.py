"""The few HTTP calls of the relying party: bounded, never redirected, errors as ProviderUnavailable."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from trousseau.franceconnect.errors import ProviderUnavailable

MAX_BYTES = 256 * 1024


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A token or userinfo endpoint that redirects is misconfigured: follow nothing."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body)
        except ValueError as exc:
            raise ProviderUnavailable("not_json") from exc
        if not isinstance(data, dict):
            raise ProviderUnavailable("not_json")
        return data


def _checked(url: str) -> str:
    if urlsplit(url).scheme not in {"http", "https"}:
        raise ProviderUnavailable("bad_url", url)
    return url


def request(
    url: str, *, timeout: float, form: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> Response:
    """GET, or POST a form; any status is returned (callers decide), network failures raise."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    all_headers = {"Accept": "application/json, application/jwt", **(headers or {})}
    if data is not None:
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(_checked(url), data=data, headers=all_headers)  # noqa: S310 - scheme checked
    try:
        with _opener.open(req, timeout=timeout) as resp:
            return Response(resp.status, resp.headers.get_content_type(), resp.read(MAX_BYTES))
    except urllib.error.HTTPError as exc:
        with exc:
            return Response(exc.code, exc.headers.get_content_type(), exc.read(MAX_BYTES))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ProviderUnavailable("network", str(exc)) from exc
