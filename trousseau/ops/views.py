"""Endpoints for machines: liveness, readiness and metrics. No session, no cookie, no audit, no template."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse

from trousseau.ops import metrics as exported
from trousseau.ops import probes

SERVICE_UNAVAILABLE = 503


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Touches nothing else, so a database outage restarts no pod."""
    return JsonResponse({"status": "alive"})


def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: 200 when the pod can serve logins, else 503 naming the failing part."""
    parts = probes.readiness()
    ready = probes.is_ready(parts)
    return JsonResponse(
        {"status": "ready" if ready else "unready", **parts}, status=200 if ready else SERVICE_UNAVAILABLE
    )


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, only for a scraper that gives TROUSSEAU_METRICS_TOKEN as a Bearer token.

    Anyone else, and everyone when no token is set, gets a bare 404: the endpoint does not exist for them.
    """
    token: str = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer" or not secrets.compare_digest(given.strip().encode(), token.encode()):
        return HttpResponseNotFound(b"", content_type="text/plain")
    body, content_type = exported.exposition()
    return HttpResponse(body, content_type=content_type)
