"""Work that must not happen while the person waits for the answer: it runs once the response is sent.

Whatever a request does after the answer is decided shows in how long the answer takes. When that work
depends on a secret (whether a phone number belongs to an account), the time tells the secret: a real
"Identifiant perdu" SMS cost 140–210 ms in the request, a decoy 65–80 ms (issue #15 finding 10).
With a task queue, enqueueing is already cheap and equal; with the demo's immediate task backend the task
runs at enqueue, in the request. `later` holds such work until Django has delivered the response
(`request_finished`, sent by the server once the body is written), in every backend alike.
Outside a request (a task, a command, a shell) there is nobody waiting: the work runs at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

log = logging.getLogger(__name__)
# The work held by the request this thread serves; None outside a request.
_held: ContextVar[list[Callable[[], None]] | None] = ContextVar("after_response", default=None)


def later(work: Callable[[], None]) -> None:
    """Run `work` once the current response is sent, or now when no request is being served."""
    held = _held.get()
    if held is None:
        work()
    else:
        held.append(work)


class AfterResponseMiddleware:
    """Opens the list `later` fills for each request (before any view in MIDDLEWARE)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        _held.set([])  # not reset here: the server sends request_finished after this returns
        return self.get_response(request)


@receiver(request_finished, dispatch_uid="trousseau.core.after_response")
def _run_held(**_kwargs: Any) -> None:
    held = _held.get()
    _held.set(None)
    for work in held or ():
        try:
            work()
        except Exception:  # one failing piece must not keep the others from running
            log.exception("work held until after the response failed: %s", getattr(work, "__qualname__", work))
