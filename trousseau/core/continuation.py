"""Where a login that started at a service will end: the service's origin.

A form posted on the mire is answered by redirects that end at the service (an OpenID Connect
client's redirect URI, say), and browsers apply CSP `form-action` to that whole chain; the mire
therefore allows the origin that the protocol behind `next` vouches for, and no other. So do the
journeys' pages that lead back to the service (activation after a letter login). Neither knows a
protocol: each protocol registers an origin resolver from its AppConfig.ready(). The registry sits in
the kernel because both sign-in and the journeys below it read it (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponse

OriginResolver = Callable[[str], str | None]  # next URL -> origin of the service it ends at, or None

_resolvers: list[OriginResolver] = []


def register(resolver: OriginResolver) -> None:
    """Called by a protocol's AppConfig.ready(); registering twice (tests reload apps) adds nothing."""
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def redirect_origin(next_url: str) -> str | None:
    """The origin of the service that `next_url` leads to, if a protocol vouches for it."""
    for resolver in _resolvers:
        origin = resolver(next_url)
        if origin:
            return origin
    return None


def allow_continuation(response: HttpResponse, next_url: str) -> HttpResponse:
    """Let a form on this page lead, through redirects, to the service that asked for the login."""
    origin = redirect_origin(next_url) if next_url else None
    if origin:
        response._csp_update = {"form-action": [origin]}  # type: ignore[attr-defined]  # noqa: SLF001 - django-csp's hook
    return response
