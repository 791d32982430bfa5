"""Reads for the account pages."""

from __future__ import annotations

from typing import Any

from trousseau.accounts.models import Account, AccountKind


def account_overview(account: Account) -> dict[str, Any]:
    """Who I am, and my children (guardian) or my school (pupil), in one query per list."""
    pupils = list(account.pupils().select_related("school").order_by("last_name", "first_name"))
    return {
        "account": account,
        "is_guardian": account.kind == AccountKind.GUARDIAN,
        "children": pupils if account.kind == AccountKind.GUARDIAN else [],
        "school": pupils[0].school if account.kind == AccountKind.PUPIL and pupils else None,
        "class_name": pupils[0].class_name if account.kind == AccountKind.PUPIL and pupils else "",
    }
