from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from trousseau.notifications.models import OutboxMessage


def outbox(request: HttpRequest) -> HttpResponse:
    """The dev outbox: every SMS and email the twins sent. Exists only in debug mode."""
    if not settings.DEBUG:
        raise Http404
    messages = OutboxMessage.objects.all()[:100]
    return render(request, "notifications/outbox.html", {"outbox": messages})
