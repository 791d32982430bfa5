"""Opening and ending sessions: Django's login (key rotation) plus the account's list of sessions."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.utils.module_loading import import_string

from trousseau.accounts.models import Account, AccountSession
from trousseau.core.http import client_ip


def _store() -> type[SessionBase]:
    store: type[SessionBase] = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    return store


def session_open(request: HttpRequest, account: Account) -> None:
    """Log in (Django rotates the session key) and remember the session for the account page."""
    login(request, account, backend="trousseau.accounts.backends.AccountBackend")
    if request.session.session_key is None:
        request.session.save()
    AccountSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "account": account,
            "ip_address": client_ip(request) or None,
            "user_agent": request.headers.get("User-Agent", "")[:200],
        },
    )


def session_close(request: HttpRequest) -> None:
    if request.session.session_key:
        AccountSession.objects.filter(session_key=request.session.session_key).delete()
    logout(request)


def sessions_end(account: Account, *, keep: str | None = None) -> int:
    """End every session of the account except `keep`; returns how many ended."""
    rows = AccountSession.objects.filter(account=account).exclude(session_key=keep or "")
    store = _store()
    ended = 0
    for row in rows:
        store(session_key=row.session_key).delete()
        ended += 1
    rows.delete()
    return ended
