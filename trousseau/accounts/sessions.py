"""Opening and ending sessions: Django's login (key rotation) plus the account's list of sessions."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY, login, logout, update_session_auth_hash
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import connection, transaction
from django.dispatch import Signal
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.module_loading import import_string

from trousseau.accounts.models import Account, AccountSession
from trousseau.core.http import client_ip
from trousseau.core.planned import planned_cursor
from trousseau.core.session_store import SessionStore
from trousseau.core.throttle_sql import Statement


def _store() -> type[SessionBase]:
    store: type[SessionBase] = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    return store


# When the person last proved who they are in this browser session: SAML's AuthnInstant, OpenID
# Connect's auth_time and max_age. Per session, not the account's last_login, which any device moves.
AUTHENTICATED_AT_KEY = "authenticated_at"


class LoginWrites:
    """A login's writes left to its caller, who sends them in one statement with its own (PostgreSQL).

    `statements` in the order `core/throttle_sql.settle` takes them (run last listed first: the session's
    `AccountSession`, its row, the replaced key's row, then `last_login`, the order of the former single
    statement); the caller calls `sent` once they are. That one statement needs no transaction around
    it; a login that writes rows itself (`session_open`, when Django keeps or flushes a session that
    already has a login) opens one in the caller's `scope` first, which the caller's statement then joins.
    """

    def __init__(self, scope: ExitStack) -> None:
        self.statements: list[Statement] = []
        self._after: list[Callable[[], None]] = []
        self._scope = scope
        self._atomic = False

    def add(self, statements: list[Statement], *, once_sent: Callable[[], None]) -> None:
        self.statements += statements
        self._after.append(once_sent)

    def in_transaction(self) -> None:
        """The writes that follow, and the caller's statement, in one transaction (committed by the caller)."""
        if not self._atomic:
            self._scope.enter_context(transaction.atomic())
            self._atomic = True

    def sent(self) -> None:
        for done in self._after:
            done()


def session_open(
    request: HttpRequest,
    account: Account,
    *,
    writes: LoginWrites | None = None,
    also: Callable[[SessionBase], object] | None = None,
) -> None:
    """Log in (Django rotates the session key) and remember the session for the account page.

    Writes `last_login` here (Django's own receiver is disconnected: accounts/apps.py), with the
    session's row and its `AccountSession`: on PostgreSQL one statement, in the caller's transaction
    (a password login's: one commit), or left in `writes` for the caller's own statement. `also`
    writes in the new session what the caller would write after the login (single sign-on's next
    step), so that the row is inserted with it: the middleware's save at the end of the response then
    finds nothing new to write (trousseau/core/session_store.py).
    """
    before = request.session.session_key
    store = request.session
    folded = isinstance(store, SessionStore) and connection.vendor == "postgresql"
    if writes is not None and not (folded and SESSION_KEY not in store):
        # Django keeps the session of the account logging in again, or flushes another's: rows are then
        # written here, before the caller's statement, and must commit with it.
        writes.in_transaction()
    if isinstance(store, SessionStore) and folded:
        store.defer_stale_deletion()  # the old key's row goes with the new one's insert, below
    login(request, account, backend="trousseau.accounts.backends.AccountBackend")
    now = timezone.now()
    account.last_login = now
    request.session[AUTHENTICATED_AT_KEY] = now.isoformat()
    if also is not None:
        also(request.session)
    if request.session.session_key is None:
        request.session.save()
    key = str(request.session.session_key)
    row: dict[str, Any] = {
        "account": account,
        "ip_address": client_ip(request) or None,
        "user_agent": request.headers.get("User-Agent", "")[:200],
    }
    if isinstance(store, SessionStore) and folded:
        new_row = store.unsaved_row() if key != before else None
        if new_row is not None:
            statements = _login_statements(new_row, store.stale_key(), row, now)
            if writes is None:
                with planned_cursor(connection.alias) as cursor:
                    cursor.execute(*_one_statement(statements))
                store.inserted()
            else:
                writes.add(statements, once_sent=store.inserted)
            return
        if writes is not None:
            writes.in_transaction()  # the writes below, then the caller's statement: one commit
        store.delete_stale()  # no new row to insert with it (Django kept or flushed the key)
    Account.objects.filter(pk=account.pk).update(last_login=now)
    if key != before:  # a new key: its row is created, not looked up
        AccountSession.objects.create(session_key=key, created_at=now, **row)
    else:  # Django keeps the key when the same account logs in again in this session
        AccountSession.objects.update_or_create(session_key=key, defaults=row)
    request.session.save()


