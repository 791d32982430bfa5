"""The cache as an accelerator only: when it is down (Redis lost, restarted), callers carry on without it.

Nothing that guards a secret lives in the cache (throttles, codes and sessions are in the database), so
losing it may only cost speed or a progress figure; these wrappers make sure it costs no request.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)


def cached(key: str) -> Any:
    """The value under `key`, or None when it is missing or the cache cannot be reached."""
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 - whatever the backend raises (redis.ConnectionError, timeouts…)
        logger.warning("cache unavailable: %s read without it", key.split(":", 1)[0])
        return None


def keep(key: str, value: Any, ttl: int) -> None:
    try:
        cache.set(key, value, ttl)
    except Exception:  # noqa: BLE001 - see cached()
        logger.warning("cache unavailable: %s not kept", key.split(":", 1)[0])


def forget(*keys: str) -> None:
    try:
        cache.delete_many(list(keys))
    except Exception:  # noqa: BLE001 - see cached()
        logger.warning("cache unavailable: %s not forgotten", keys[0].split(":", 1)[0] if keys else "")
