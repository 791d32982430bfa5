"""Serve a demo service over HTTP with the standard library (threads, one process: a demo, not a deployment)."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from socketserver import ThreadingMixIn
from typing import Any, TypeVar
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ent.config import Config
from ent.pronote import Pronote
from ent.saml_site import Ent
from ent.web import Site

log = logging.getLogger("ent.http")
App = TypeVar("App", bound=Site)
_QUERY = re.compile(r"\?[^ \"]*")


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _Handler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the standard library's name
        # SAML messages travel in query strings: keep them (and their NameIDs) out of the log.
        line = _QUERY.sub("?…", format % args)
        log.info("%s %s", self.address_string(), line)


def make_app(config: Config) -> Site:
    """The service of `config.mode`: the ENT or the téléservices (SAML), or the Pronote-like site (OIDC)."""
    return Ent(config) if config.saml else Pronote(config)


def serve(config: Config, host: str, port: int) -> _Server:
    """A server bound to host:port (port 0: any free one), not yet serving."""
    return make_server(host, port, make_app(config), server_class=_Server, handler_class=_Handler)


def start_in_thread(configure: Callable[[str], Config], host: str = "127.0.0.1") -> tuple[_Server, Ent]:
    """An ENT on a free port, serving from a thread; `configure` gets its URL and returns its Config.

    Stop it with `server.shutdown(); server.server_close()`.
    """
    return start_app_in_thread(configure, Ent, host)


def start_app_in_thread(
    configure: Callable[[str], Config], factory: Callable[[Config], App], host: str = "127.0.0.1"
) -> tuple[_Server, App]:
    """Any demo service (`factory`: Ent, Pronote) on a free port, serving from a thread."""
    server = make_server(host, 0, _unready, server_class=_Server, handler_class=_Handler)
    app = factory(configure(f"http://{host}:{server.server_port}"))
    server.set_app(app)
    threading.Thread(target=server.serve_forever, name=f"ent:{server.server_port}", daemon=True).start()
    return server, app


def _unready(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]
