"""Where each request of a morning journey spends the worker's CPU, layer by layer (bench/morning.py --layers).

The worker side (`install`, from bench/morning_gunicorn.py when MORNING_LAYERS names a file) times,
with the CPU clock, what runs inside five layers of each request and writes one line per request:

- Django's handler: the WSGI application's call (the request object, the request_started signal, the
  response's headers) and the response's close (request_finished: connections, held work);
- the middleware chain, what its classes do themselves;
- the session's read (`SessionStore.load`, the account joined to it) and its write (`save`);
- the view, from URL resolution to the response (the back channel's views included).

Each layer is counted exclusive of the layers it calls. What the request's CPU (gunicorn's pre_request
to post_request hooks) leaves over is gunicorn's own work inside that window: the WSGI environ, writing
the response, the access log (closing the connection comes after the window, with accepting it and
parsing the request: the morning table's "gunicorn around the requests"). The timers cost a few
microseconds per request, so a --layers run writes the table only, never the journey's figure.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

LAYERS = ("handler", "middleware", "session read", "session write", "view")


class Timers:
    """Exclusive CPU per layer for the request being served, by a stack of the layers entered."""

    def __init__(self, path: str) -> None:
        self.out = Path(path).open("a", buffering=1)  # noqa: SIM115 - the worker's life
        self.spent = dict.fromkeys(LAYERS, 0.0)
        self.stack: list[list[float]] = []  # [start, time spent in the layers called from it]

    def timed(self, layer: str, call: Callable[..., Any]) -> Callable[..., Any]:
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            frame = [time.process_time(), 0.0]
            self.stack.append(frame)
            try:
                return call(*args, **kwargs)
            finally:
                self.stack.pop()
                elapsed = time.process_time() - frame[0]
                self.spent[layer] += elapsed - frame[1]
                if self.stack:
                    self.stack[-1][1] += elapsed

        return timed_call

    def request_done(self) -> None:
        self.out.write(" ".join(f"{self.spent[layer]:.6f}" for layer in LAYERS) + "\n")
        self.spent = dict.fromkeys(LAYERS, 0.0)
        self.stack.clear()


def install(worker: Any, path: str) -> Timers:
    """Time the layers of the gunicorn `worker`'s application (Django's WSGIHandler); its middleware chain is
    built again to take the view's timer."""
    from django.contrib.sessions.backends.base import SessionBase
    from django.core.handlers.base import BaseHandler
    from django.http.response import HttpResponseBase

    from trousseau.core.back_channel import BackChannelMiddleware

    timers = Timers(path)
    view = BaseHandler._get_response  # noqa: SLF001 - the view's call, from the URL's resolution on
    BaseHandler._get_response = timers.timed("view", view)  # type: ignore[method-assign]  # noqa: SLF001
    store = _session_store()
    if not issubclass(store, SessionBase):
        raise TypeError(f"{store!r} is not a session store")
    store.load = timers.timed("session read", store.load)  # type: ignore[method-assign]
    store.save = timers.timed("session write", store.save)  # type: ignore[method-assign]
    routes = BackChannelMiddleware.routes

    def timed_routes(self: BackChannelMiddleware) -> Any:
        if self._routes is None:  # wrapped once, as they are resolved
            for match in routes(self).values():
                match.func = timers.timed("view", match.func)
        return routes(self)

    BackChannelMiddleware.routes = timed_routes  # type: ignore[method-assign]
    handler = worker.wsgi
    handler.load_middleware()
    handler._middleware_chain = timers.timed("middleware", handler._middleware_chain)  # noqa: SLF001
    worker.wsgi = timers.timed("handler", handler)  # gunicorn calls worker.wsgi for each request
    HttpResponseBase.close = timers.timed("handler", HttpResponseBase.close)  # type: ignore[method-assign]
    return timers


def _session_store() -> type:
    from importlib import import_module

    from django.conf import settings

    store: type = import_module(settings.SESSION_ENGINE).SessionStore
    return store


# --- the parent's side: the table --------------------------------------------------------------------


def layer_table(steps: list[str], lines: list[list[str]], layers: list[list[str]], crypto: dict[str, float]) -> str:
    """Per request of the journey (means), the request's CPU split by layer; `lines` and `layers` in step order."""
    count = len(steps)
    head = (
        "| request | all | gunicorn in the request | Django's handler | middleware | session read | session write "
        "| view | of which crypto |"
    )
    rows = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    sums = [0.0] * (len(LAYERS) + 2)
    for position, step in enumerate(steps):
        total = 1000 * statistics.fmean(float(line[3]) for line in lines[position::count])
        parts = [1000 * statistics.fmean(float(row[i]) for row in layers[position::count]) for i in range(len(LAYERS))]
        cells = [total, total - sum(parts), *parts]
        sums = [a + b for a, b in zip(sums, cells, strict=True)]
        rows.append(f"| {step} | " + " | ".join(f"{c:.2f}" for c in cells) + f" | {crypto.get(step, 0.0):.2f} |")
    rows.append(
        "| **the journey's requests** | "
        + " | ".join(f"**{c:.1f}**" for c in sums)
        + f" | **{sum(crypto.values()):.1f}** |"
    )
    return "\n".join(rows)
