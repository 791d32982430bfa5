from __future__ import annotations

from django.utils import timezone

from tests import factories
from trousseau.accounts.models import Account, AccountState


def active_guardian(*, sub: str | None = None, password: bool = True, **kw) -> Account:
    """An active guardian account (Sophie Dupont, +33612345678 and one child unless told otherwise)."""
    account, _, _ = factories.guardian_account(**kw)
    account.state = AccountState.ACTIVE
    account.activated_at = timezone.now()
    account.franceconnect_sub = sub
    if password:
        account.set_password(factories.GOOD_PASSWORD)
    account.save()
    return account
