"""Django's database sessions, without writing the same data twice in one request.

A login saves its session inside the transaction that also settles the throttling counters and
writes the audit event (`trousseau.accounts.sessions.session_open`), so that one commit covers all
of it; Django's session middleware then saves the session again at the end of the response, which
here writes nothing when the data and the key are those this request already wrote and committed. A request that
changes the session after that save (or never saved it) writes as Django's own store does.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import transaction


class SessionStore(DatabaseSessionStore):
    def __init__(self, session_key: str | None = None, **kwargs: Any) -> None:
        super().__init__(session_key, **kwargs)
        self._written: tuple[str, bytes] | None = None  # (key, serialized data) this object last wrote

    def _state(self) -> tuple[str, bytes] | None:
        if self.session_key is None:
            return None
        return self.session_key, self.serializer().dumps(dict(self.items()))

    def save(self, must_create: bool = False) -> None:  # noqa: FBT001, FBT002 - Django's signature
        if not must_create and self._written is not None and self._written == self._state():
            return
        super().save(must_create=must_create)
        self._written = None
        state = self._state()

        # Known as written only once committed: a save rolled back with its transaction is made again.
        def committed() -> None:
            self._written = state

        transaction.on_commit(committed)

    def delete(self, session_key: str | None = None) -> None:
        super().delete(session_key)
        self._written = None
