"""Accounts for the rows an import brings, made in bulk; state changes for those who leave or return.

Accounts are born provisional with an unusable password and no letter: letters are issued later, on
demand (trousseau/letters/pdf.py), not for millions of rows at import time.
"""

from __future__ import annotations

import math
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q

from trousseau.accounts.identifiers import identifier_base
from trousseau.accounts.models import Account, AccountGuardian, AccountKind, AccountState, ActivationLetter
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.directory.importers.batches import BATCH, chunked
from trousseau.directory.models import Guardian, Guardianship, Pupil, SchoolLevel

MAX_DIGITS = 9

# Audit tags of this module (free text: AuditEvent.tag has no choices).
TAG_DISABLED = "account:import:disabled"
TAG_ENABLED = "account:import:enabled"


def unusable_password() -> str:
    """What `set_unusable_password` stores, drawn faster for millions of rows (no hashing either way)."""
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_hex(20)


def allocate_identifiers(names: Sequence[tuple[str, str]]) -> list[str]:
    """One free `initial.nom` + digits identifier per (first name, last name), with no query per row.

    Each round draws a candidate for every row still waiting, then asks the database in batches which
    are taken; a crowded base (many `l.martin` in one import) starts with more digits.
    """
    known: dict[tuple[str, str], str] = {}  # names repeat: fold each pair once
    bases = [known.get(pair) or known.setdefault(pair, identifier_base(*pair)) for pair in names]
    crowd = Counter(bases)
    chosen: list[str | None] = [None] * len(bases)
    pending = list(range(len(bases)))
    taken: set[str] = set()
    attempt = 0
    while pending:
        candidates: dict[str, int] = {}
        digits_of = {
            base: min(MAX_DIGITS, max(2 + attempt // 2, math.ceil(math.log10(4 * count + 1))))
            for base, count in crowd.items()
        }
        for i in pending:
            digits = digits_of[bases[i]]
            candidate = f"{bases[i]}{secrets.randbelow(10**digits):0{digits}d}"
            if candidate not in taken and candidate not in candidates:
                candidates[candidate] = i
        existing: set[str] = set()
        for chunk in chunked(list(candidates)):
            existing.update(Account.objects.filter(identifier__in=chunk).values_list("identifier", flat=True))
        for candidate, i in candidates.items():
            if candidate not in existing:
                chosen[i] = candidate
                taken.add(candidate)
        pending = [i for i in pending if chosen[i] is None]
        attempt += 1
        if attempt > 20:  # noqa: PLR2004 (nine digits leave a billion per base: never reached)
            msg = "no free identifiers left"
            raise RuntimeError(msg)
    return [c for c in chosen if c is not None]


def pupils_without_account(school_ids: Iterable[int]) -> list[tuple[int, str, str]]:
    """Pupils of these schools who are present, in a collège or lycée, and have no account yet."""
    return list(
        Pupil.objects.filter(school_id__in=list(school_ids), left_at=None)
        .exclude(school__level=SchoolLevel.ECOLE)
        .filter(account__isnull=True)
        .order_by("pk")
        .values_list("pk", "first_name", "last_name")
    )


def guardians_without_account(school_ids: Iterable[int]) -> list[tuple[int, str, str]]:
    """Guardian records of these schools, present, legal representative of a pupil, with no account yet."""
    legal = Guardianship.objects.filter(guardian=OuterRef("pk"), is_legal_representative=True)
    return list(
        Guardian.objects.filter(school_id__in=list(school_ids), left_at=None, account_link__isnull=True)
        .filter(Exists(legal))
        .order_by("pk")
        .values_list("pk", "first_name", "last_name")
    )


def create_accounts(
    pupils: Sequence[tuple[int, str, str]], guardians: Sequence[tuple[int, str, str]], *, now: datetime
) -> int:
    """Provisional accounts for these (id, first name, last name) rows; returns how many were made."""
    identifiers = allocate_identifiers([(f, last) for _, f, last in [*pupils, *guardians]])
    pupil_ids, guardian_ids = identifiers[: len(pupils)], identifiers[len(pupils) :]
    if connection.vendor == "postgresql":
        from trousseau.provisioning.copy import copy_accounts  # noqa: PLC0415 (PostgreSQL only)

        copy_accounts(pupils, pupil_ids, guardians, guardian_ids, now=now)
        return len(identifiers)
    for kind, rows, ids in ((AccountKind.PUPIL, pupils, pupil_ids), (AccountKind.GUARDIAN, guardians, guardian_ids)):
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            made = Account.objects.bulk_create(
                Account(
                    identifier=identifier,
                    kind=kind,
                    state=AccountState.PROVISIONAL,
                    first_name=first,
                    last_name=last,
                    pupil_id=row_id if kind == AccountKind.PUPIL else None,
                    password=unusable_password(),
                    created_at=now,
                )
                for (row_id, first, last), identifier in zip(batch, ids[start : start + BATCH], strict=True)
            )
            if kind == AccountKind.GUARDIAN:
                AccountGuardian.objects.bulk_create(
                    AccountGuardian(account_id=a.pk, guardian_id=row[0]) for a, row in zip(made, batch, strict=True)
                )
    return len(identifiers)


def rename_accounts(school_ids: Iterable[int], *, now: datetime) -> int:
    """Accounts of these schools take their records' names again when an import corrected them.

    The names are what services receive and what the next letter prints; the identifier, which the
    family logs in with, stays. A guardian account that speaks for several records (grouping) follows
    them only while they agree, so two schools spelling a name differently cannot rename it back and forth.
    Returns how many accounts were renamed; each one's history says so.
    """
    ids = list(school_ids)
    names: dict[int, set[tuple[str, str]]] = {}
    pupils = (
        Account.objects.filter(kind=AccountKind.PUPIL, pupil__school_id__in=ids)
        .exclude(first_name=F("pupil__first_name"), last_name=F("pupil__last_name"))
        .values_list("pk", "pupil__first_name", "pupil__last_name")
    )
    for pk, first, last in pupils.iterator(chunk_size=BATCH):
        names[pk] = {(first, last)}
    stale = (
        AccountGuardian.objects.filter(guardian__school_id__in=ids, guardian__left_at=None)
        .exclude(guardian__first_name=F("account__first_name"), guardian__last_name=F("account__last_name"))
        .values_list("account_id", flat=True)
        .distinct()
    )
    for chunk in chunked(sorted(set(stale))):
        present = AccountGuardian.objects.filter(account_id__in=chunk, guardian__left_at=None)
        for pk, first, last in present.values_list("account_id", "guardian__first_name", "guardian__last_name"):
            names.setdefault(pk, set()).add((first, last))
    renamed = [
        Account(pk=pk, first_name=first, last_name=last)
        for pk, pairs in names.items()
        if len(pairs) == 1
        for first, last in pairs
    ]
    Account.objects.bulk_update(renamed, ["first_name", "last_name"], batch_size=BATCH)
    AuditEvent.objects.bulk_create(
        (
            AuditEvent(
                tag=EventTag.ACCOUNT_RENAMED_BY_IMPORT,
                account_id=a.pk,
                data={"reason": "school_record"},
                created_at=now,
            )
            for a in renamed
        ),
        batch_size=BATCH,
    )
    return len(renamed)


def departing_accounts(pupil_ids: Sequence[int], guardian_ids: Sequence[int]) -> list[int]:
    """Accounts to disable: those of pupils who left, and guardian accounts left with no present record."""
    found: set[int] = set()
    for chunk in chunked(pupil_ids):
        found.update(Account.objects.filter(pupil_id__in=chunk).values_list("pk", flat=True))
    departing = set(guardian_ids)
    for chunk in chunked(guardian_ids):
        for account_id in AccountGuardian.objects.filter(guardian_id__in=chunk).values_list("account_id", flat=True):
            found.add(account_id)
    if departing:
        # A grouped account speaks for records of other schools too: it stays while one is present.
        staying = AccountGuardian.objects.filter(guardian__left_at=None).exclude(guardian_id__in=departing)
        for chunk in chunked(sorted(found)):
            found.difference_update(
                staying.filter(account_id__in=chunk, account__kind=AccountKind.GUARDIAN).values_list(
                    "account_id", flat=True
                )
            )
    usable = Q(state__in=[AccountState.PROVISIONAL, AccountState.ACTIVE])
    result: list[int] = []
    for chunk in chunked(sorted(found)):
        result.extend(Account.objects.filter(usable, pk__in=chunk).values_list("pk", flat=True))
    return result


def returning_accounts(pupil_ids: Sequence[int], guardian_ids: Sequence[int]) -> list[int]:
    """Disabled accounts of pupils or guardian records that come back (not those closed by grouping)."""
    found: list[int] = []
    closed = Q(state=AccountState.DISABLED, merged_into=None)
    for chunk in chunked(pupil_ids):
        found.extend(Account.objects.filter(closed, pupil_id__in=chunk).values_list("pk", flat=True))
    for chunk in chunked(guardian_ids):
        found.extend(Account.objects.filter(closed, guardian_links__guardian_id__in=chunk).values_list("pk", flat=True))
    return sorted(set(found))


def disable_accounts(account_ids: Sequence[int], *, now: datetime) -> None:
    for chunk in chunked(account_ids):
        Account.objects.filter(pk__in=chunk).update(state=AccountState.DISABLED)
        ActivationLetter.objects.filter(account_id__in=chunk, used_at=None, revoked_at=None).update(revoked_at=now)
        AuditEvent.objects.bulk_create(
            AuditEvent(tag=TAG_DISABLED, account_id=pk, data={"reason": "left_school"}, created_at=now) for pk in chunk
        )


def enable_accounts(account_ids: Sequence[int], *, now: datetime) -> None:
    """Back to the state before departure: active if it had been activated, provisional otherwise."""
    for chunk in chunked(account_ids):
        accounts = Account.objects.filter(pk__in=chunk)
        accounts.filter(activated_at__isnull=False).update(state=AccountState.ACTIVE)
        accounts.filter(activated_at__isnull=True).update(state=AccountState.PROVISIONAL)
        AuditEvent.objects.bulk_create(
            AuditEvent(tag=TAG_ENABLED, account_id=pk, data={"reason": "back_at_school"}, created_at=now)
            for pk in chunk
        )
