"""What an import tells the person who ran it: counts, row errors, progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext

# The report keeps the first errors only; `ImportResult.error_count` still counts them all.
MAX_REPORTED_ERRORS = 1000
# Pupils named in the list of those who would leave (the count is always whole).
MAX_NAMED_DEPARTURES = 2000

# What a file says it is: the school's complete list (who is absent leaves), or additions and
# changes only (nobody leaves). The console asks; the command line syncs complete lists.
COMPLETE, ADDITIONS = "complete", "additions"


class ImportFileError(Exception):
    """The file as a whole cannot be read (missing column, broken XML, too large): nothing was imported."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return gettext("Ligne %(line)d : %(message)s") % {"line": self.line, "message": self.message}


class ImportTooLarge(ImportFileError):
    """The upload is over IMPORT_MAX_UPLOAD_BYTES: académie-sized files go through `import_records`."""


class DeparturesNotConfirmed(ImportFileError):
    """The import would remove records the person did not confirm (their number, or a large share)."""


@dataclass(frozen=True, slots=True)
class DepartureGuard:
    """What the person confirmed for a complete list: how many leave, and whether a large share may."""

    pupils_left: int = 0
    guardians_left: int = 0
    share_confirmed: bool = False


@dataclass(frozen=True, slots=True)
class Departure:
    """A pupil a complete list would remove, as the preview names them."""

    last_name: str
    first_name: str
    class_name: str


@dataclass(frozen=True, slots=True)
class Arrival:
    """A pupil or guardian the import adds, as the preview names them (per class)."""

    kind: str  # "eleves" or "responsables"
    last_name: str
    first_name: str
    class_name: str  # a guardian's: their first child's in the file
    mobile: bool = True  # a guardian without one cannot activate by SMS ("Je n'ai pas de compte")


@dataclass(frozen=True, slots=True)
class Change:
    """One field of a known pupil or guardian that the import changes: old value -> new value."""

    kind: str
    last_name: str
    first_name: str
    class_name: str
    field: str  # the column as docs/import-format.md names it (NOM, CLASSE, TEL_PORTABLE…)
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class PhoneConflict:
    """A mobile corrected in the console that the file would change: the person chooses."""

    guardian: int
    last_name: str
    first_name: str
    console: str
    file: str


@dataclass(frozen=True, slots=True)
class RowError:
    """One refused row: `file` is "eleves" or "responsables", `field` the column ("" for the row)."""

    file: str
    line: int
    field: str
    reason: str
    who: str = ""  # the pupil or guardian the row names ("Éloïse TANGUY"), when the row says


@dataclass(slots=True)
class SyncCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    left: int = 0
    returned: int = 0


@dataclass(slots=True)
class ImportResult:
    """The outcome of an import or of its dry-run preview (`dry_run=True`: the counts it would make).

    Nothing is written when `error_count` is not zero, unless the import was asked to be `partial`:
    then the valid rows are applied and departures are not (a refused row must not look like a pupil
    who left), which `departures_skipped` says.
    """

    dry_run: bool
    pupils: SyncCounts = field(default_factory=SyncCounts)
    guardians: SyncCounts = field(default_factory=SyncCounts)
    links_created: int = 0
    links_updated: int = 0
    links_removed: int = 0
    accounts_created: int = 0
    accounts_disabled: int = 0
    accounts_enabled: int = 0
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    encodings: dict[str, str] = field(default_factory=dict)
    departures_skipped: bool = False
    applied: bool = False
    mode: str = COMPLETE
    pupils_present: int = 0  # present in the schools imported before it: the base of the departure share
    leaving: list[Departure] = field(default_factory=list)
    phone_conflicts: list[PhoneConflict] = field(default_factory=list)
    phones_from_file: int = 0
    # The preview's names (the first MAX_NAMED_DEPARTURES of each; the counts above stay whole).
    arriving: list[Arrival] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    without_mobile: list[Arrival] = field(default_factory=list)  # the file's guardians with no mobile
    # UAJ of the schools whose files and records were as their last import left them: not read again.
    left_out: list[str] = field(default_factory=list)

    def name_arrival(self, arrival: Arrival) -> None:
        if len(self.arriving) < MAX_NAMED_DEPARTURES:
            self.arriving.append(arrival)
        if arrival.kind == "responsables" and not arrival.mobile:
            self.name_without_mobile(arrival)

    def name_without_mobile(self, guardian: Arrival) -> None:
        if len(self.without_mobile) < MAX_NAMED_DEPARTURES:
            self.without_mobile.append(guardian)

    def name_change(self, change: Change) -> None:
        if len(self.changes) < MAX_NAMED_DEPARTURES:
            self.changes.append(change)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def departure_share(self) -> float:
        """The share of the school's present pupils this import removes (0 to 1)."""
        return self.pupils.left / self.pupils_present if self.pupils_present else 0.0

    @property
    def departure_percent(self) -> int:
        return round(100 * self.departure_share)

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)

    def as_dict(self) -> dict[str, object]:
        """Primitive values only: for the audit trail, a JSON answer or a task result."""
        return {
            "dry_run": self.dry_run,
            "applied": self.applied,
            "pupils": _counts(self.pupils),
            "guardians": _counts(self.guardians),
            "links": {"created": self.links_created, "updated": self.links_updated, "removed": self.links_removed},
            "accounts": {
                "created": self.accounts_created,
                "disabled": self.accounts_disabled,
                "enabled": self.accounts_enabled,
            },
            "rows": self.rows,
            "error_count": self.error_count,
            "encodings": dict(self.encodings),
            "departures_skipped": self.departures_skipped,
            "mode": self.mode,
            "pupils_present": self.pupils_present,
            "phone_conflicts": len(self.phone_conflicts),
            "phones_from_file": self.phones_from_file,
            "left_out": list(self.left_out),
        }


