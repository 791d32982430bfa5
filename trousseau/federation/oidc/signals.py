"""What the OpenID Connect provider does when the accounts app ends sessions (a password change or
reset, "se déconnecter partout", an account grouped or disabled): the tokens the clients got in those
sessions are revoked with the change, and the clients hear of it by back-channel once it is committed."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import receiver

from trousseau.accounts.models import Account
from trousseau.accounts.sessions import sessions_ending
from trousseau.federation.oidc import logout


@receiver(sessions_ending)
def end_their_tokens(sender: Any, *, account: Account, keep: str | None, **kwargs: Any) -> None:
    messages = logout.end_other_sessions_at_clients(account=account, keep=keep)
    if messages:
        # No HTTP inside the caller's transaction (it holds the account's row lock).
        transaction.on_commit(lambda: logout.send_logout_messages(account, messages))
