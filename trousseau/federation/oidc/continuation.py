"""The origin resolver OpenID Connect gives sign-in (trousseau/core/continuation.py).

A login that started at an authorization request ends at the client's redirect URI: the mire may
let its form lead there only if the client registered that URI.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.urls import reverse
from oauth2_provider.models import get_application_model


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
