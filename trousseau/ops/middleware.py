"""Three cheap middlewares: a request id for every log line, the probes, the request latency histogram.

Each costs a dictionary lookup or a regex match and one histogram observation per request; the login
benchmark (bench/run.py) runs with them in place.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from trousseau.ops import logs
from trousseau.ops.metrics import REQUEST_DURATION
from trousseau.ops.urls import PROBE_VIEWS

Handler = Callable[[HttpRequest], HttpResponse]
REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestIdMiddleware:
    """Takes the load balancer's X-Request-ID when it is well formed, else draws one; echoes it back."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = given if _VALID_REQUEST_ID.fullmatch(given) else secrets.token_hex(16)
        token = logs.request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            logs.request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class ProbeMiddleware:
    """Answers /healthz, /readyz and /metrics before host validation, sessions, CSRF and locale.

    Kubernetes probes and Prometheus reach a pod by its IP, with no public Host header, so they must not
    meet ALLOWED_HOSTS; and a probe every few seconds per pod should cost no session or cookie work.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = PROBE_VIEWS.get(request.path_info)
        return view(request) if view is not None else self.get_response(request)


class RequestMetricsMiddleware:
    """Observes each request's duration under its route name: no path, so no identifier, in labels."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        route = match.view_name if match is not None else "unmatched"
        method = request.method if request.method in _METHODS else "other"
        status = f"{response.status_code // 100}xx"
        REQUEST_DURATION.labels(route, method, status).observe(time.perf_counter() - started)
        return response
