from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A French page instead of Django's English one; the reason is not shown to the visitor."""
    return render(request, "core/forbidden.html", status=403)
