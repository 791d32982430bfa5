"""The INSERT of one model row as SQL and parameters, for a caller that sends it inside a larger statement.

Hot paths write several rows per request (a code and its audit event, an exchange's three tokens): on
PostgreSQL they go as one data-modifying statement instead of one ORM save each (issue #21). The SQL
is written here once for all of them: names from the model's metadata, quoted; each value prepared by
its own field (`get_db_prep_save`), so that the stored form is the one the ORM would store.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Field, Model


def table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)  # noqa: SLF001 - Django's public model API


@cache
def _shape(model: type[Model], names: tuple[str, ...], vendor: str) -> tuple[list[Field[Any, Any]], str, list[str]]:
    """The fields of `names`, the quoted table and column names: the same for every row of a hot path,
    worked out once per process (a model's fields do not change while it runs)."""
    fields: list[Field[Any, Any]] = [model._meta.get_field(name) for name in names]  # type: ignore[misc]  # noqa: SLF001
    return fields, table(model), [connection.ops.quote_name(str(field.column)) for field in fields]


def insert(
    model: type[Model],
    values: dict[str, Any],
    linked: Mapping[str, str] | None = None,
    *,
    source: str | None = None,
    returning: str | None = None,
) -> tuple[str, list[Any]]:
    """`INSERT INTO … (…) VALUES (…)` of `values` (keyed by field name or attname), plus `linked`:
    field → SQL giving its value (another CTE's id, a column of `source`). With `source` (a FROM
    list of CTEs), the row is `SELECT`ed from it instead: one row per row of `source`, none when it is
    empty, which is how a statement's later writes depend on its earlier ones. `returning`: the
    columns given back (`RETURNING id`; SQLite ≥ 3.35 and PostgreSQL)."""
    fields, quoted_table, columns = _shape(model, tuple(values), connection.vendor)
    params = [field.get_db_prep_save(value, connection) for field, value in zip(fields, values.values(), strict=True)]
    columns, marks = list(columns), ["%s"] * len(params)
    for name, sql in (linked or {}).items():
        columns.append(connection.ops.quote_name(str(model._meta.get_field(name).column)))  # type: ignore[union-attr]  # noqa: SLF001
        marks.append(sql)
    # Every value a parameter; `linked`'s SQL and `source` are the caller's own, never a request's.
    rows = f"VALUES ({', '.join(marks)})" if source is None else f"SELECT {', '.join(marks)} FROM {source}"  # noqa: S608
    tail = f" RETURNING {returning}" if returning else ""
    return f"INSERT INTO {quoted_table} ({', '.join(columns)}) {rows}{tail}", params
