"""Where a login that started at a client's authorization request will end: the client's origin.

A form posted on the mire is answered by redirects that end at the client's redirect URI, and
browsers apply CSP `form-action` to that whole chain; the mire therefore allows the origin of a
redirect URI the client registered, and no other. It reads the OAuth application table directly
(by URL name and the toolkit's model), so that the mire, which SAML also renders, imports no protocol.
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
