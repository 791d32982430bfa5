"""What readiness means: the database answers, the schema is migrated, the shared cache answers.

Each check names its part and how it fails; none raises. They run on every readiness probe (every few
seconds per pod), so each is one round trip, and the migration check, which reads every migration
file, stops running in a process once it has passed: migrations are not unapplied under a live pod.
"""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

logger = logging.getLogger(__name__)

OK, UNREACHABLE, PENDING, NOT_CHECKED, NOT_CONFIGURED = "ok", "unreachable", "pending", "not_checked", "not_configured"
_migrated = False


def database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.warning("Readiness: the database is unreachable", exc_info=True)
        return UNREACHABLE
    return OK


def migrations() -> str:
    global _migrated  # noqa: PLW0603 - a per-process latch, by design
    if not _migrated:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            return PENDING
        _migrated = True
    return OK


def shared_cache() -> str:
    """A write and a read through the cache every web process shares (Redis/Valkey), when there is one."""
    if not settings.REDIS_URL:
        return NOT_CONFIGURED
    key = f"trousseau:readyz:{secrets.token_hex(8)}"
    try:
        cache.set(key, "1", timeout=10)
        answered = cache.get(key) == "1"
        cache.delete(key)
    except Exception:
        logger.warning("Readiness: the cache is unreachable", exc_info=True)
        return UNREACHABLE
    return OK if answered else UNREACHABLE


def readiness() -> dict[str, str]:
    """Every part and its state; the pod is ready when each is "ok" or "not_configured"."""
    db = database()
    return {"database": db, "migrations": migrations() if db == OK else NOT_CHECKED, "cache": shared_cache()}


def is_ready(parts: dict[str, str]) -> bool:
    return all(state in {OK, NOT_CONFIGURED} for state in parts.values())
