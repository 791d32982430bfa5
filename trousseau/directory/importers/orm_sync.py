"""Sync of checked rows into the directory with the ORM: a plan first (read only), then batched writes.

The plan is the dry-run preview: the counts it reports are the writes `apply` would make. Used by the
web path on any database and by the command line on SQLite; on PostgreSQL the command line uses
provisioning/pg_sync.py (COPY into staging tables, then set-based upserts) with the same meaning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import F

from trousseau.core.text import fold
from trousseau.directory.importers.batches import BATCH, chunked
from trousseau.directory.importers.report import (
    MAX_NAMED_DEPARTURES,
    Arrival,
    Change,
    Departure,
    ImportResult,
    PhoneConflict,
)
from trousseau.directory.importers.rows import GUARDIANS, PUPILS, GuardianRow, PupilRow
from trousseau.directory.models import Guardian, Guardianship, Pupil

PUPIL_FIELDS = ("last_name", "first_name", "birth_date", "class_name", "school_id", "source_id")
GUARDIAN_FIELDS = ("last_name", "first_name", "mobile", "email", "source_id")


@dataclass
class PupilPlan:
    create: list[Pupil] = field(default_factory=list)
    update: list[Pupil] = field(default_factory=list)
    moved: dict[int, int] = field(default_factory=dict)  # pupil id -> new school id
    transfers: list[tuple[str, int, int]] = field(default_factory=list)  # INE, from school, to school
    returned: list[int] = field(default_factory=list)
    departed: list[int] = field(default_factory=list)
    stale_links: list[int] = field(default_factory=list)


def plan_pupils(rows: Sequence[PupilRow], scope: set[int], *, departures: bool, result: ImportResult) -> PupilPlan:
    plan = PupilPlan()
    by_ine = {r.ine: r for r in rows}
    existing: dict[str, Pupil] = {}
    for ines in chunked(list(by_ine)):
        existing.update((p.ine, p) for p in Pupil.objects.filter(ine__in=ines))
    for row in rows:
        pupil = existing.get(row.ine)
        if pupil is None:
            plan.create.append(
                Pupil(
                    ine=row.ine,
                    last_name=row.last_name,
                    first_name=row.first_name,
                    birth_date=row.birth_date,
                    class_name=row.class_name,
                    school_id=row.school_id,
                    source_id=row.source_id,
                )
            )
            result.pupils.created += 1
            result.name_arrival(Arrival(PUPILS, row.last_name, row.first_name, row.class_name))
        else:
            _plan_known_pupil(plan, pupil, row, result)
    if departures:
        _plan_departures(plan, scope, set(by_ine), result)
    for chunk in chunked(plan.departed):
        plan.stale_links.extend(Guardianship.objects.filter(pupil_id__in=chunk).values_list("pk", flat=True))
    for chunk in chunked(sorted(plan.moved)):
        # Another school's guardian records do not follow a pupil who changed school.
        links = Guardianship.objects.filter(pupil_id__in=chunk, guardian__school__isnull=False)
        for pk, pupil_id, school_id in links.values_list("pk", "pupil_id", "guardian__school_id"):
            if school_id != plan.moved[pupil_id]:
                plan.stale_links.append(pk)
    result.links_removed += len(plan.stale_links)
    return plan


def _plan_departures(plan: PupilPlan, scope: set[int], listed: set[str], result: ImportResult) -> None:
    """The scope's present pupils the file does not list leave; the first ones are named for the preview."""
    present = Pupil.objects.filter(school_id__in=scope, left_at=None).order_by("last_name", "first_name", "pk")
    columns = present.values_list("pk", "ine", "last_name", "first_name", "class_name")
    for pk, ine, last_name, first_name, class_name in columns.iterator(chunk_size=BATCH):
        result.pupils_present += 1
        if ine in listed:
            continue
        plan.departed.append(pk)
        if len(result.leaving) < MAX_NAMED_DEPARTURES:
            result.leaving.append(Departure(last_name, first_name, class_name))
    result.pupils.left = len(plan.departed)


