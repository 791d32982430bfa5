"""What the relying party keeps in the browser's (server-side) session between redirects.

The pending authorization requests (state -> nonce, where to go next), a few at most and 30 minutes at
most, each usable once; the ID token of a FranceConnect login, kept for the whole session because
FranceConnect needs it as `id_token_hint` at logout (it has expired by then, which is expected); and the
signed `state` of a logout, which tells the return page what it is coming back from.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.contrib.sessions.backends.base import SessionBase
from django.core import signing
from django.http import HttpRequest

from trousseau.accounts.models import Account
from trousseau.accounts.sessions import LOGOUT_REDIRECT_KEY, session_open
from trousseau.franceconnect import client
from trousseau.franceconnect.client import AuthorizationRequest
from trousseau.franceconnect.errors import FranceConnectError

PENDING_KEY = "franceconnect_pending"
ID_TOKEN_KEY = "franceconnect_id_token"  # noqa: S105 - a session key name
MAX_PENDING = 5
PENDING_LIFESPAN = 30 * 60
LOGOUT_SALT = "trousseau.franceconnect.logout"
LOGOUT_LIFESPAN = 24 * 3600


@dataclass(frozen=True)
class Pending:
    state: str
    nonce: str
    next_url: str


def pending_add(session: SessionBase, request: AuthorizationRequest, *, next_url: str) -> None:
    now = int(time.time())
    entries = {
        state: entry for state, entry in session.get(PENDING_KEY, {}).items() if now - entry["at"] < PENDING_LIFESPAN
    }
    entries[request.state] = {"nonce": request.nonce, "next": next_url, "at": now}
    session[PENDING_KEY] = dict(sorted(entries.items(), key=lambda item: item[1]["at"])[-MAX_PENDING:])


def pending_pop(session: SessionBase, state: str) -> Pending | None:
    """The pending request of this state, removed so that a replayed callback finds nothing."""
    entries = dict(session.get(PENDING_KEY, {}))
    entry = entries.pop(state, None) if state else None
    session[PENDING_KEY] = entries
    if entry is None or int(time.time()) - entry["at"] >= PENDING_LIFESPAN:
        return None
    return Pending(state, entry["nonce"], entry["next"])


def logout_state(purpose: str) -> str:
    return signing.dumps({"purpose": purpose}, salt=LOGOUT_SALT, compress=True)


def logout_purpose(state: str) -> str | None:
    try:
        data = signing.loads(state, salt=LOGOUT_SALT, max_age=LOGOUT_LIFESPAN)
    except signing.BadSignature:
        return None
    return str(data.get("purpose")) if isinstance(data, dict) else None


def open_login(request: HttpRequest, account: Account, id_token: str) -> None:
    """Log in, keeping FranceConnect's ID token for the logout at both ends."""
    session_open(request, account)
    request.session[ID_TOKEN_KEY] = id_token
    try:
        after = client.logout_url(id_token=id_token, state=logout_state("logout"))
    except FranceConnectError:
        return  # FranceConnect unreachable now: our logout still works, theirs times out on its own
    request.session[LOGOUT_REDIRECT_KEY] = after
