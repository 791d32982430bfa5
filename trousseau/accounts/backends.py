"""Session loading only: passwords are checked by `accounts.authentication`, with throttling."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest

from trousseau.accounts.models import Account, AccountState


class AccountBackend(BaseBackend):
    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        # Never authenticates by itself: every password check goes through throttling and audit.
        return None

    def get_user(self, user_id: int) -> Account | None:
        return Account.objects.filter(pk=user_id, state=AccountState.ACTIVE).first()
