"""Raw statements of the import's PostgreSQL paths: run one, get its row count or its rows.

Shared by `copy` (staging and COPY) and `fk_checks` (the deferred key checks), which `copy` uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection


def execute(sql: str, params: Sequence[Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        count: int = cursor.rowcount
        return count


def fetch(sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
