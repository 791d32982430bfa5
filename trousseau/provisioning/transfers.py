"""Pupils who change school, and the departures of a complete list (issue #15, findings 1 and 12).

A school's own import never takes a pupil who is present in another school: the INE alone does not
prove the pupil changed school, and taking them would hand their account to the wrong staff. The
origin school lets them go first (its complete list no longer has them), or the académie's command
line, which sees both schools, moves them. Every move is written to the journal of both schools.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.utils.translation import gettext, ngettext

from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.directory.importers.batches import chunked
from trousseau.directory.importers.report import (
    DepartureGuard,
    DeparturesNotConfirmed,
    ImportResult,
    RowError,
)
from trousseau.directory.importers.rows import PUPILS, PupilRow, SchoolRef
from trousseau.directory.models import Pupil, School

# The console journal lists this tag for both schools of a move.
TAG_TRANSFERRED = EventTag.DIRECTORY_PUPIL_TRANSFERRED


def enrolled_elsewhere_message() -> str:
    return gettext("Élève inscrit dans un autre établissement : l'établissement d'origine doit d'abord le radier.")


def present_elsewhere(school: SchoolRef, ines: Sequence[str]) -> set[str]:
    """The INEs among `ines` of pupils present (not left) in a school other than `school`."""
    found: set[str] = set()
    for chunk in chunked(list(ines)):
        query = Pupil.objects.filter(ine__in=chunk, left_at=None).exclude(school_id=school.id)
        found.update(query.values_list("ine", flat=True))
    return found


def refuse_foreign_pupils(
    school: SchoolRef, rows: list[PupilRow], result: ImportResult, ine_school: dict[str, int]
) -> list[PupilRow]:
    """The rows a school's import may take; the others are refused rows (and guardians may not name them)."""
    elsewhere = present_elsewhere(school, [r.ine for r in rows])
    if not elsewhere:
        return rows
    kept: list[PupilRow] = []
    for row in rows:
        if row.ine in elsewhere:
            who = f"{row.first_name} {row.last_name.upper()}"
            result.add_error(RowError(PUPILS, row.line, "INE", enrolled_elsewhere_message(), who))
            ine_school.pop(row.ine, None)
        else:
            kept.append(row)
    return kept


def audit_transfers(moves: Sequence[tuple[str, int, int]], *, actor: str) -> None:
    """One event for the school the pupil left and one for the school they joined: (INE, from, to)."""
    if not moves:
        return
    uai = dict(School.objects.filter(pk__in={s for _, a, b in moves for s in (a, b)}).values_list("pk", "uai"))
    events = []
    for ine, origin, destination in moves:
        data = {"pupil": ine, "from": uai.get(origin, ""), "to": uai.get(destination, ""), "actor": actor}
        events.append(AuditEvent(tag=TAG_TRANSFERRED, data={**data, "school": data["from"], "direction": "out"}))
        events.append(AuditEvent(tag=TAG_TRANSFERRED, data={**data, "school": data["to"], "direction": "in"}))
    AuditEvent.objects.bulk_create(events, batch_size=1000)


def share_limit() -> float:
    limit: float = settings.IMPORT_DEPARTURE_SHARE_LIMIT
    return limit


def large_departure(result: ImportResult) -> bool:
    """More than IMPORT_DEPARTURE_SHARE_LIMIT of the school's pupils would leave: the share is confirmed too."""
    return result.departure_share > share_limit()


def check_departures(guard: DepartureGuard | None, result: ImportResult) -> None:
    """Before anything is kept: the departures are those the person confirmed, or nothing happens.

    Raises DeparturesNotConfirmed (the import's transaction is then rolled back).
    """
    if guard is None:  # the command line: the académie's operator syncs complete lists
        return
    pupils, guardians = result.pupils.left, result.guardians.left
    if (pupils, guardians) != (guard.pupils_left, guard.guardians_left):
        message = ngettext(
            "Cet import retirerait %(pupils)d élève et %(guardians)d responsable(s) : confirmez ce nombre "
            "sur la page de vérification. Rien n'a été importé.",
            "Cet import retirerait %(pupils)d élèves et %(guardians)d responsable(s) : confirmez ce nombre "
            "sur la page de vérification. Rien n'a été importé.",
            pupils,
        ) % {"pupils": pupils, "guardians": guardians}
        raise DeparturesNotConfirmed(message)
    if large_departure(result) and not guard.share_confirmed:
        message = gettext(
            "Cet import retirerait %(percent)d %% des élèves de l'établissement : confirmez cette part "
            "sur la page de vérification. Rien n'a été importé."
        ) % {"percent": result.departure_percent}
        raise DeparturesNotConfirmed(message)
