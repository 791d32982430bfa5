"""The row checks that compare rows with each other, done by PostgreSQL on the staging tables.

Duplicated INEs, the pupil a guardian row names (the pupils file's, or the directory's present pupils),
a guardian met again with other details, a link named twice: rows.py checks them with dictionaries,
which grow with the file; here they are GROUP BYs and joins on the staged rows, so the import's memory
stays flat. Same rules, same French messages and lines: the first row (in the order the files were read)
wins, every later one is refused with "déjà ligne N". `Positions` puts the errors found here back in the
order the rows were read, among those found row by row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from trousseau.directory.importers.report import MAX_REPORTED_ERRORS, ImportResult, RowError
from trousseau.directory.importers.rows import (
    GUARDIANS,
    PUPILS,
    duplicate_ine_message,
    inconsistent_message,
    link_twice_message,
    unknown_pupil_message,
)
from trousseau.provisioning.sql import execute, fetch

T = TypeVar("T")
R = TypeVar("R")


class Positions:
    """Where each reported error was met in the stream of rows (result.rows), and the errors found in SQL."""

    def __init__(self, result: ImportResult) -> None:
        self.result = result
        self.known: list[float] = []  # one per error in result.errors
        self.found: list[tuple[float, RowError]] = []

    def wrap(self, check: Callable[[T], R]) -> Callable[[T], R]:
        def checked(record: T) -> R:
            self._mark(self.result.rows - 0.5)  # errors of the reader, met before this row
            row = check(record)
            self._mark(self.result.rows)
            return row

        return checked

    @property
    def row(self) -> int:
        return self.result.rows

    def _mark(self, position: float) -> None:
        missing = len(self.result.errors) - len(self.known)
        if missing > 0:
            self.known.extend([position] * missing)

    def add(self, position: int, error: RowError) -> None:
        self.found.append((position, error))

    def merge(self) -> None:
        """The errors found in SQL among the others, in reading order; the first 1 000 kept, all counted."""
        self._mark(self.result.rows + 0.5)
        if not self.found:
            return
        merged = sorted([*zip(self.known, self.result.errors, strict=True), *self.found], key=lambda p: p[0])
        self.result.errors[:] = [error for _, error in merged[:MAX_REPORTED_ERRORS]]
        self.result.error_count += len(self.found)
        self.known = [position for position, _ in merged[:MAX_REPORTED_ERRORS]]
        self.found = []


def refuse_duplicate_pupils(positions: Positions) -> None:
    """An INE met again: the later rows are refused (rows.PupilChecker's rule)."""
    refused = fetch(
        """SELECT s.pos, s.line, f.line, s.first_name, s.last_name FROM stage_pupil s
             JOIN (SELECT DISTINCT ON (ine) ine, pos, line FROM stage_pupil ORDER BY ine, pos) f USING (ine)
            WHERE s.pos <> f.pos"""
    )
    for pos, line, first, *names in refused:
        positions.add(pos, RowError(PUPILS, line, "INE", duplicate_ine_message(first), _who(*names)))
    if refused:
        execute("DELETE FROM stage_pupil WHERE pos = ANY(%s)", [[pos for pos, *_ in refused]])
    execute("CREATE UNIQUE INDEX ON stage_pupil (ine)")


def resolve_pupils(positions: Positions, *, staged: bool, school_id: int | None) -> None:
    """Each guardian row takes the school of the pupil it names: the pupils file's, else a present pupil's."""
    if staged:
        execute("UPDATE stage_guardian g SET school_id = p.school_id FROM stage_pupil p WHERE p.ine = g.ine")
    else:
        execute(
            """UPDATE stage_guardian g SET school_id = p.school_id FROM directory_pupil p
                WHERE p.ine = g.ine AND p.left_at IS NULL AND (%s::bigint IS NULL OR p.school_id = %s)""",
            [school_id, school_id],
        )
    refused = fetch("SELECT pos, line, ine, first_name, last_name FROM stage_guardian WHERE school_id IS NULL")
    for pos, line, ine, *names in refused:
        positions.add(pos, RowError(GUARDIANS, line, "INE_ELEVE", unknown_pupil_message(ine), _who(*names)))
    if refused:
        execute("DELETE FROM stage_guardian WHERE school_id IS NULL")


def refuse_guardian_conflicts(positions: Positions) -> None:
    """A guardian met again with other details, then a link named twice (rows.GuardianChecker's rules)."""
    refused = fetch(
        """SELECT s.pos, s.line, f.line, s.key LIKE 'nom:%%', s.first_name, s.last_name FROM stage_guardian s
             JOIN (SELECT DISTINCT ON (school_id, key) * FROM stage_guardian ORDER BY school_id, key, pos) f
               USING (school_id, key)
            WHERE (s.last_name, s.first_name, s.mobile, s.email)
                  IS DISTINCT FROM (f.last_name, f.first_name, f.mobile, f.email)"""
    )
    for pos, line, first, by_name, *names in refused:
        field = "TEL_PORTABLE" if by_name else "ID_RESPONSABLE"
        message = inconsistent_message(first, by_name=by_name)
        positions.add(pos, RowError(GUARDIANS, line, field, message, _who(*names)))
    if refused:
        execute("DELETE FROM stage_guardian WHERE pos = ANY(%s)", [[pos for pos, *_ in refused]])
    twice = fetch(
        """SELECT s.pos, s.line, f.line, s.first_name, s.last_name FROM stage_guardian s
             JOIN (SELECT DISTINCT ON (school_id, key, ine) school_id, key, ine, pos, line FROM stage_guardian
                    ORDER BY school_id, key, ine, pos) f USING (school_id, key, ine)
            WHERE s.pos <> f.pos"""
    )
    for pos, line, first, *names in twice:
        positions.add(pos, RowError(GUARDIANS, line, "INE_ELEVE", link_twice_message(first), _who(*names)))
    if twice:
        execute("DELETE FROM stage_guardian WHERE pos = ANY(%s)", [[pos for pos, *_ in twice]])


def _who(first_name: str, last_name: str) -> str:
    """The row's person as rows.py names them in its own errors."""
    return f"{first_name} {last_name.upper()}".strip()[:80]
