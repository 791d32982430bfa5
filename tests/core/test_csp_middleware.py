"""The CSP header built once per distinct policy says what django-csp's own middleware says."""

from __future__ import annotations

import pytest
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory

from trousseau.core.csp_middleware import CSPMiddleware


def _directives(header: str) -> dict[str, str]:
    """A policy's directives (django-csp orders them as a set iterates: compare as a mapping)."""
    return dict(part.strip().partition(" ")[::2] for part in header.split(";"))


def _answer(middleware: type[DjangoCSPMiddleware], *, nonce: bool, **attrs: object) -> tuple[str, str]:
    request = RequestFactory().get("/idp/profile/SAML2/Redirect/SSO")
    instance = middleware(lambda _request: HttpResponse())
    instance.process_request(request)
    used = str(request.csp_nonce) if nonce else ""  # type: ignore[attr-defined]
    response = HttpResponse()
    for name, value in attrs.items():
        setattr(response, name, value)
    instance.process_response(request, response)
    return response["Content-Security-Policy"], used


@pytest.mark.parametrize(
    "attrs",
    [
        {},
        {"_csp_update": {"form-action": ["https://ent.example"]}},
        {"_csp_replace": {"form-action": None}},
        {"_csp_update": {"form-action": ["https://a.example"]}, "_csp_replace": {"img-src": ["'self'"]}},
    ],
)
@pytest.mark.parametrize("nonce", [True, False])
def test_the_header_is_django_csps_for_the_same_inputs(attrs: dict[str, object], nonce: bool) -> None:
    ours, our_nonce = _answer(CSPMiddleware, nonce=nonce, **attrs)
    again, again_nonce = _answer(CSPMiddleware, nonce=nonce, **attrs)  # from the kept policy this time
    theirs, their_nonce = _answer(DjangoCSPMiddleware, nonce=nonce, **attrs)
    for header, used in ((ours, our_nonce), (again, again_nonce)):
        assert _directives(header) == _directives(theirs.replace(their_nonce, used) if nonce else theirs)
    if nonce:
        assert our_nonce != again_nonce
        assert f"'nonce-{again_nonce}'" in again
        assert our_nonce not in again  # a kept policy carries no earlier response's nonce
    else:
        assert "nonce-" not in ours


def test_an_exempt_response_or_a_header_already_set_is_left_alone() -> None:
    request = RequestFactory().get("/")
    middleware = CSPMiddleware(lambda _request: HttpResponse())
    middleware.process_request(request)
    response = HttpResponse()
    response._csp_exempt = True  # type: ignore[attr-defined]
    middleware.process_response(request, response)
    assert "Content-Security-Policy" not in response
    preset = HttpResponse(headers={"Content-Security-Policy": "default-src 'none'"})
    middleware.process_response(request, preset)
    assert preset["Content-Security-Policy"] == "default-src 'none'"


def test_the_nonce_cannot_be_asked_for_once_the_header_is_written() -> None:
    from csp.exceptions import CSPNonceError

    request = RequestFactory().get("/")
    middleware = CSPMiddleware(lambda _request: HttpResponse())
    middleware.process_request(request)
    middleware.process_response(request, HttpResponse())
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)  # type: ignore[attr-defined]


def test_a_changed_policy_setting_is_followed(settings) -> None:
    before, _ = _answer(CSPMiddleware, nonce=False)
    policy = {
        "DIRECTIVES": {
            **settings.CONTENT_SECURITY_POLICY["DIRECTIVES"],
            "form-action": ["'self'", "https://fc.example"],
        }
    }
    settings.CONTENT_SECURITY_POLICY = policy
    after, _ = _answer(CSPMiddleware, nonce=False)
    assert "https://fc.example" not in before
    assert _directives(after)["form-action"] == "'self' https://fc.example"
