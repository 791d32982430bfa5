"""A demo service's memory: browser sessions, requests awaiting their answer (SAML AuthnRequests and
LogoutRequests by RelayState, OpenID Connect authorization and logout requests by `state`), and
assertions or logout tokens already used.

One process keeps them in memory (a demo service restarts empty: its users log in again, through SSO).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

PENDING_SECONDS = 10 * 60
REPLAY_FLOOR_SECONDS = 10 * 60


@dataclass
class Session:
    id: str
    expires_at: float
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pending:
    """A request we sent (SAML AuthnRequest or LogoutRequest, OIDC authorization or logout), found again by
    its RelayState or state."""

    kind: str  # "login" or "logout"
    request_id: str
    expires_at: float
    data: dict[str, Any] = field(default_factory=dict)


class Store:
    def __init__(self, session_seconds: int) -> None:
        self.session_seconds = session_seconds
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._pending: dict[str, Pending] = {}
        self._used: dict[str, float] = {}

    # --- Sessions -----------------------------------------------------------------------------

    def open(self, data: dict[str, Any], *, not_after: float | None = None) -> Session:
        """A new session (a new id: never reuse the one the browser came with)."""
        expires = time.time() + self.session_seconds
        if not_after is not None:
            expires = min(expires, not_after)
        session = Session(secrets.token_urlsafe(32), expires, data)
        with self._lock:
            self._sessions[session.id] = session
        return session

    def session(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None and session.expires_at <= time.time():
                del self._sessions[session_id]
                return None
            return session

    def close(self, session_id: str | None) -> Session | None:
        with self._lock:
            return self._sessions.pop(session_id or "", None)

    def close_for(self, name_id: str, session_indexes: list[str]) -> int:
        """End the sessions of this NameID (only those of these SessionIndexes, if any are given)."""
        with self._lock:
            doomed = [
                sid
                for sid, s in self._sessions.items()
                if s.data.get("name_id") == name_id
                and (not session_indexes or s.data.get("session_index") in session_indexes)
            ]
            for sid in doomed:
                del self._sessions[sid]
            return len(doomed)

    def close_matching(self, key: str, value: str) -> int:
        """End every session whose data has `key` == `value` (an OpenID Connect `sid` or `sub`)."""
        with self._lock:
            doomed = [sid for sid, s in self._sessions.items() if value and s.data.get(key) == value]
            for sid in doomed:
                del self._sessions[sid]
            return len(doomed)

    # --- Requests awaiting an answer ----------------------------------------------------------

    @staticmethod
    def relay_state() -> str:
        """A fresh RelayState: the IdP sends it back untouched with the answer."""
        return secrets.token_urlsafe(24)

    def expect(self, kind: str, key: str, request_id: str, data: dict[str, Any] | None = None) -> None:
        """Remember a request under the RelayState (`key`) that will bring its answer back to it."""
        with self._lock:
            self._purge()
            self._pending[key] = Pending(kind, request_id, time.time() + PENDING_SECONDS, data or {})

    def answered(self, kind: str, relay_state: str | None) -> Pending | None:
        """The request this RelayState stands for, once: an answer cannot be used twice."""
        with self._lock:
            pending = self._pending.get(relay_state or "")
            if pending is None or pending.kind != kind:
                return None
            del self._pending[relay_state or ""]
            return pending if pending.expires_at > time.time() else None

    # --- Replay -------------------------------------------------------------------------------

    def first_use(self, assertion_id: str, not_on_or_after: float | None) -> bool:
        """True the first time an assertion is presented, False ever after (while it could be valid)."""
        now = time.time()
        until = max(not_on_or_after or 0, now + REPLAY_FLOOR_SECONDS)
        with self._lock:
            self._purge()
            if assertion_id in self._used:
                return False
            self._used[assertion_id] = until
            return True

    def _purge(self) -> None:
        now = time.time()
        for key in [k for k, p in self._pending.items() if p.expires_at <= now]:
            del self._pending[key]
        for key in [k for k, t in self._used.items() if t <= now]:
            del self._used[key]
