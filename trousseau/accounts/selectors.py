"""Reads for the account pages."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, F, OuterRef

from trousseau.accounts.models import Account, AccountKind, ContestedLink
from trousseau.directory.models import Guardianship, Pupil


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


def pupils_for_claims(account: Account) -> list[Pupil]:
    """`account.pupils()` as the claims read them, in one query: oldest first, with their school and
    `child_account_id`, the pk of the pupil's own account (None for a child without one).

    The same rows as `Account.pupils()` (a guardian's legal-representative links, contested ones left
    out), written with EXISTS rather than IN and DISTINCT: this runs on every single sign-on.
    """
    if account.kind == AccountKind.PUPIL:
        rows = Pupil.objects.filter(account=account)
    else:
        contested = ContestedLink.objects.filter(guardianship=OuterRef("pk"), resolved_at=None)
        links = Guardianship.objects.filter(
            pupil=OuterRef("pk"), guardian__account_link__account=account, is_legal_representative=True
        ).filter(~Exists(contested))
        rows = Pupil.objects.filter(Exists(links))
    annotated = rows.select_related("school").annotate(child_account_id=F("account__pk"))
    return list(annotated.order_by("birth_date", "pk"))