def _login_statements(
    new: AbstractBaseSession, stale_key: str | None, row: dict[str, Any], now: datetime
) -> list[Statement]:
    """`last_login`, the replaced key's row deleted, the new session's row and its `AccountSession` (PostgreSQL)."""
    accounts = Account._meta.db_table  # noqa: SLF001
    sessions = AccountSession._meta.db_table  # noqa: SLF001
    django_sessions = SessionStore.get_model_class()._meta.db_table  # noqa: SLF001
    account: Account = row["account"]
    return [
        (f"UPDATE {accounts} SET last_login = %s WHERE id = %s", [now, account.pk]),  # noqa: S608 - our tables, parameters bound
        (f"DELETE FROM {django_sessions} WHERE session_key = %s", [stale_key]),  # noqa: S608
        (
            f"INSERT INTO {django_sessions} (session_key, session_data, expire_date) VALUES (%s, %s, %s)",  # noqa: S608
            [new.session_key, new.session_data, new.expire_date],
        ),
        (
            f"INSERT INTO {sessions} (account_id, session_key, created_at, ip_address, user_agent) VALUES (%s, %s, %s, %s, %s)",  # noqa: S608
            [account.pk, new.session_key, now, row["ip_address"], row["user_agent"]],
        ),
    ]


def _one_statement(statements: list[Statement]) -> Statement:
    """The writes as one statement: all but the last as data-modifying CTEs."""
    *first, (last_sql, last_params) = statements
    ctes = ", ".join(f"w{index} AS ({sql})" for index, (sql, _params) in enumerate(first))
    params = [param for _sql, statement_params in first for param in statement_params]
    return f"WITH {ctes} {last_sql}", [*params, *last_params]


def authenticated_at(session: SessionBase) -> datetime | None:
    """When this session's login happened; None for a session opened otherwise (tests' force_login)."""
    return parse_datetime(str(session.get(AUTHENTICATED_AT_KEY, "")))


# Where logout sends the browser next, left by a federated login (FranceConnect's /session/end page)
# so that logging out here also ends the session there.
LOGOUT_REDIRECT_KEY = "logout_redirect"


def session_close(request: HttpRequest) -> str | None:
    """Log out; returns the address a federated login left for after logout, if any."""
    after = request.session.get(LOGOUT_REDIRECT_KEY)
    if request.session.session_key:
        AccountSession.objects.filter(session_key=request.session.session_key).delete()
    logout(request)
    return str(after) if after else None


def session_keep_after_password_change(request: HttpRequest, account: Account) -> None:
    """Keep this session logged in after its password changed (Django rotates its key) and listed."""
    old_key = request.session.session_key
    update_session_auth_hash(request, account)
    if old_key:
        AccountSession.objects.filter(session_key=old_key).update(session_key=request.session.session_key)


# Sent by sessions_end before it deletes the sessions, with `account` and `keep` (the session left
# open, or None): single sign-on ends what those sessions gave the services (OpenID Connect tokens),
# without the accounts app knowing any protocol.
sessions_ending = Signal()


def sessions_end(account: Account, *, keep: str | None = None) -> int:
    """End every session of the account except `keep`; returns how many ended."""
    sessions_ending.send(sender=Account, account=account, keep=keep)
    rows = AccountSession.objects.filter(account=account).exclude(session_key=keep or "")
    store = _store()
    ended = 0
    for row in rows:
        store(session_key=row.session_key).delete()
        ended += 1
    rows.delete()
    return ended
