"""Liveness and readiness: cheap, cookie-free, unaudited, and 503 naming the part that fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import redis
from django.test import Client, override_settings

from tests.ops.serving import ROOT, free_port, gunicorn, production_env
from trousseau.audit.models import AuditEvent


def _redis(url: str) -> dict[str, object]:
    return {
        "REDIS_URL": url,
        "CACHES": {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
            }
        },
    }


@pytest.mark.django_db
def test_liveness_answers_without_session_cookie_or_audit():
    # A pod IP as Host: probes are answered before ALLOWED_HOSTS is consulted.
    response = Client().get("/healthz", HTTP_HOST="10.42.0.17:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}
    assert response.cookies == {}
    assert "Set-Cookie" not in response.headers
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_readiness_is_200_when_database_and_migrations_are_fine():
    response = Client().get("/readyz", HTTP_HOST="10.42.0.17:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "migrations": "ok", "cache": "not_configured"}
    assert response.cookies == {}


@pytest.mark.django_db
def test_readiness_checks_redis_when_there_is_one():
    url = "redis://127.0.0.1:6379/9"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    with override_settings(**_redis(url)):
        response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["cache"] == "ok"


@pytest.mark.django_db
def test_readiness_is_503_naming_the_cache_when_redis_is_unreachable():
    with override_settings(**_redis(f"redis://127.0.0.1:{free_port()}/0")):
        ready = Client().get("/readyz")
        alive = Client().get("/healthz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unready", "database": "ok", "migrations": "ok", "cache": "unreachable"}
    assert alive.status_code == 200  # a cache outage restarts no pod


def test_readiness_is_503_naming_the_database_when_it_is_unreachable(site: Path):
    unreachable = f"postgres://postgres@127.0.0.1:{free_port()}/trousseau?connect_timeout=2"
    with gunicorn(production_env(site, DATABASE_URL=unreachable), wait_ready=False) as server:
        ready = server.get("/readyz")
        alive = server.get("/healthz")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unready",
        "database": "unreachable",
        "migrations": "not_checked",
        "cache": "not_configured",
    }
    assert alive.status_code == 200


def test_readiness_is_503_while_migrations_are_pending(tmp_path: Path):
    # A database that exists but was never migrated: the pod must not take traffic yet.
    with gunicorn(production_env(tmp_path), wait_ready=False) as server:
        ready = server.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["migrations"] == "pending"


def test_a_deployment_with_redis_gets_socket_timeouts(site: Path):
    # Without them a Redis that stops answering would hold every worker until gunicorn kills it.
    env = production_env(site, REDIS_URL="redis://127.0.0.1:6379/0", TROUSSEAU_REDIS_TIMEOUT="1.5")
    shown = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.CACHES['default']['OPTIONS'])"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "trousseau.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == "{'socket_connect_timeout': 1.5, 'socket_timeout': 1.5}"
