"""Where a login that started at a service will end: the service, whatever the detour.

A person who opens the ENT (a SAML AuthnRequest) or the Pronote-like (an OpenID Connect authorization)
reaches the mire with `next`, the URL that answers the service once they are logged in. They may then
take a detour ("Identifiant perdu", "Mot de passe perdu", "Je n'ai pas de compte", FranceConnect) that
leaves `next` behind. So the mire *remembers* `next` in the session (`remember`), every journey's last
page reads it back (`current`), and the protocol forgets it once the service has its answer (`forget`).
A journey also copies it into its flow (`snapshot`), so that a link opened in another browser, where
the pending request does not exist, can still name the service and offer its home page (`Ending`).

Neither sign-in nor the journeys know a protocol: each protocol registers a `Catalogue` from its
AppConfig.ready() that says which service a `next` URL answers, whether that request can still be
answered in this session, and which services exist (the "Mes services" page). The registry sits in the
kernel because sign-in, the journeys and the account pages below them all read it
(docs/architecture.md).

A catalogue also says where a form posted on the mire may lead (`origin`): it is answered by redirects
that end at the service, and CSP `form-action` must allow that service's origin.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpResponse

SESSION_KEY = "continuation"
# A pending login older than this is not resumed: a person who comes back the next day to the mire
# means to manage their account, not to be sent to a service they gave up on.
MAX_AGE = 3600


@dataclass(frozen=True)
class Service:
    """A registered SAML SP or OpenID Connect client, as families see it."""

    key: str  # "saml:<id>" or "oidc:<id>": stable, stored in sessions and flows
    name: str
    home_url: str  # where to start again when the pending request is gone ("" if unknown)


class Catalogue(Protocol):
    """What a protocol tells sign-in and the journeys about its services."""

    def service_for(self, next_url: str, session: SessionBase) -> Service | None:
        """The service that `next_url` answers, if it is one of this protocol's requests."""

    def answerable(self, next_url: str, session: SessionBase) -> bool:
        """Whether following `next_url` in this session still answers the service."""

    def service(self, key: str) -> Service | None:
        """The service registered under `key`, if this protocol owns it and it is still enabled."""

    def listed(self) -> list[Service]:
        """The enabled services that have a home page ("Mes services")."""

    def origin(self, next_url: str) -> str | None:
        """The origin of the service that following `next_url` redirects to, if this protocol vouches
        for it (a form that continues there needs it in its CSP `form-action`)."""


_catalogues: list[Catalogue] = []


def register_catalogue(catalogue: Catalogue) -> None:
    """Called by a protocol's AppConfig.ready(); registering twice (tests reload apps) adds nothing."""
    if catalogue not in _catalogues:
        _catalogues.append(catalogue)


def redirect_origin(next_url: str) -> str | None:
    """The origin of the service that `next_url` leads to, if a protocol vouches for it."""
    for catalogue in _catalogues:
        origin = catalogue.origin(next_url)
        if origin:
            return origin
    return None


def allow_continuation(response: HttpResponse, next_url: str) -> HttpResponse:
    """Let a form on this page lead, through redirects, to the service that asked for the login."""
    origin = redirect_origin(next_url) if next_url else None
    if origin:
        response._csp_update = {"form-action": [origin]}  # type: ignore[attr-defined]  # noqa: SLF001 - django-csp's hook
    return response


# --- The services ---------------------------------------------------------------------------------


def service_for(next_url: str, session: SessionBase) -> Service | None:
    for catalogue in _catalogues:
        found = catalogue.service_for(next_url, session)
        if found is not None:
            return found
    return None


def service(key: str) -> Service | None:
    for catalogue in _catalogues:
        found = catalogue.service(key)
        if found is not None:
            return found
    return None


def listed() -> list[Service]:
    services = [found for catalogue in _catalogues for found in catalogue.listed()]
    return sorted(services, key=lambda found: found.name.casefold())


# --- The pending login of this browser -------------------------------------------------------------


@dataclass(frozen=True)
class Continuation:
    next_url: str
    service_key: str = ""

    @property
    def service(self) -> Service | None:
        return service(self.service_key) if self.service_key else None


def remember(session: SessionBase, next_url: str) -> None:
    """The mire was shown on the way to a service: keep where it leads, for after any detour."""
    kept = session.get(SESSION_KEY)
    if isinstance(kept, dict) and kept.get("next") == next_url and not kept.get("answered"):
        return  # the same page shown again (a wrong password): no session write
    found = service_for(next_url, session)
    if found is None:
        return  # a page of Trousseau's own (the account page): nothing to come back to
    session[SESSION_KEY] = {"next": next_url, "service": found.key, "at": int(time.time())}


def current(session: SessionBase) -> Continuation | None:
    """The pending login of this browser, if it is recent and its service can still be answered."""
    kept = session.get(SESSION_KEY)
    if not isinstance(kept, dict) or kept.get("answered") or int(time.time()) - int(kept.get("at", 0)) > MAX_AGE:
        return None
    next_url = str(kept.get("next", ""))
    if not any(catalogue.answerable(next_url, session) for catalogue in _catalogues):
        return None
    return Continuation(next_url, str(kept.get("service", "")))


def remembered_service(session: SessionBase, next_url: str | None = None) -> Service | None:
    """The service of this browser's last login request, even if it is gone or answered (to name it).

    With `next_url` (a login page reopened after its request is gone), only if it is that request's
    own URL: an older tab of another service must not be named after the last one.
    """
    kept = session.get(SESSION_KEY)
    if not isinstance(kept, dict) or (next_url is not None and kept.get("next") != next_url):
        return None
    return service(str(kept.get("service", "")))


def forget(session: SessionBase) -> None:
    """The service has its answer: later logins on this browser start afresh.

    The request is kept as answered, never followed again, so that its login page, reopened from
    the history or an old tab, can still name the service and offer its home page.
    """
    kept = session.get(SESSION_KEY)
    if not isinstance(kept, dict) or not kept.get("next"):
        session.pop(SESSION_KEY, None)
    elif not kept.get("answered"):
        session[SESSION_KEY] = {**kept, "answered": True}


def snapshot(session: SessionBase) -> dict[str, str]:
    """What a journey's flow keeps of the pending login (its context's "continuation")."""
    pending = current(session)
    return {"next": pending.next_url, "service": pending.service_key} if pending else {}


@dataclass(frozen=True)
class Ending:
    """Where a journey's last page leads: the service in this browser, or the service's home page when
    the pending request is gone (expired, or the link was opened on another device), or nowhere."""

    next_url: str | None = None  # follow it: the service gets its answer (after a login if need be)
    gone: Service | None = None  # say the request is gone and offer this service's home page


def ending(session: SessionBase, kept: Mapping[str, Any] | None) -> Ending:
    """The end of a journey whose flow kept `kept` (its snapshot) when it started."""
    pending = current(session)
    if pending is not None:
        return Ending(next_url=pending.next_url)
    key = str((kept or {}).get("service", ""))
    return Ending(gone=service(key)) if key else Ending()
