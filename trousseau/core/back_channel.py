"""Back-channel endpoints answered without the browser's middleware.

A relying party's server calls the token, userinfo, revocation, key set and discovery endpoints with
its own credentials (HTTP Basic, a Bearer token) or none: no browser, no session cookie, no page.
Sessions, the language, CSRF, the logged-in user, messages, the CSP and framing headers have nothing
to do there, yet cost about a quarter of a millisecond a request, a fifth of a userinfo's CPU (issue
#21). `BackChannelMiddleware` sits after the request id, the metrics and SecurityMiddleware (whose
headers these answers keep) and answers a registered path itself, as ProbeMiddleware answers probes:
host checked as CommonMiddleware checks it, the view called with the route Django resolves, nothing
below it run. A view there sees an anonymous `request.user` and no `request.session`.

Protocols register their URL names (`register`, from their AppConfig.ready): the kernel knows no app.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.urls import ResolverMatch, resolve, reverse
from django.utils import translation

Handler = Callable[[HttpRequest], HttpResponse]
_names: list[str] = []


def register(*url_names: str) -> None:
    """Routes (URL names) only ever called server to server, by credentials other than a session."""
    _names.extend(name for name in url_names if name not in _names)


class BackChannelMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self._routes: dict[str, ResolverMatch] | None = None

    def routes(self) -> dict[str, ResolverMatch]:
        # Resolved at the first request, once every app has registered and the URLconf is loaded.
        if self._routes is None:
            paths = [reverse(name) for name in _names]
            self._routes = {path: resolve(path) for path in paths}
        return self._routes

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match = self.routes().get(request.path_info)
        if match is None:
            return self.get_response(request)
        request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware checks it: DisallowedHost is a 400
        request.resolver_match = match
        request.user = AnonymousUser()
        # The language the previous request of this thread activated would otherwise linger.
        translation.activate(settings.LANGUAGE_CODE)
        response: HttpResponse = match.func(request, *match.args, **match.kwargs)
        return response
