"""A single-threaded WSGI server for the benchmarks: one process, one request at a time, one core.

Started by `bench/run.py` with the benchmark's environment (settings, throwaway database):

    python bench/serve.py PORT            (`PORT hello`: a WSGI application without Django that answers "hello")

It serves Django's real WSGI application (every middleware, sessions in the database) with the
standard library's `wsgiref`, quietly: no access log, so the figures measure the application.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature of http.server
        pass


def hello(environ: dict[str, object], start_response: Callable[..., object]) -> list[bytes]:
    """No Django: what the HTTP server alone costs a request (bench/saml.py)."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


def main() -> None:
    port = int(sys.argv[1])
    if sys.argv[2:] == ["hello"]:
        application: Callable[..., object] = hello
    else:
        from django.core.wsgi import get_wsgi_application

        application = get_wsgi_application()
    server = make_server("127.0.0.1", port, application, server_class=WSGIServer, handler_class=QuietHandler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
