"""What OpenID Connect tells sign-in about its clients (trousseau/core/continuation.py): origins, services.

A login that started at an authorization request ends at the client's redirect URI: the mire may
let its form lead there only if the client registered that URI.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.contrib.sessions.backends.base import SessionBase
from django.urls import reverse
from oauth2_provider.models import get_application_model

from trousseau.core.continuation import Service
from trousseau.federation.oidc.models import ClientProfile


def redirect_origin(next_url: str) -> str | None:
    """The origin of the registered redirect URI that `next_url` (an authorize request) names."""
    parts = urlsplit(next_url)
    if parts.scheme or parts.netloc or parts.path != reverse("oidc:authorize"):
        return None
    query = parse_qs(parts.query)
    client_id = query.get("client_id", [""])[0]
    redirect_uri = query.get("redirect_uri", [""])[0]
    application = get_application_model().objects.filter(client_id=client_id).first()
    if application is None or redirect_uri not in application.redirect_uris.split():
        return None
    target = urlsplit(redirect_uri)
    return f"{target.scheme}://{target.netloc}"


# --- The services behind authorization requests (trousseau/core/continuation.py) -----------------

PREFIX = "oidc:"


def _client_id(next_url: str) -> str | None:
    parts = urlsplit(next_url)
    if parts.scheme or parts.netloc or parts.path != reverse("oidc:authorize"):
        return None
    return parse_qs(parts.query).get("client_id", [None])[0]


def _described(profile: ClientProfile) -> Service:
    application = profile.application
    return Service(key=f"{PREFIX}{application.pk}", name=application.name, home_url=profile.home_url)


class OidcCatalogue:
    """An authorization request carries all it needs in its URL: it stays answerable wherever it is
    followed, as long as its client is registered."""

    def service_for(self, next_url: str, session: SessionBase) -> Service | None:
        client_id = _client_id(next_url)
        if not client_id:
            return None
        profile = ClientProfile.objects.select_related("application").filter(application__client_id=client_id).first()
        return _described(profile) if profile else None

    def answerable(self, next_url: str, session: SessionBase) -> bool:
        return self.service_for(next_url, session) is not None

    def service(self, key: str) -> Service | None:
        if not key.startswith(PREFIX) or not key[len(PREFIX) :].isdigit():
            return None
        profile = ClientProfile.objects.select_related("application").filter(application__pk=int(key[len(PREFIX) :]))
        found = profile.first()
        return _described(found) if found else None

    def listed(self) -> list[Service]:
        profiles = ClientProfile.objects.select_related("application").exclude(home_url="")
        return [_described(profile) for profile in profiles]

    def origin(self, next_url: str) -> str | None:
        return redirect_origin(next_url)


CATALOGUE = OidcCatalogue()
