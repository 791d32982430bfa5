"""A local stand-in for an SMS provider: an HTTP server on 127.0.0.1 that records every request.

Tell it how to answer with `status` (any HTTP status), `drop` (close the connection without
answering) or `delay`; `stop()` takes it off the network and `start()` brings it back on the same port.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int | None  # the status sent back; None when the connection was dropped

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        gateway = self.server.gateway
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if gateway.delay:
            time.sleep(gateway.delay)
        status = None if gateway.drop else gateway.status
        gateway.record(Recorded("POST", self.path, dict(self.headers.items()), body, status))
        if status is None:
            self.close_connection = True  # nothing written: the client sees the connection close
            return
        answer = json.dumps({"status": status}).encode()
        self.send_response(status)
        if 300 <= status < 400:  # a redirection must say where to
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        """Quiet: tests read `requests`, not stderr."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    gateway: FakeGateway

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout tests) is expected; anything else is printed as usual."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class FakeGateway:
    status: int = 201
    drop: bool = False
    delay: float = 0.0
    requests: list[Recorded] = field(default_factory=list)
    port: int = 0
    _server: _Server | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def answered(self, status: int) -> list[Recorded]:
        return [request for request in self.requests if request.answered == status]

    def start(self) -> None:
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.gateway = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join(timeout=5)
        self._server = None
