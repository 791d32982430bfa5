"""Session loading only: passwords are checked by `accounts.authentication`, with throttling."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.db import connections, router
from django.http import HttpRequest

from trousseau.accounts.models import Account, AccountState


@dataclass(frozen=True)
class _Select:
    """The active account by primary key as one statement, and how to turn its row into an `Account`."""

    sql: str
    attnames: list[str]
    # Per column, the conversions the ORM applies to what the driver returns (SQLite's dates, for one).
    converters: list[tuple[int, list[Any], Any]]


@functools.cache
def _select(alias: str) -> _Select:
    """Written once per database. Every request of a logged-in browser loads its account: built by the
    ORM each time, that query cost about five times its execution (issue #21's profile of a morning journey).
    """
    connection = connections[alias]
    quote = connection.ops.quote_name
    fields = Account._meta.concrete_fields  # noqa: SLF001 - Django's public model API
    columns = ", ".join(quote(field.column) for field in fields)
    table = quote(Account._meta.db_table)  # noqa: SLF001
    sql = f"SELECT {columns} FROM {table} WHERE {quote('id')} = %s AND {quote('state')} = %s"  # noqa: S608 - quoted names, bound values
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(Account._meta.db_table)  # noqa: SLF001
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if found:
            converters.append((index, found, column))
    return _Select(sql, [field.attname for field in fields], converters)


class AccountBackend(BaseBackend):
    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        # Never authenticates by itself: every password check goes through throttling and audit.
        return None

    def get_user(self, user_id: int) -> Account | None:
        """The active account `user_id` (the session's), or None: disabled or merged accounts lose their sessions."""
        alias = router.db_for_read(Account)
        select, connection = _select(alias), connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(select.sql, [user_id, AccountState.ACTIVE.value])
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for index, converters, column in select.converters:
            for convert in converters:
                values[index] = convert(values[index], column, connection)
        return Account.from_db(alias, select.attnames, values)
