"""Django's LocaleMiddleware, without looking for a language in the path when no URL carries one.

Django's middleware reads a language prefix from the path twice per request (`get_language_from_path`,
once on the way in and once on the way out) even when the URLconf has no `i18n_patterns`, where the
answer cannot be used: each read matches the path's first segment ("idp", "login") against the
languages and raises and catches a LookupError. About a third of the middleware's own cost, on every
page (issue #21). Trousseau's URLs carry no language: the language comes from the cookie set by the
language switch, then Accept-Language, as Django decides it. For a URLconf with `i18n_patterns`, this
is Django's middleware unchanged.
"""

from __future__ import annotations

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.middleware import locale
from django.utils import translation
from django.utils.cache import patch_vary_headers


def _prefixed(request: HttpRequest) -> bool:
    """Whether the request's URLconf has language-prefixed patterns (cached by Django per URLconf)."""
    used, _prefix_default = is_language_prefix_patterns_used(getattr(request, "urlconf", settings.ROOT_URLCONF))
    return bool(used)


class LocaleMiddleware(locale.LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        if _prefixed(request):
            super().process_request(request)
            return
        # Django's steps when no pattern is prefixed: the path can give no language.
        translation.activate(translation.get_language_from_request(request, check_path=False))
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if _prefixed(request):
            return super().process_response(request, response)
        # Django's steps when no pattern is prefixed: no redirect to a prefixed URL, the same headers.
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
