"""core/locale_middleware.py and core/messages_middleware.py do what Django's own middleware do, with
less work: the same language and headers; messages stored, shown and kept as before."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib import messages
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.test import RequestFactory
from django.utils import translation
from django.utils.functional import empty

from trousseau.core.locale_middleware import LocaleMiddleware
from trousseau.core.messages_middleware import MessageMiddleware


def _answer(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(getattr(request, "LANGUAGE_CODE", ""))
    response["Vary"] = "Cookie"
    return response


def _through(middleware: type, request: HttpRequest, view: Callable[[HttpRequest], HttpResponse] = _answer):
    with translation.override(None):
        response = middleware(view)(request)
        return response, translation.get_language()


@pytest.mark.parametrize("path", ["/login", "/idp/profile/SAML2/Redirect/SSO", "/en/login", "/ar/", "/nowhere"])
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"},
        {"HTTP_ACCEPT_LANGUAGE": "ar"},
        {"HTTP_ACCEPT_LANGUAGE": "de-DE"},
        {"HTTP_COOKIE": "django_language=tr", "HTTP_ACCEPT_LANGUAGE": "en"},
        {"HTTP_COOKIE": "django_language=xx"},
    ],
)
def test_the_language_and_the_headers_are_djangos(rf: RequestFactory, path: str, headers: dict[str, str]):
    ours, our_language = _through(LocaleMiddleware, rf.get(path, **headers))  # type: ignore[arg-type]
    django, django_language = _through(DjangoLocaleMiddleware, rf.get(path, **headers))  # type: ignore[arg-type]
    assert ours.content == django.content  # request.LANGUAGE_CODE
    assert our_language == django_language
    assert ours["Content-Language"] == django["Content-Language"]
    assert ours["Vary"] == django["Vary"] == "Cookie, Accept-Language"


def test_a_language_cookie_is_obeyed(rf: RequestFactory):
    response, language = _through(LocaleMiddleware, rf.get("/login", HTTP_COOKIE="django_language=ar"))
    assert response.content == b"ar"
    assert language == "ar"
    assert response["Content-Language"] == "ar"


@pytest.fixture
def with_session(rf: RequestFactory, db) -> Callable[[str], HttpRequest]:
    def make(cookie: str = "") -> HttpRequest:
        request = rf.get("/", HTTP_COOKIE=cookie)
        SessionMiddleware(_answer).process_request(request)
        return request

    return make


def test_a_request_that_uses_no_message_builds_no_storage_and_sets_no_cookie(with_session):
    request = with_session()
    response = MessageMiddleware(_answer)(request)
    assert request._messages.__dict__["_wrapped"] is empty
    assert "messages" not in response.cookies


def _stored(with_session: Callable[[str], HttpRequest], text: str) -> str:
    """The messages cookie of a response whose view added `text` (the cookie storage, as Django's stores it)."""

    def add(request: HttpRequest) -> HttpResponse:
        messages.error(request, text)
        return HttpResponse()

    stored: str = MessageMiddleware(add)(with_session("")).cookies["messages"].value
    assert stored
    return stored


def test_a_message_added_is_stored_and_shown_on_the_next_page(with_session):
    stored = _stored(with_session, "Cette demande n'est plus en cours. Recommencez.")

    shown: list[str] = []

    def show(request: HttpRequest) -> HttpResponse:
        shown.extend(str(m) for m in messages.get_messages(request))
        return HttpResponse()

    second = MessageMiddleware(show)(with_session(f"messages={stored}"))
    assert shown == ["Cette demande n'est plus en cours. Recommencez."]
    assert second.cookies["messages"]["max-age"] == 0  # read, so deleted, as Django does


def test_messages_from_before_stay_through_a_request_that_does_not_show_them(with_session):
    stored = _stored(with_session, "Votre compte est activé.")
    passing = MessageMiddleware(_answer)(with_session(f"messages={stored}"))  # a redirect, a SAML page…
    assert "messages" not in passing.cookies  # left as it is in the browser
    django_passing = DjangoMessageMiddleware(_answer)(with_session(f"messages={stored}"))
    assert "messages" not in django_passing.cookies  # which is what Django's middleware does too


def test_the_lazy_storage_is_djangos_once_used(with_session):
    request = with_session()
    MessageMiddleware(_answer).process_request(request)
    assert request._messages.level == messages.INFO  # first use: Django's default storage, built now
    assert isinstance(request._messages._wrapped, FallbackStorage)
