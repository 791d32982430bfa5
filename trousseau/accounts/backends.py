"""Session loading only: passwords are checked by `accounts.authentication`, with throttling."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest

from trousseau.accounts.models import Account, AccountState
from trousseau.core.prepared import Prepared

# Every request of a logged-in browser loads its account: the query compiled once (core/prepared.py).
# The probe is no account's key (they count up from 1).
_active_account = Prepared(Account, lambda pk: Account.objects.filter(pk=pk, state=AccountState.ACTIVE), -(2**62))


class AccountBackend(BaseBackend):
    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        # Never authenticates by itself: every password check goes through throttling and audit.
        return None

    def get_user(self, user_id: int) -> Account | None:
        """The active account `user_id` (the session's), or None: disabled accounts lose their sessions."""
        return _active_account.first(user_id)
