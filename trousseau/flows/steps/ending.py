"""The last step of every journey: back to the service where the person started (core/continuation.py).

A journey keeps a snapshot of the pending login when it starts (`kept`, in its flow's context). At its
end, in the same browser, the person goes on to the service: logged in, it answers at once; not yet
logged in (a recovery), the service's login page asks for the identifier and the new password. When
the pending request is gone (expired, or the link was opened on another device), a page says so and
offers the service's home page, where a new login starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from trousseau.core import continuation
from trousseau.core.continuation import Service

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

CONTEXT_KEY = "continuation"  # in Flow.context


def kept_for_flow(session: SessionBase) -> dict[str, Any]:
    """What a journey's flow keeps of this browser's pending login (merge into `Flow.context`)."""
    snapshot = continuation.snapshot(session)
    return {CONTEXT_KEY: snapshot} if snapshot else {}


def continue_url(request: HttpRequest, *, fallback: str = "accounts:home") -> str:
    """Where "Continuer" / "Retour à la page de connexion" lead: the pending service, or `fallback`."""
    pending = continuation.current(request.session)
    return pending.next_url if pending else reverse(fallback)


def pending_service(request: HttpRequest) -> Service | None:
    """The service this browser is on its way to, for a "Continuer vers <service>" button."""
    pending = continuation.current(request.session)
    return pending.service if pending else None


def finish(
    request: HttpRequest,
    context: dict[str, Any] | None = None,
    *,
    done: StrOrPromise | None = None,
    fallback: str = "accounts:home",
) -> HttpResponse:
    """End a journey: on to the service, or the page that says its request is gone, or `fallback`.

    `context` is the flow's context (its snapshot of the pending login); `done` is what happened, shown
    on the next page ("Votre mot de passe a été modifié…").
    """
    end = continuation.ending(request.session, (context or {}).get(CONTEXT_KEY))
    if end.next_url:
        if done:
            messages.success(request, str(done))
        return redirect(end.next_url)
    if end.gone is not None:
        return gone_page(request, end.gone, done=done)
    if done:
        messages.success(request, str(done))
    return redirect(fallback)


def gone_page(
    request: HttpRequest, service: Service | None, *, done: StrOrPromise | None = None, status: int = 200
) -> HttpResponse:
    """The page that says the service's login request is gone, with its home page and "Mes services".

    A protocol endpoint reached with a request it no longer has answers 400 (scripts see a refusal).
    """
    return render(request, "continuation_gone.html", {"service": service, "done": done}, status=status)