def _plan_known_pupil(plan: PupilPlan, pupil: Pupil, row: PupilRow, result: ImportResult) -> None:
    counts = result.pupils
    wanted = (row.last_name, row.first_name, row.birth_date, row.class_name, row.school_id, row.source_id)
    if tuple(getattr(pupil, f) for f in PUPIL_FIELDS) == wanted and pupil.left_at is None:
        counts.unchanged += 1
        return
    _name_changes(result, PUPILS, pupil, row.class_name, wanted)
    if pupil.school_id != row.school_id:
        plan.moved[pupil.pk] = row.school_id
        plan.transfers.append((pupil.ine, pupil.school_id, row.school_id))
    if pupil.left_at is not None:
        plan.returned.append(pupil.pk)
        counts.returned += 1
    else:
        counts.updated += 1
    for name, value in zip(PUPIL_FIELDS, wanted, strict=True):
        setattr(pupil, name, value)
    pupil.left_at = None
    plan.update.append(pupil)


def apply_pupils(plan: PupilPlan, *, now: datetime) -> None:
    Pupil.objects.bulk_create(plan.create, batch_size=BATCH)
    Pupil.objects.bulk_update(plan.update, [*PUPIL_FIELDS, "left_at"], batch_size=BATCH)
    for chunk in chunked(plan.departed):
        Pupil.objects.filter(pk__in=chunk).update(left_at=now)
    for chunk in chunked(plan.stale_links):
        Guardianship.objects.filter(pk__in=chunk).delete()


@dataclass
class GuardianPlan:
    create: list[Guardian] = field(default_factory=list)
    update: list[Guardian] = field(default_factory=list)
    returned: list[int] = field(default_factory=list)
    departed: list[int] = field(default_factory=list)
    # Wanted links (INE -> legal representative) by (school id, key) for new guardians, by id for the others.
    new_links: dict[tuple[int, str], dict[str, bool]] = field(default_factory=dict)
    links: dict[int, dict[str, bool]] = field(default_factory=dict)
    link_delete: list[int] = field(default_factory=list)
    link_update: list[Guardianship] = field(default_factory=list)
    link_create: list[tuple[int, str, bool]] = field(default_factory=list)


def _legacy_key(guardian: Guardian) -> str:
    return f"nom:{fold(guardian.last_name)[:50]}|{fold(guardian.first_name)[:50]}"


def known_guardians(scope: set[int]) -> tuple[dict[tuple[int, str], Guardian], set[int]]:
    """The scope's guardian records by (school, key), and the ids of older rows adopted by their names."""
    known: dict[tuple[int, str], Guardian] = {}
    for g in Guardian.objects.filter(school_id__in=scope).exclude(source_key=""):
        known[(g.school_id or 0, g.source_key)] = g
    adopted = adoptable_guardians(scope, lambda key: key in known)
    known.update(((g.school_id or 0, g.source_key), g) for g in adopted)
    return known, {g.pk for g in adopted}


def adoptable_guardians(scope: set[int], taken: Callable[[tuple[int, str]], bool]) -> list[Guardian]:
    """Rows made before imports (by hand, by the demo), given the school and key an import would use.

    They have no school nor key: the first import that names the same person for a pupil of theirs
    takes them over instead of making a second record. Unsaved: the caller writes them.
    """
    adopted: dict[tuple[int, str], Guardian] = {}
    legacy = Guardian.objects.filter(source_key="", guardianships__pupil__school_id__in=scope).annotate(
        pupil_school=F("guardianships__pupil__school_id")
    )
    seen: set[int] = set()
    for old in legacy.order_by("pk"):
        school_id: int = old.pupil_school
        key = (school_id, _legacy_key(old))
        if key not in adopted and old.pk not in seen and not taken(key):
            old.school_id, old.source_key = school_id, key[1]
            adopted[key] = old
            seen.add(old.pk)
    return list(adopted.values())


