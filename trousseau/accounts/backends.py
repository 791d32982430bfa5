"""Session loading only: passwords are checked by `accounts.authentication`, with throttling.

A logged-in request's account comes with its session: the session store reads the session's row and,
through its `AccountSession`, the account's, in one statement (`SessionAccount`, registered with
core/session_store.py). `get_user` takes that account when it is the one the session names (Django
checks the session's hash against it afterwards, as always); otherwise, a session opened without an
`AccountSession` (a test's force_login) or not loaded through the store, it reads the account itself.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.contrib.sessions.backends.base import SessionBase
from django.db import connections
from django.db.models import Model
from django.http import HttpRequest

from trousseau.accounts.models import Account, AccountSession, AccountState
from trousseau.core.prepared import Prepared

# Every request of a logged-in browser loads its account: the query compiled once (core/prepared.py).
# The probe is no account's key (they count up from 1).
_active_account = Prepared(Account, lambda pk: Account.objects.filter(pk=pk, state=AccountState.ACTIVE), -(2**62))

# The session whose user Django is loading (accounts.middleware sets it around `auth.get_user`).
loading_user_of: ContextVar[SessionBase | None] = ContextVar("loading_user_of", default=None)


def account_columns(alias: str) -> list[str]:
    """The account's columns as the ORM selects them, named by its table: for a statement of another app
    that reads an account with its own rows (federation/oidc/claim_sql.py), as the session's read does."""
    return _active_account.columns(alias)


def account_of(alias: str, values: tuple[Any, ...]) -> Account:
    """The account of `account_columns`' values, built as the ORM builds it."""
    return _active_account.instance(alias, values)


class SessionAccount:
    """The active account of a session, joined through its `AccountSession` row (core/session_store.py)."""

    def joined(self, alias: str, session_table: str) -> tuple[list[str], str, list[Any]]:
        quote = connections[alias].ops.quote_name

        def column(model: type[Model], name: str) -> str:
            field = model._meta.get_field(name)  # noqa: SLF001
            return f"{quote(model._meta.db_table)}.{quote(str(field.column))}"  # type: ignore[union-attr]  # noqa: SLF001

        joins = (
            f"LEFT JOIN {quote(AccountSession._meta.db_table)} "  # noqa: SLF001
            f"ON {column(AccountSession, 'session_key')} = {session_table}.{quote('session_key')} "
            f"LEFT JOIN {quote(Account._meta.db_table)} "  # noqa: SLF001
            f"ON {column(Account, 'id')} = {column(AccountSession, 'account')} AND {column(Account, 'state')} = %s"
        )
        # The same columns, converters and instance as `_active_account`, whose SQL names the table itself.
        return account_columns(alias), joins, [AccountState.ACTIVE.value]

    def build(self, alias: str, values: tuple[Any, ...]) -> Account | None:
        return account_of(alias, values) if values[0] is not None else None


class AccountBackend(BaseBackend):
    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        # Never authenticates by itself: every password check goes through throttling and audit.
        return None

    def get_user(self, user_id: int) -> Account | None:
        """The active account `user_id` (the session's), or None: disabled accounts lose their sessions."""
        session = loading_user_of.get()
        joined = getattr(session, "companion", None)
        if isinstance(joined, Account) and joined.pk == user_id:
            return joined
        return _active_account.first(user_id)
