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
