"""Run `transaction.on_commit` hooks in `django_db` tests as they would run in production.

pytest-django wraps each test in a transaction that is rolled back, never committed, so commit hooks
would never run and nothing queued by `notifications.services` would be sent. `install` treats the
test's own transaction as autocommit: a hook runs as soon as no atomic block opened by the code under
test is left, exactly when production would commit; a block that rolls back still drops its hooks.
Unlike `django_capture_on_commit_callbacks(execute=True)`, this needs no change in each test and runs
the hooks before the test's next line, not when a context manager exits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

import pytest
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.transaction import Atomic

logger = logging.getLogger("django.db.backends.base")


def _run_ready_hooks(connection: BaseDatabaseWrapper) -> None:
    if not connection.in_atomic_block or connection.needs_rollback:
        return
    # Django marks the atomic blocks a TestCase opens; any other open block is the code's own.
    if not all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks):
        return
    while connection.run_on_commit:
        # django-stubs still describe the entries as pairs; Django 5 stores (savepoints, func, robust).
        _savepoints, func, robust = cast("tuple[set[str], Callable[[], object], bool]", connection.run_on_commit.pop(0))
        if not robust:
            func()
            continue
        try:
            func()
        except Exception:
            logger.exception("Error calling %r in on_commit()", func)


def install(monkeypatch: pytest.MonkeyPatch) -> None:
    original_on_commit = BaseDatabaseWrapper.on_commit
    original_exit = Atomic.__exit__

    def on_commit(self: BaseDatabaseWrapper, func: Any, robust: bool = False) -> None:
        original_on_commit(self, func, robust)
        _run_ready_hooks(self)

    def exit_atomic(self: Atomic, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        original_exit(self, exc_type, exc_value, traceback)
        _run_ready_hooks(transaction.get_connection(self.using))

    monkeypatch.setattr(BaseDatabaseWrapper, "on_commit", on_commit)
    monkeypatch.setattr(Atomic, "__exit__", exit_atomic)
