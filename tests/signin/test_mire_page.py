"""The mire's kept page (signin/mire_page.py) is, byte for byte, what the template renders."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.middleware.csrf import _unmask_cipher_token, get_token  # type: ignore[attr-defined]
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import resolve
from django.utils import translation

from tests.accounts.helpers import active_guardian
from trousseau.federation.saml.forms import ShibbolethLoginForm
from trousseau.signin import mire_page
from trousseau.signin.forms import LoginForm

HOSTILE = "/oidc/authorize/?a=1&b=\"<script>'&c=%00 \x00csrf\x00 %00next%00 \x00path\x00"


def _request(rf: RequestFactory, path: str) -> Any:
    request: Any = rf.get(path)
    request.resolver_match = resolve(request.path_info)
    request.user = AnonymousUser()
    request.csp_nonce = "a-nonce<'\""
    request.session = {}
    request._messages = FallbackStorage(request)
    get_token(request)
    return request


def _unmasked(html: str) -> str:
    """Each rendering masks the CSRF secret afresh: compared unmasked, and one token for the whole page."""
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))
    assert len(tokens) == 1, tokens
    token = tokens.pop()
    return html.replace(token, _unmask_cipher_token(token))


def _contexts() -> list[tuple[str, dict[str, Any]]]:
    saml = "/idp/profile/SAML2/Redirect/SSO?execution=e1s2"
    return [
        ("/login", {"form": LoginForm(), "error": "", "next": ""}),
        (f"/login?next={HOSTILE}", {"form": LoginForm(), "error": "", "next": HOSTILE}),
        (saml, {"form": ShibbolethLoginForm(), "error": "", "next": saml, "action": saml, "sso": {"csrf": '_a1"<b>'}}),
        (
            saml,
            {"form": ShibbolethLoginForm(), "error": "", "next": HOSTILE, "action": HOSTILE, "sso": {"csrf": HOSTILE}},
        ),
    ]


@pytest.mark.parametrize("language", ["fr", "en", "ar"])
@pytest.mark.parametrize(("path", "context"), _contexts())
def test_the_kept_page_is_the_templates(rf: RequestFactory, language: str, path: str, context: dict[str, Any]):
    request = _request(rf, path)
    with translation.override(language):
        expected = _unmasked(render_to_string(mire_page.TEMPLATE, context, request))
        first = mire_page._from_kept(request, context)
        again = mire_page._from_kept(request, context)  # from the kept rendering
    assert first is not None
    assert again is not None
    assert _unmasked(first) == expected
    assert _unmasked(again) == expected
    assert f'lang="{language}"' in expected
    if HOSTILE not in (path, *context.values(), *context.get("sso", {}).values()):
        assert "\x00" not in first  # no marker left


def test_hostile_values_are_escaped_where_they_are_put(rf: RequestFactory):
    request = _request(rf, "/login")
    context = {"form": LoginForm(), "error": "", "next": '"><script>x</script>'}
    html = mire_page._from_kept(request, context)
    assert html is not None
    assert "<script>x" not in html
    assert 'name="next" value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in html
    assert "?next=%22%3E%3Cscript%3Ex%3C/script%3E" in html
    assert 'nonce="a-nonce&lt;&#x27;&quot;"' in html


@pytest.mark.parametrize(
    "change",
    [
        lambda _request, context: context.update(error="Identifiant ou mot de passe incorrect."),
        lambda _request, context: context.update(form=LoginForm({"identifier": "a.b", "password": "x"})),
        lambda _request, context: context.update(form=LoginForm(initial={"profile": "eleve"})),
        lambda request, _context: setattr(request, "user", active_guardian()),
        lambda request, _context: request._messages.add(20, "Votre mot de passe a été changé."),
        lambda _request, context: context.update(other="x"),
    ],
)
@pytest.mark.django_db
def test_any_other_page_is_the_templates(rf: RequestFactory, change):
    request = _request(rf, "/login")
    context: dict[str, Any] = {"form": LoginForm(), "error": "", "next": ""}
    change(request, context)
    assert mire_page._from_kept(request, context) is None


@pytest.mark.django_db
def test_the_mire_from_its_kept_page_sets_the_csrf_cookie_and_the_nonce_it_shows():
    client = Client()
    for _ in range(2):
        response = client.get("/login?next=/compte/")
        assert response.status_code == 200
        html = response.content.decode()
        nonces = set(re.findall(r'nonce="([^"]+)"', html))
        assert len(nonces) == 1
        assert f"'nonce-{nonces.pop()}'" in response["Content-Security-Policy"]
        assert settings.CSRF_COOKIE_NAME in client.cookies  # get_token was called: the cookie is set
        assert 'name="next" value="/compte/"' in html
    # The token the page shows is accepted with the cookie: a wrong password is answered, not refused.
    token = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[0]
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    answer = strict.post("/login", {"csrfmiddlewaretoken": token, "identifier": "a.b", "password": "faux"})
    assert answer.status_code == 200
    assert "Identifiant ou mot de passe incorrect." in answer.content.decode()
