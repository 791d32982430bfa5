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


DEAD_REDIS = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
}


@pytest.fixture
def lost_cache(settings):
    """Django's cache pointed at a Redis that is not there (every call raises a connection error)."""
    settings.CACHES = DEAD_REDIS
    cache.close()  # drop the connection handler bound to the old settings
    with pytest.raises(Exception):  # noqa: B017, PT011 - the point: the cache really is unreachable
        cache.get("anything")
    return settings