def plan_guardians(  # noqa: PLR0913 - the rows, the scope, then keyword-only options
    rows: Sequence[GuardianRow],
    scope: set[int],
    *,
    departures: bool,
    leaving_pupils: Sequence[int],
    result: ImportResult,
    file_mobiles: frozenset[int] = frozenset(),
    class_of: Mapping[str, str] | None = None,
) -> GuardianPlan:
    """`file_mobiles`: guardians whose console-corrected mobile gives way to the file's; the others keep it.

    `class_of` (INE -> class) places each guardian in their first child's class for the preview.
    """
    plan = GuardianPlan()
    known, adopted = known_guardians(scope)
    people: dict[tuple[int, str], GuardianRow] = {}
    wanted_links: dict[tuple[int, str], dict[str, bool]] = {}
    for row in rows:
        people.setdefault((row.school_id, row.key), row)
        wanted_links.setdefault((row.school_id, row.key), {})[row.ine] = row.legal
    for person, row in people.items():
        guardian = known.get(person)
        class_name = (class_of or {}).get(row.ine, "")
        if guardian is None:
            plan.create.append(
                Guardian(
                    school_id=row.school_id,
                    source_key=row.key,
                    last_name=row.last_name,
                    first_name=row.first_name,
                    mobile=row.mobile,
                    email=row.email,
                    source_id=row.source_id,
                )
            )
            plan.new_links[person] = wanted_links[person]
            result.guardians.created += 1
            result.name_arrival(Arrival(GUARDIANS, row.last_name, row.first_name, class_name, bool(row.mobile)))
            continue
        plan.links[guardian.pk] = wanted_links[person]
        mobile = _mobile(guardian, row, file_mobiles, result)
        if not mobile:
            result.name_without_mobile(Arrival(GUARDIANS, row.last_name, row.first_name, class_name, mobile=False))
        wanted = (row.last_name, row.first_name, mobile, row.email, row.source_id)
        _plan_known_guardian(plan, guardian, wanted, result, class_name, adopted=guardian.pk in adopted)
    if departures:
        plan.departed = [g.pk for k, g in known.items() if k not in people and g.left_at is None]
        result.guardians.left = len(plan.departed)
    _plan_links(plan, departures=departures, leaving_pupils=set(leaving_pupils), result=result)
    return plan


def _plan_known_guardian(  # noqa: PLR0913 - the plan, the record, what the file wants, then options
    plan: GuardianPlan,
    guardian: Guardian,
    wanted: tuple[str, ...],
    result: ImportResult,
    class_name: str,
    *,
    adopted: bool,
) -> None:
    counts = result.guardians
    same = tuple(getattr(guardian, f) for f in GUARDIAN_FIELDS) == wanted
    if not same:
        _name_changes(result, GUARDIANS, guardian, class_name, wanted)
    if guardian.left_at is not None:
        plan.returned.append(guardian.pk)
        counts.returned += 1
    elif same:
        counts.unchanged += 1
        if not adopted:
            return
    else:
        counts.updated += 1
    for name, value in zip(GUARDIAN_FIELDS, wanted, strict=True):
        setattr(guardian, name, value)
    guardian.left_at = None
    plan.update.append(guardian)


# The fields a preview shows changing, by the column names of docs/import-format.md (None: not shown).
PUPIL_COLUMNS_SHOWN = ("NOM", "PRENOM", "DATE_NAISS", "CLASSE", None, None)
GUARDIAN_COLUMNS_SHOWN = ("NOM", "PRENOM", "TEL_PORTABLE", "COURRIEL", None)


