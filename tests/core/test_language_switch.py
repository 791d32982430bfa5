"""The language switch tag gives, byte for byte, what including includes/language_switch.html gives."""

import re

import pytest
from django.middleware.csrf import _unmask_cipher_token, get_token  # type: ignore[attr-defined]
from django.template import Context, Engine, RequestContext
from django.test import RequestFactory
from django.urls import resolve
from django.utils import translation
from django.utils.html import escape

INCLUDED = '{% include "includes/language_switch.html" with suffix=suffix %}'
TAGGED = "{% load language_switch %}{% language_switch suffix %}"


def render(source: str, request, suffix: str) -> str:
    """The HTML, with the CSRF token unmasked: each context masks the request's secret afresh."""
    engine = Engine.get_default()
    html = engine.from_string(source).render(RequestContext(request, {"suffix": suffix}))
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert len(tokens) == 1
    return html.replace(tokens[0], _unmask_cipher_token(tokens[0]))


@pytest.mark.parametrize("language", ["fr", "en", "ar"])
@pytest.mark.parametrize(
    "path",
    [
        "/login",
        "/login?next=/oidc/authorize/%3Fa%3D1&b=\"<script>'",
        "/console/",
    ],
)
@pytest.mark.parametrize("suffix", ["", "-mobile"])
def test_the_tag_renders_the_include(rf: RequestFactory, language, path, suffix):
    request = rf.get(path)
    request.resolver_match = resolve(request.path_info)
    get_token(request)
    with translation.override(language):
        included = render(INCLUDED, request, suffix)
        # Twice: the second comes from the kept rendering.
        assert render(TAGGED, request, suffix) == included
        assert render(TAGGED, request, suffix) == included
    assert f'name="next" value="{escape(request.get_full_path())}"' in included
    assert f'id="translate-menu{suffix}"' in included


def test_the_console_offers_french_and_english_only(rf: RequestFactory):
    request = rf.get("/console/")
    request.resolver_match = resolve("/console/")
    get_token(request)
    html = render(TAGGED, request, "")
    assert 'value="ar"' not in html
    assert 'value="en"' in html
    families = rf.get("/login")
    families.resolver_match = resolve("/login")
    get_token(families)
    assert 'value="ar"' in render(TAGGED, families, "")


def test_without_a_csrf_token_the_form_has_no_token_field(rf: RequestFactory):
    request = rf.get("/login")
    request.resolver_match = resolve("/login")
    engine = Engine.get_default()
    html = engine.from_string(TAGGED).render(Context({"request": request, "suffix": ""}))
    assert "csrfmiddlewaretoken" not in html
    assert html == engine.from_string(INCLUDED).render(Context({"request": request, "suffix": ""}))
