"""School records imports from the console: check (dry run) first, then apply what was checked.

The import itself is `trousseau.provisioning.services.import_records` (docs/import-format.md): one
transaction, nothing written when a row is refused, the same file twice changes nothing.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from trousseau.audit.events import EventTag
from trousseau.console.audit import staff_audit
from trousseau.console.models import PendingImport, StaffMember
from trousseau.console.scoping import require_action
from trousseau.directory.importers.reading import too_large_message
from trousseau.directory.models import School
from trousseau.provisioning.services import (
    ADDITIONS,
    COMPLETE,
    DepartureGuard,
    ImportFileError,
    ImportResult,
    ImportTooLarge,
    ProgressCallback,
    import_records,
    large_departure,
)

PENDING_LIFESPAN = timedelta(hours=1)
MODES = (ADDITIONS, COMPLETE)
_DEPARTURES = re.compile(r"^([0-9]{1,9})-([0-9]{1,9})$")


class ImportRefused(Exception):
    """The file cannot be read at all (format, encoding, size): nothing was imported."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.too_large = too_large


def _read(upload: UploadedFile | None) -> bytes | None:
    if upload is None:
        return None
    cap: int = settings.IMPORT_MAX_UPLOAD_BYTES
    if upload.size is not None and upload.size > cap:
        raise ImportTooLarge(too_large_message(cap))
    return b"".join(upload.chunks())


def _run(  # noqa: PLR0913 - the import's options, all keyword-only
    pupils: bytes | None,
    guardians: bytes | None,
    *,
    school: School,
    dry_run: bool,
    actor: str,
    progress: ProgressCallback | None,
    mode: str,
    names: Mapping[str, Any],
    confirmation: Mapping[str, Any] | None = None,
) -> ImportResult:
    """The import; a real one (`confirmation` given) keeps only the departures the person confirmed."""
    guard, file_mobiles = None, frozenset[int]()
    if confirmation is not None:
        guard = DepartureGuard(
            pupils_left=int(confirmation.get("pupils_left", 0)),
            guardians_left=int(confirmation.get("guardians_left", 0)),
            share_confirmed=bool(confirmation.get("share", False)),
        )
        file_mobiles = frozenset(int(g) for g in confirmation.get("file_mobiles", []))
    return import_records(
        pupils=_named(pupils, names.get("pupils_name", "")),
        guardians=_named(guardians, names.get("guardians_name", "")),
        school=school,
        dry_run=dry_run,
        actor=actor,
        progress=progress,
        mode=mode if mode in MODES else ADDITIONS,
        guard=guard,
        file_mobiles=file_mobiles,
    )


def _named(data: bytes | None, name: str) -> io.BytesIO | None:
    """The saved upload with the name it was sent under: a refusal names the file the person chose."""
    if data is None:
        return None
    upload = io.BytesIO(data)
    upload.name = name
    return upload


def confirmation_from(data: Mapping[str, str]) -> dict[str, Any]:
    """What the preview's confirmation form says, as primitives kept with the pending import.

    `departs` ("<pupils>-<guardians>", the numbers the person confirmed by ticking the box that names
    them), `part` (a large share of the school leaving, confirmed), `tel_<guardian id>` ("fichier": the
    file's mobile replaces the one corrected in the console). Anything else reads as "not confirmed".
    """
    found = _DEPARTURES.match(str(data.get("departs", "")))
    pupils_left, guardians_left = (int(found.group(1)), int(found.group(2))) if found else (0, 0)
    file_mobiles = sorted(
        int(key[4:])
        for key, value in data.items()
        if key.startswith("tel_") and key[4:].isdigit() and value == "fichier"
    )
    return {
        "pupils_left": pupils_left,
        "guardians_left": guardians_left,
        "share": data.get("part") == "oui",
        "file_mobiles": file_mobiles,
    }


def _summary(result: ImportResult) -> dict[str, Any]:
    data = result.as_dict()
    data.pop("encodings", None)
    data.pop("mode", None)  # the pending import's own, in _names
    return data


def read_uploads(
    *, pupils: UploadedFile | None, guardians: UploadedFile | None, mode: str = ADDITIONS
) -> PendingImport:
    """The uploaded files, not yet saved: ImportRefused when one is over the cap (nothing kept)."""
    try:
        pupils_bytes, guardians_bytes = _read(pupils), _read(guardians)
    except ImportFileError as exc:
        raise ImportRefused(str(exc), too_large=isinstance(exc, ImportTooLarge)) from exc
    return PendingImport(
        pupils=pupils_bytes,
        guardians=guardians_bytes,
        pupils_name=((pupils.name if pupils else "") or "")[:200],
        guardians_name=((guardians.name if guardians else "") or "")[:200],
        mode=mode if mode in MODES else ADDITIONS,
    )


