"""The auto-POST page that carries SAML messages to a service provider."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def post_page(request: HttpRequest, action: str, fields: list[tuple[str, str]]) -> HttpResponse:
    """One form (the page's first: clients read it), an absolute action taken from metadata, sent by a static script."""
    response = render(request, "saml/post.html", {"action": action, "fields": fields})
    # The form leaves for the SP, whose endpoint may redirect further (browsers apply form-action to
    # those redirects): no form-action limit on this page, which holds no user input and no inline script.
    response._csp_replace = {"form-action": None}  # type: ignore[attr-defined]  # noqa: SLF001
    response["Cache-Control"] = "no-store"
    return response