def _name_changes(
    result: ImportResult, kind: str, record: Pupil | Guardian, class_name: str, wanted: tuple[object, ...]
) -> None:
    """Each shown field that differs, old -> new, named by the record's current names."""
    fields, columns = (
        (PUPIL_FIELDS, PUPIL_COLUMNS_SHOWN) if kind == PUPILS else (GUARDIAN_FIELDS, GUARDIAN_COLUMNS_SHOWN)
    )
    for name, column, new in zip(fields, columns, wanted, strict=True):
        old = getattr(record, name)
        if column is not None and old != new:
            result.name_change(
                Change(kind, record.last_name, record.first_name, class_name, column, _shown(old), _shown(new))
            )


def _shown(value: object) -> str:
    return value.strftime("%d/%m/%Y") if isinstance(value, date) else str(value or "")


def _mobile(guardian: Guardian, row: GuardianRow, file_mobiles: frozenset[int], result: ImportResult) -> str:
    """The mobile to keep: the file's, unless staff corrected it in the console and did not choose the file's."""
    if guardian.mobile_fixed_at is None or guardian.mobile == row.mobile:
        return row.mobile
    result.phone_conflicts.append(
        PhoneConflict(guardian.pk, guardian.last_name, guardian.first_name, guardian.mobile, row.mobile)
    )
    if guardian.pk not in file_mobiles:
        return guardian.mobile
    result.phones_from_file += 1
    guardian.mobile_fixed_at = None  # the school chose the file: later imports follow it again
    return row.mobile


def _plan_links(plan: GuardianPlan, *, departures: bool, leaving_pupils: set[int], result: ImportResult) -> None:
    existing: set[tuple[int, str]] = set()
    for chunk in chunked(sorted({*plan.links, *plan.departed})):
        for link in Guardianship.objects.filter(guardian_id__in=chunk).select_related("pupil"):
            existing.add((link.guardian_id, link.pupil.ine))
            wanted = plan.links.get(link.guardian_id, {})
            if link.pupil.ine not in wanted:
                if departures and link.pupil_id not in leaving_pupils:  # those are counted with the pupil
                    plan.link_delete.append(link.pk)
            elif link.is_legal_representative != wanted[link.pupil.ine]:
                link.is_legal_representative = wanted[link.pupil.ine]
                plan.link_update.append(link)
    for guardian_id, links in plan.links.items():
        plan.link_create.extend(
            (guardian_id, ine, legal) for ine, legal in links.items() if (guardian_id, ine) not in existing
        )
    result.links_created += len(plan.link_create) + sum(len(v) for v in plan.new_links.values())
    result.links_updated += len(plan.link_update)
    result.links_removed += len(plan.link_delete)


def apply_guardians(plan: GuardianPlan, *, now: datetime) -> None:
    ines = sorted({ine for _, ine, _ in plan.link_create} | {i for links in plan.new_links.values() for i in links})
    pupil_ids: dict[str, int] = {}
    for part in chunked(ines):
        pupil_ids.update(Pupil.objects.filter(ine__in=part).values_list("ine", "pk"))
    made = Guardian.objects.bulk_create(plan.create, batch_size=BATCH)
    Guardian.objects.bulk_update(
        plan.update, [*GUARDIAN_FIELDS, "left_at", "school", "source_key", "mobile_fixed_at"], batch_size=BATCH
    )
    for chunk in chunked(plan.departed):
        Guardian.objects.filter(pk__in=chunk).update(left_at=now)
    for chunk in chunked(plan.link_delete):
        Guardianship.objects.filter(pk__in=chunk).delete()
    Guardianship.objects.bulk_update(plan.link_update, ["is_legal_representative"], batch_size=BATCH)
    new = [
        Guardianship(guardian_id=g, pupil_id=pupil_ids[ine], is_legal_representative=legal)
        for g, ine, legal in plan.link_create
    ]
    for guardian in made:
        links = plan.new_links[(guardian.school_id, guardian.source_key)]  # type: ignore[index]
        new.extend(
            Guardianship(guardian_id=guardian.pk, pupil_id=pupil_ids[ine], is_legal_representative=legal)
            for ine, legal in links.items()
        )
    Guardianship.objects.bulk_create(new, batch_size=BATCH)
