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

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model


def table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)  # noqa: SLF001 - Django's public model API


@cache
def _shape(model: type[Model], names: tuple[str, ...], vendor: str) -> list[Field[Any, Any]]:
    """The fields of `names`: the same for every row of a hot path, worked out once per process (a
    model's fields do not change while it runs)."""
    return [model._meta.get_field(name) for name in names]  # type: ignore[misc]  # noqa: SLF001


@cache
def _statement(  # noqa: PLR0913, PLR0917 - the shape of one row, as its cache key
    model: type[Model],
    names: tuple[str, ...],
    linked: tuple[tuple[str, str], ...],
    source: str | None,
    returning: str | None,
    vendor: str,
) -> str:
    """The INSERT's text for one shape of row, written once per process: a hot path sends the same
    shape each time, and writing it out cost more than preparing its values (issue #21)."""
    quote = connection.ops.quote_name
    columns = [quote(str(field.column)) for field in _shape(model, names, vendor)]
    marks = ["%s"] * len(columns)
    for name, sql in linked:
        columns.append(quote(str(model._meta.get_field(name).column)))  # type: ignore[union-attr]  # noqa: SLF001
        marks.append(sql)
    # Every value a parameter; `linked`'s SQL and `source` are the caller's own, never a request's.
    rows = f"VALUES ({', '.join(marks)})" if source is None else f"SELECT {', '.join(marks)} FROM {source}"  # noqa: S608
    tail = f" RETURNING {returning}" if returning else ""
    return f"INSERT INTO {table(model)} ({', '.join(columns)}) {rows}{tail}"


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
    columns given back (`RETURNING id`; SQLite ≥ 3.35 and PostgreSQL). The field names, `linked`,
    `source` and `returning` are the caller's constants: with the model they key the text's cache."""
    # The connection itself, not Django's proxy: each field's preparation reads it several times, and
    # each read through the proxy looks the connection up again (about 30 lookups a token request).
    db = connections[DEFAULT_DB_ALIAS]
    names = tuple(values)
    sql = _statement(model, names, tuple((linked or {}).items()), source, returning, db.vendor)
    fields = _shape(model, names, db.vendor)
    params = [field.get_db_prep_save(value, db) for field, value in zip(fields, values.values(), strict=True)]
    return sql, params
