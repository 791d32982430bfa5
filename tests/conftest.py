from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


@pytest.fixture(autouse=True)
def _readable_responses(monkeypatch):
    """`response.text`: the page as a person reads it (HTML entities decoded)."""
    import html

    from django.http import HttpResponse

    monkeypatch.setattr(HttpResponse, "text", property(lambda r: html.unescape(r.content.decode())), raising=False)


@pytest.fixture(autouse=True)
def _commit_hooks_run_as_in_production(monkeypatch):
    """`on_commit` hooks (notifications are queued by them) run when the code's own transaction ends."""
    from tests.notifications.commit_hooks import install

    install(monkeypatch)
