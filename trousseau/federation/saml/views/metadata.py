"""The identity provider's metadata at /idp/shibboleth (Shibboleth's address for it)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from trousseau.federation.saml.metadata import idp_metadata


@require_GET
def metadata_view(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(idp_metadata(), content_type="application/samlmetadata+xml")
    response["Content-Disposition"] = 'inline; filename="trousseau-idp-metadata.xml"'
    return response