def result_to_json(result: ImportResult) -> dict[str, Any]:
    """The whole report, reported errors included, as JSON (kept with a background import job)."""
    return {
        **result.as_dict(),
        "errors": [asdict(error) for error in result.errors],
        "leaving": [asdict(d) for d in result.leaving],
        "phone_conflicts": [asdict(c) for c in result.phone_conflicts],
        "arriving": [asdict(a) for a in result.arriving],
        "changes": [asdict(c) for c in result.changes],
        "without_mobile": [asdict(a) for a in result.without_mobile],
    }


def result_from_json(data: dict[str, Any]) -> ImportResult:
    """The report that `result_to_json` kept, for the pages that show it."""
    links, accounts = data["links"], data["accounts"]
    return ImportResult(
        dry_run=data["dry_run"],
        pupils=SyncCounts(**data["pupils"]),
        guardians=SyncCounts(**data["guardians"]),
        links_created=links["created"],
        links_updated=links["updated"],
        links_removed=links["removed"],
        accounts_created=accounts["created"],
        accounts_disabled=accounts["disabled"],
        accounts_enabled=accounts["enabled"],
        rows=data["rows"],
        errors=[RowError(**error) for error in data.get("errors", [])],
        error_count=data["error_count"],
        encodings=dict(data.get("encodings", {})),
        departures_skipped=data["departures_skipped"],
        applied=data["applied"],
        mode=data.get("mode", COMPLETE),
        pupils_present=data.get("pupils_present", 0),
        leaving=[Departure(**d) for d in data.get("leaving", [])],
        phone_conflicts=[PhoneConflict(**c) for c in _listed(data.get("phone_conflicts"))],
        phones_from_file=data.get("phones_from_file", 0),
        arriving=[Arrival(**a) for a in _listed(data.get("arriving"))],
        changes=[Change(**c) for c in _listed(data.get("changes"))],
        without_mobile=[Arrival(**a) for a in _listed(data.get("without_mobile"))],
        left_out=list(data.get("left_out", [])),
    )


def _listed(value: Any) -> list[dict[str, Any]]:
    """The conflicts themselves (a job's JSON), not their count (the audit's summary)."""
    return value if isinstance(value, list) else []


def _counts(c: SyncCounts) -> dict[str, int]:
    return {
        "created": c.created,
        "updated": c.updated,
        "unchanged": c.unchanged,
        "left": c.left,
        "returned": c.returned,
    }


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """Reported every PROGRESS_EVERY rows and at each phase.

    `phase` is one of "eleves" and "responsables" (reading and checking that file), "ecriture" (applying)
    and "termine"; `bytes_total` is None when the size of the file is not known.
    """

    phase: str
    rows: int
    bytes_read: int
    bytes_total: int | None

    @property
    def fraction(self) -> float | None:
        if not self.bytes_total:
            return None
        return min(1.0, self.bytes_read / self.bytes_total)


ProgressCallback = Callable[[ImportProgress], None]
PROGRESS_EVERY = 1000
