"""Work held until the response is sent (core/after_response.py; issue #15 finding 10)."""

from __future__ import annotations

import pytest
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from trousseau.core.after_response import AfterResponseMiddleware, later

pytestmark = pytest.mark.django_db  # request_finished also closes old database connections


def test_outside_a_request_the_work_runs_at_once():
    done: list[str] = []
    later(lambda: done.append("now"))
    assert done == ["now"]


def test_inside_a_request_the_work_waits_for_the_response_to_be_sent():
    done: list[str] = []

    def view(_request: HttpRequest) -> HttpResponse:
        later(lambda: done.append("after"))
        done.append("view")
        return HttpResponse("answer")

    response = AfterResponseMiddleware(view)(RequestFactory().get("/"))
    assert done == ["view"]
    assert response.content == b"answer"
    response.close()  # what the server does once the body is written: request_finished
    assert done == ["view", "after"]
    later(lambda: done.append("next"))  # the request is over: at once again
    assert done == ["view", "after", "next"]


def test_a_failing_piece_does_not_stop_the_others(caplog):
    done: list[str] = []

    def broken() -> None:
        raise RuntimeError("gateway down")

    def view(_request: HttpRequest) -> HttpResponse:
        later(broken)
        later(lambda: done.append("still"))
        return HttpResponse()

    AfterResponseMiddleware(view)(RequestFactory().get("/"))
    request_finished.send(sender=None)
    assert done == ["still"]
    assert "broken" in caplog.text
