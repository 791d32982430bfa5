"""SIECLE's and ONDE's rows as the `Record`s rows.py checks (columns named as docs/import-format.md names them).

SIECLE's identifiers go under `SOURCE_ID`, a value no CSV column can fill (rows.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from django.utils.translation import gettext

from trousseau.directory.importers.onde import OndeLink, OndePupil
from trousseau.directory.importers.reading import Record
from trousseau.directory.importers.report import RowError
from trousseau.directory.importers.rows import GUARDIANS, SOURCE_ID
from trousseau.directory.importers.siecle import SiecleGuardian, SiecleLink, SieclePupil

ErrorSink = Callable[[RowError], None]


def pupil_record(pupil: SieclePupil) -> Record:
    values = {
        "INE": pupil.ine,
        "NOM": pupil.last_name,
        "PRENOM": pupil.first_name,
        "DATE_NAISS": pupil.birth_date_text,
        "CLASSE": pupil.class_name,
        "UAI": pupil.uaj,
        SOURCE_ID: pupil.source_id,
    }
    return Record(line=pupil.line, values=values)


def guardian_records(
    rows: Iterable[SiecleGuardian | SiecleLink],
    ine_of: dict[str, str],
    errors: ErrorSink,
    *,
    unknown_left: bool = False,
) -> Iterator[Record]:
    """One record per link, keyed by PERSONNE_ID.

    `ine_of` maps ELEVE_ID to the INE of each present pupil, and to "" for a pupil who left (their links
    are dropped, as a departure drops them). A link to an ELEVE_ID absent from the pupils is a row error,
    unless `unknown_left` (read against the directory, which never had the pupils who left before).
    People are kept until their links are read (one school's people).
    """
    people: dict[str, SiecleGuardian] = {}
    for row in rows:
        if isinstance(row, SiecleGuardian):
            people[row.source_id] = row
            continue
        ine = ine_of.get(row.pupil_source_id, "" if unknown_left else None)
        if ine is None:
            msg = gettext("Élève ELEVE_ID %(id)s absent du fichier des élèves.") % {"id": row.pupil_source_id[:20]}
            errors(RowError(GUARDIANS, row.line, "ELEVE_ID", msg))
            continue
        person = people.get(row.guardian_source_id)
        if not ine or person is None:  # a pupil who left; a person listed after the links (checked in the survey)
            continue
        values = {
            "ID_RESPONSABLE": person.source_id,
            "NOM": person.last_name,
            "PRENOM": person.first_name,
            "TEL_PORTABLE": person.mobile,
            "COURRIEL": person.email,
            "INE_ELEVE": ine,
            "RESP_LEGAL": row.legal,
            "LIEN": row.kinship,
            SOURCE_ID: person.source_id,
        }
        yield Record(line=row.line, values=values)


def pupil_record_onde(pupil: OndePupil, uai: str) -> Record:
    values = {
        "INE": pupil.ine,
        "NOM": pupil.last_name,
        "PRENOM": pupil.first_name,
        "DATE_NAISS": pupil.birth_date_text,
        "CLASSE": pupil.class_name,
        "UAI": uai,
    }
    return Record(line=pupil.line, values=values)


def link_record(link: OndeLink, key: str = "") -> Record:
    """ONDE names no guardian: the directory keys them by names, or by names and a child for namesakes."""
    g = link.guardian
    values = {
        "ID_RESPONSABLE": key,
        "NOM": g.last_name,
        "PRENOM": g.first_name,
        "TEL_PORTABLE": g.mobile,
        "COURRIEL": g.email,
        "INE_ELEVE": link.ine,
        "RESP_LEGAL": "",
        "LIEN": "",
    }
    return Record(line=g.line, values=values)
