from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """The same French 403 page as PermissionDenied (templates/403.html); the reason is not shown."""
    return render(request, "403.html", status=403)
