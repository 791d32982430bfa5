"""gunicorn for bench/morning.py: deploy/gunicorn.conf.py as it is, plus hooks that measure each request.

    gunicorn -c bench/morning_gunicorn.py      (MORNING_REQUEST_LOG=FILE, optional MORNING_PROFILE=FILE
                                                or MORNING_LAYERS=FILE)

Every setting is the production file's. The hooks add, per request, one line to MORNING_REQUEST_LOG:
method, path, the worker's CPU spent between gunicorn's pre_request and post_request hooks (the WSGI
environ, Django, its middleware and the view, writing the answer, the access line; not accepting the
connection nor parsing the request) and the SQL statements sent through Django's cursors (BEGIN,
COMMIT and the connection health check are not cursor statements). A line costs a few microseconds of the worker's CPU, counted in the journey.
With MORNING_PROFILE the worker runs under cProfile (CPU clock) from its start to its exit and writes
the profile there. With MORNING_LAYERS, each request's CPU by layer (bench/morning_layers.py) goes
there, one line per request, in the request log's order.
"""

from __future__ import annotations

import os
import runpy
import time
from pathlib import Path
from typing import Any

_production = runpy.run_path(str(Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"))
globals().update({k: v for k, v in _production.items() if not k.startswith("__")})

_state: dict[str, Any] = {"statements": 0}


def _count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:  # noqa: FBT001 - Django's signature
    _state["statements"] += 1
    return execute(sql, params, many, context)


def post_worker_init(worker: Any) -> None:
    _production["post_worker_init"](worker)  # the worker warms up as in production, before it is measured
    from django.db import connections

    connections["default"].execute_wrappers.append(_count)
    _state["log"] = Path(os.environ["MORNING_REQUEST_LOG"]).open("a", buffering=1)  # noqa: SIM115 - the worker's life
    if os.environ.get("MORNING_PROFILE"):
        import cProfile

        _state["profile"] = cProfile.Profile(time.process_time)
        _state["profile"].enable()
    if os.environ.get("MORNING_LAYERS"):
        from bench.morning_layers import install

        _state["layers"] = install(worker, os.environ["MORNING_LAYERS"])


def pre_request(worker: Any, req: Any) -> None:
    _state["statements"] = 0
    _state["cpu"] = time.process_time()


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    spent = time.process_time() - _state["cpu"]
    status = str(getattr(resp, "status", "")).split(" ", 1)[0]
    _state["log"].write(f"{req.method} {req.path} {status} {spent:.6f} {_state['statements']}\n")
    if "layers" in _state:
        _state["layers"].request_done()


def worker_exit(server: Any, worker: Any) -> None:
    profile = _state.get("profile")
    if profile is not None:
        profile.disable()
        profile.dump_stats(os.environ["MORNING_PROFILE"])
    if "log" in _state:
        _state["log"].close()
