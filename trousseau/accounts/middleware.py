"""The logged-in user of a request, and the absolute lifetime of a login.

`AuthenticationMiddleware` is Django's, but lets the backend take the account read with the session
(accounts/backends.py) instead of reading it again.

`AbsoluteSessionAgeMiddleware`: however active, a session ends SESSION_ABSOLUTE_AGE after the login.
Django's session age alone is renewed by every write, so a browser kept busy (or a service provider
asking for silent SAML and OpenID Connect answers) would stay logged in for ever (ASVS 7.3.2).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import SESSION_KEY
from django.contrib.auth import middleware as auth_middleware
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from trousseau.accounts.backends import loading_user_of
from trousseau.accounts.models import Account
from trousseau.accounts.sessions import AUTHENTICATED_AT_KEY, authenticated_at, session_close
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.core.http import client_ip


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)  # request.auser, and the checks of Django's
        request.user = SimpleLazyObject(lambda: _user(request))  # type: ignore[assignment]


def _user(request: HttpRequest) -> Any:
    """Django's `auth.get_user`, cached on the request as Django's middleware caches it, with the session
    at hand for the backend."""
    if not hasattr(request, "_cached_user"):
        loading = loading_user_of.set(request.session)
        try:
            request._cached_user = auth.get_user(request)  # type: ignore[attr-defined]  # noqa: SLF001 - Django's cache
        finally:
            loading_user_of.reset(loading)
    return request._cached_user  # type: ignore[attr-defined]  # noqa: SLF001


class AbsoluteSessionAgeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if session.get(SESSION_KEY) is not None:  # a logged-in session, read without loading the account
            logged_in_at = authenticated_at(session)
            limit: timedelta = settings.SESSION_ABSOLUTE_AGE
            if logged_in_at is None:
                # Opened before logins were timed (or by a test's force_login): timed from now on.
                session[AUTHENTICATED_AT_KEY] = timezone.now().isoformat()
            elif timezone.now() - logged_in_at > limit:
                account = Account.objects.filter(pk=session[SESSION_KEY]).first()
                session_close(request)
                audit(EventTag.SESSION_EXPIRED, account=account, ip=client_ip(request))
        return self.get_response(request)
