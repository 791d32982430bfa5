"""Journeys through Trousseau over plain HTTP, as a person's browser makes them.

A `Visitor` is one browser (a `requests.Session`, or locust's subclass of it) with its own client
address, sent as X-Forwarded-For for nginx to trust (bench/cluster.py). Every answer is recorded with
the process that served it (nginx's X-Served-By). The journeys resume as a person would when a step is
lost (a 502 from a web process that died while serving it): reload the page and go on from what it
shows. Used by the scale-out tests (tests/scaleout) and the load test (bench/load.py).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LOST = 502  # the web process died with the request: the step may or may not have been carried out
FOUND = 302


class JourneyError(Exception):
    """An answer no person could go on from: a real failure of the service."""


@dataclass(frozen=True)
class Step:
    kind: str  # what the step does, e.g. "POST /login"
    status: int
    served_by: str  # nginx's $upstream_addr: "127.0.0.1:8001", or two addresses when it passed a request on


@dataclass
class Visitor:
    session: requests.Session
    base_url: str
    address: str = ""  # the client address nginx is told (X-Forwarded-For); "" for nginx's own view
    name_requests: bool = False  # pass `name=kind` to the session (locust groups its statistics by it)
    steps: list[Step] = field(default_factory=list)
    resumed: int = 0  # steps lost and carried on from, as a person reloading the page
    before_send: Callable[[Visitor, str], None] | None = None  # told each step's kind before it goes

    def send(self, method: str, path: str, kind: str, data: dict[str, str] | None = None) -> requests.Response:
        if self.before_send is not None:
            self.before_send(self, kind)
        headers = {"X-Forwarded-For": self.address} if self.address else {}
        extra: dict[str, Any] = {"name": kind} if self.name_requests else {}
        response = self.session.request(
            method, self.base_url + path, data=data, headers=headers, allow_redirects=False, **extra
        )
        self.steps.append(Step(kind, response.status_code, response.headers.get("X-Served-By", "")))
        return response

    def form(self, path: str, kind: str) -> tuple[str, str]:
        """GET a page with a form: (its CSRF token, its text). A 502 is retried, as a reload."""
        for _ in range(3):
            page = self.send("GET", path, kind)
            if page.status_code != LOST:
                break
            self.resumed += 1
        found = CSRF.search(page.text)
        if page.status_code != 200 or not found:  # noqa: PLR2004
            raise JourneyError(f"GET {path}: {page.status_code}, no form")
        return found.group(1), html.unescape(page.text)

    def post(self, path: str, kind: str, data: dict[str, str]) -> requests.Response | None:
        """POST a form; None when the step was lost (502), for the caller to reload and resume."""
        response = self.send("POST", path, kind, data)
        if response.status_code == LOST:
            self.resumed += 1
            return None
        return response

    def served_by(self) -> set[str]:
        return {step.served_by for step in self.steps}


def _expect(response: requests.Response, status: int, location: str | None, what: str) -> None:
    if response.status_code != status or (location is not None and response.headers.get("Location") != location):
        raise JourneyError(f"{what}: {response.status_code} {response.headers.get('Location', '')}")


def login(visitor: Visitor, identifier: str, password: str, *, tries: int = 3) -> None:
    """The mire: GET /login, POST the credentials -> 302 to /compte/ with a session, which opens /compte/."""
    for _ in range(tries):
        token, _text = visitor.form("/login", "GET /login")
        # No "Je suis" profile, as scripts and pre-2025 ÉduConnect clients post: the journeys log pupils
        # and guardians in alike (a profile that contradicts the account is refused, signin/mire.py).
        data = {"csrfmiddlewaretoken": token, "identifier": identifier, "password": password}
        answer = visitor.post("/login", "POST /login", data)
        if answer is None:
            continue  # lost: log in again, as a person would
        _expect(answer, FOUND, "/compte/", f"login of {identifier}")
        home = visitor.send("GET", "/compte/", "GET /compte/")
        _expect(home, 200, None, f"/compte/ after the login of {identifier}")
        return
    raise JourneyError(f"login of {identifier}: lost {tries} times")


def lost_password_by_sms(
    visitor: Visitor, identifier: str, new_password: str, read_code: Callable[[], str | None], *, tries: int = 3
) -> None:
    """'Mot de passe perdu' by SMS, then a login with the new password.

    The code page, then the new password page, then the mire; a lost step is reloaded (GET of the
    flow's page) and the journey goes on from what that page shows: the code again, the new password,
    or nothing left to do (the flow ended: the new password was set, and the login shows it).
    """
    for _ in range(tries):
        token, _text = visitor.form("/mot-de-passe-perdu/", "GET /mot-de-passe-perdu/")
        data = {"csrfmiddlewaretoken": token, "identifier": identifier, "channel": "sms"}
        started = visitor.post("/mot-de-passe-perdu/", "POST /mot-de-passe-perdu/", data)
        if started is None:
            continue
        _expect(started, FOUND, None, f"lost password of {identifier}")
        _follow_flow(visitor, started.headers["Location"], new_password, read_code)
        login(visitor, identifier, new_password)
        return
    raise JourneyError(f"lost password of {identifier}: did not complete in {tries} tries")


def _follow_flow(visitor: Visitor, step: str, new_password: str, read_code: Callable[[], str | None]) -> None:
    """Act on the flow's pages until the new password is set (or the flow says it is over: set before a loss)."""
    for _ in range(8):
        page = visitor.send("GET", step, "GET flow step")
        if page.status_code == FOUND:  # "Cette demande n'est plus en cours": carried out before a loss
            return
        if page.status_code == LOST:
            visitor.resumed += 1
            continue
        found = CSRF.search(page.text)
        if page.status_code != 200 or not found:  # noqa: PLR2004
            raise JourneyError(f"GET {step}: {page.status_code}")
        token = found.group(1)
        if 'name="password_confirm"' in page.text:
            data = {"csrfmiddlewaretoken": token, "password": new_password, "password_confirm": new_password}
            answer = visitor.post(step, "POST new password", data)
            if answer is not None:
                _expect(answer, FOUND, "/login", "new password")
                return
        else:
            code = read_code()
            if code is None:
                raise JourneyError(f"no SMS code sent for the flow {step}")
            answer = visitor.post(step, "POST code", {"csrfmiddlewaretoken": token, "code": code})
            if answer is not None:
                _expect(answer, FOUND, step, "SMS code")
    raise JourneyError(f"flow {step} did not end")
