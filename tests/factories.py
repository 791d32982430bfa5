"""Directory and account rows for tests, built through the same services the demo uses."""

from __future__ import annotations

from datetime import date
from typing import Any

from trousseau.accounts.models import Account, ActivationLetter
from trousseau.accounts.services import account_create_for_guardian, account_create_for_pupil, letter_issue
from trousseau.directory.models import Guardian, Guardianship, Pupil, School, SchoolLevel

_counter = [0]


def _next() -> int:
    _counter[0] += 1
    return _counter[0]


def school(**kw: Any) -> School:
    n = _next()
    defaults = {"uai": f"{n:07d}X", "name": f"Collège {n}", "level": SchoolLevel.COLLEGE, "academie": "Normandie"}
    return School.objects.create(**{**defaults, **kw})


def pupil(**kw: Any) -> Pupil:
    n = _next()
    defaults: dict[str, Any] = {
        "ine": f"{n:09d}AA",
        "last_name": "Dupont",
        "first_name": "Léa",
        "birth_date": date(2012, 3, 14),
        "class_name": "5e B",
    }
    if "school" not in kw:
        defaults["school"] = school()
    return Pupil.objects.create(**{**defaults, **kw})


def guardian(*, children: list[Pupil] | None = None, **kw: Any) -> Guardian:
    defaults = {"last_name": "Dupont", "first_name": "Sophie", "mobile": "+33612345678"}
    g = Guardian.objects.create(**{**defaults, **kw})
    for child in children if children is not None else [pupil()]:
        Guardianship.objects.create(guardian=g, pupil=child)
    return g


def guardian_account(**kw: Any) -> tuple[Account, ActivationLetter, str]:
    """A provisional guardian account with a valid letter; returns the letter's clear password."""
    account = account_create_for_guardian(guardian=guardian(**kw))
    letter, password = letter_issue(account=account)
    return account, letter, password


def pupil_account(**kw: Any) -> tuple[Account, ActivationLetter, str]:
    account = account_create_for_pupil(pupil=pupil(**kw))
    letter, password = letter_issue(account=account)
    return account, letter, password


GOOD_PASSWORD = "Cartable#Violet42"


def activation_form(account: Account, **overrides: str) -> dict[str, str]:
    """What a family posts on the activation page: a good password twice, the first child's birth date, no
    email; `overrides` change one field."""
    data = {
        "password": GOOD_PASSWORD,
        "password_confirm": GOOD_PASSWORD,
        "birth_date": account.known_birth_dates()[0].isoformat(),
        "email": "",
    }
    return {**data, **overrides}
