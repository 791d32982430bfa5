"""Identifiers of the form `initial.nom` + digits, as ÉduConnect hands them out (`j.dupont12`)."""

from __future__ import annotations

import secrets

from trousseau.accounts.models import Account
from trousseau.core.text import fold

MAX_NAME_LENGTH = 20


def identifier_base(first_name: str, last_name: str) -> str:
    initial = fold(first_name)[:1] or "x"
    name = fold(last_name)[:MAX_NAME_LENGTH] or "eleve"
    return f"{initial}.{name}"


def new_identifier(first_name: str, last_name: str) -> str:
    """A free identifier; digits are drawn, not counted, so they say nothing about other accounts."""
    base = identifier_base(first_name, last_name)
    for digits in (2, 2, 2, 3, 3, 4, 4, 5, 6):
        candidate = f"{base}{secrets.randbelow(10**digits):0{digits}d}"
        if not Account.objects.filter(identifier=candidate).exists():
            return candidate
    msg = f"no free identifier for {base}"
    raise RuntimeError(msg)


def normalize_identifier(raw: str) -> str:
    """What people type: stray spaces and capitals are forgiven."""
    return raw.strip().lower()[:64]
