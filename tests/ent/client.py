"""A browser-like WSGI client for the demo services: keeps its cookies, follows nothing by itself."""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from ent.web import Site


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: str

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def cookies_set(self) -> list[str]:
        return [v for k, v in self.headers if k.lower() == "set-cookie"]

    @property
    def location(self) -> str:
        return self.header("Location") or ""

    @property
    def text(self) -> str:
        """The page as a person reads it: tags dropped, entities decoded, spaces collapsed."""
        return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", self.body))).strip()

    def form(self) -> tuple[str, dict[str, str]]:
        """The action and hidden fields of the page's first form."""
        action = re.search(r'<form[^>]*action="([^"]*)"', self.body)
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', self.body))
        assert action, self.body
        return html.unescape(action.group(1)), {k: html.unescape(v) for k, v in fields.items()}


@dataclass
class Client:
    app: Site
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, url: str, data: dict[str, str] | None = None) -> Answer:
        parts = urlsplit(url)
        body = urlencode(data or {}).encode()
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": parts.path or "/",
            "QUERY_STRING": parts.query,
            "CONTENT_TYPE": "application/x-www-form-urlencoded" if method == "POST" else "",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_COOKIE": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "wsgi.input": io.BytesIO(body),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8010",
            "wsgi.url_scheme": "http",
        }
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]]) -> None:
            captured["status"], captured["headers"] = status, headers

        chunks = self.app(environ, start_response)
        answer = Answer(int(captured["status"].split()[0]), captured["headers"], b"".join(chunks).decode())
        for cookie in answer.cookies_set():
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return answer

    def get(self, url: str) -> Answer:
        return self.request("GET", url)

    def post(self, url: str, data: dict[str, str] | None = None) -> Answer:
        return self.request("POST", url, data)

    def submit(self, page: Answer, **fields: str) -> Answer:
        """Post the page's first form with its hidden fields and these."""
        action, hidden = page.form()
        return self.post(action, {**hidden, **fields})