def _names(pending: PendingImport) -> dict[str, Any]:
    return {"pupils_name": pending.pupils_name, "guardians_name": pending.guardians_name, "mode": pending.mode}


def check(
    *, staff: StaffMember, school: School, pending: PendingImport, ip: str | None, progress: ProgressCallback | None
) -> ImportResult:
    """Dry run of saved files; they are kept for the confirmation only when no row was refused.

    Raises ImportRefused when a file cannot be read at all.
    """
    require_action(staff)
    names = _names(pending)
    pupils = bytes(pending.pupils) if pending.pupils is not None else None
    guardians = bytes(pending.guardians) if pending.guardians is not None else None
    try:
        result = _run(
            pupils,
            guardians,
            school=school,
            dry_run=True,
            actor=f"console:{staff.email}",
            progress=progress,
            mode=pending.mode,
            names=names,
        )
    except ImportFileError as exc:
        pending.delete()
        staff_audit(EventTag.CONSOLE_IMPORT_REFUSED, staff=staff, school=school, ip=ip, error=str(exc), **names)
        raise ImportRefused(str(exc), too_large=isinstance(exc, ImportTooLarge)) from exc
    staff_audit(EventTag.CONSOLE_IMPORT_PREVIEWED, staff=staff, school=school, ip=ip, **names, **_summary(result))
    if not result.ok:
        pending.delete()
    return result


def share_limit_percent() -> int:
    """Above this share of the school's pupils leaving, the preview asks for the share to be confirmed."""
    return round(100 * settings.IMPORT_DEPARTURE_SHARE_LIMIT)


def asks_share(result: ImportResult) -> bool:
    """Whether the preview asks for the share to be confirmed: the very test the real import applies."""
    return large_departure(result)


def discard_stale() -> None:
    PendingImport.objects.filter(created_at__lt=timezone.now() - PENDING_LIFESPAN).delete()


def refuse_too_large(*, staff: StaffMember, school: School, declared: str, ip: str | None) -> str:
    """An upload over the cap, refused before it was read: audited; returns the message to show."""
    message = too_large_message(settings.IMPORT_MAX_UPLOAD_BYTES)
    staff_audit(
        EventTag.CONSOLE_IMPORT_REFUSED, staff=staff, school=school, ip=ip, error=message, declared_bytes=declared
    )
    return message


def pending_for(staff: StaffMember, school: School, pending_id: uuid.UUID) -> PendingImport | None:
    return PendingImport.objects.filter(
        pk=pending_id, staff=staff, school=school, created_at__gte=timezone.now() - PENDING_LIFESPAN
    ).first()


def apply(
    *, staff: StaffMember, school: School, pending: PendingImport, ip: str | None, progress: ProgressCallback | None
) -> ImportResult:
    """Import what was checked; the directory may have changed meanwhile, so the rows are checked again."""
    require_action(staff)
    with transaction.atomic():
        locked = PendingImport.objects.select_for_update().filter(pk=pending.pk).first()
        if locked is None:  # confirmed twice (two tabs, a double click): the first one did it
            raise ImportRefused(gettext("Cet import a déjà été appliqué, ou sa vérification a expiré."))
        names = _names(locked)
        mode, confirmation = locked.mode, dict(locked.confirmation or {})
        pupils = bytes(locked.pupils) if locked.pupils is not None else None
        guardians = bytes(locked.guardians) if locked.guardians is not None else None
        locked.delete()
    try:
        result = _run(
            pupils,
            guardians,
            school=school,
            dry_run=False,
            actor=f"console:{staff.email}",
            progress=progress,
            mode=mode,
            names=names,
            confirmation=confirmation,
        )
    except ImportFileError as exc:
        staff_audit(EventTag.CONSOLE_IMPORT_REFUSED, staff=staff, school=school, ip=ip, error=str(exc), **names)
        raise ImportRefused(str(exc)) from exc
    tag = EventTag.CONSOLE_IMPORT_APPLIED if result.applied else EventTag.CONSOLE_IMPORT_REFUSED
    staff_audit(tag, staff=staff, school=school, ip=ip, **names, **_summary(result))
    return result
