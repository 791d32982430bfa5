"""What a web worker does once, before it takes its first connection (deploy/gunicorn.conf.py, post_worker_init).

A new worker imports its views on the first URL it resolves, compiles each template the first time it is
shown, reads each language's catalogues the first time one is asked for, and parses its signing keys the
first time it signs (a 3072-bit RSA key's checks take about 0.1 s a parse). Measured on a fresh gunicorn
worker: about 0.4 s on the first page, 0.25 s on the first key set, 0.13 s on the first SAML answer and
on the first token. Workers restart every few thousand requests (`max_requests`), so without this the
first families after each restart would wait for it; warmed, they do not, and the worker's peers serve
meanwhile.

Apps register their own one-time work in `AppConfig.ready` (`at_start`): the kernel knows none of them. A
step that fails is logged and left to the first request that needs it, which then fails or succeeds as it
would have.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.template.loader import get_template
from django.urls import get_resolver
from django.utils import translation

logger = logging.getLogger(__name__)

Step = Callable[[], object]
_steps: list[tuple[str, Step]] = []


def at_start(name: str, step: Step) -> None:
    """Have `step` run by `warm_up` (called once per app, from its `ready`; a name already given is replaced)."""
    _steps[:] = [(n, s) for n, s in _steps if n != name]
    _steps.append((name, step))


def templates(*names: str) -> Step:
    """A step that compiles these templates (the cached loader keeps them for the worker's life)."""

    def compile_them() -> None:
        for name in names:
            get_template(name)

    return compile_them


def _urls() -> None:
    get_resolver().url_patterns  # noqa: B018 - imports the URL modules and every view they name


def _catalogues() -> None:
    for code, _ in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Se connecter")  # loads the language's catalogues of every app


def warm_up() -> dict[str, float]:
    """Run the kernel's steps, then the apps'; the milliseconds each took (a failed one is not in it)."""
    took: dict[str, float] = {}
    for name, step in [("urls", _urls), ("catalogues", _catalogues), *_steps]:
        start = time.perf_counter()
        try:
            step()
        except Exception:
            logger.exception("warm-up: %s failed; the first request that needs it will do it", name)
            continue
        took[name] = round(1000 * (time.perf_counter() - start), 1)
    logger.info("warm-up done", extra={"steps_ms": took})
    return took
