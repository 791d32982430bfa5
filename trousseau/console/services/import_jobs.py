"""Checks and imports run by a background worker (django-tasks), followed on a page that polls them.

A school's files can hold tens of thousands of rows, more than a web request should wait for: the
upload only saves the files and queues a job, and the worker runs the dry run or the import
(`services.imports`). The `ImportJob` row is the state every web process sees (queued, running, done,
refused), written before and after the import's own transaction. While it runs, the rows read go
through the cache instead: the import is one transaction, whose writes no other connection sees
before it ends. With a shared cache (REDIS_URL) any web process shows them; with the local-memory
cache of a one-process demo, where the immediate task backend runs the job inside the request, the
page simply finds it finished.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext

from trousseau.console.models import ImportJob, ImportJobAction, ImportJobState, PendingImport, StaffMember
from trousseau.console.scoping import require_action
from trousseau.console.services import imports
from trousseau.core import cache as best_effort
from trousseau.directory.models import School
from trousseau.provisioning.services import (
    ImportProgress,
    ImportResult,
    ProgressCallback,
    result_from_json,
    result_to_json,
)

logger = logging.getLogger(__name__)
JOB_LIFESPAN = timedelta(days=7)
PROGRESS_TTL = 6 * 3600
PROGRESS_INTERVAL = 0.5  # seconds between two progress writes: a cache round trip per 1000 rows at most


def _progress_key(job_id: uuid.UUID) -> str:
    return f"console:import-job:{job_id}"


def start_check(*, staff: StaffMember, school: School, files: PendingImport, ip: str | None) -> ImportJob:
    """Keep the uploaded files and queue their dry run."""
    require_action(staff)
    imports.discard_stale()
    ImportJob.objects.filter(created_at__lt=timezone.now() - JOB_LIFESPAN).delete()
    files.staff, files.school = staff, school
    files.save()
    return _queue(ImportJob(staff=staff, school=school, pending=files, action=ImportJobAction.CHECK, ip=ip))


def start_apply(
    *,
    staff: StaffMember,
    school: School,
    pending: PendingImport,
    ip: str | None,
    confirmation: dict[str, Any] | None = None,
) -> ImportJob:
    """Queue the import of files that a check found without error, with what the person confirmed."""
    require_action(staff)
    pending.confirmation = confirmation or {}
    pending.save(update_fields=["confirmation"])
    return _queue(ImportJob(staff=staff, school=school, pending=pending, action=ImportJobAction.APPLY, ip=ip))


def _queue(job: ImportJob) -> ImportJob:
    from trousseau.console.tasks import run_import_job  # noqa: PLC0415 - the task module imports this one

    job.save()
    # With a queue the worker sees the job once this transaction commits; the immediate backend
    # (demo, tests) runs it here and now.
    run_import_job.enqueue(str(job.pk))
    job.refresh_from_db()
    return job


def run(job_id: uuid.UUID) -> None:
    """The worker's side: claim the job once, run it, record how it ended."""
    claimed = ImportJob.objects.filter(pk=job_id, state=ImportJobState.QUEUED).update(
        state=ImportJobState.RUNNING, started_at=timezone.now()
    )
    if claimed != 1:
        return  # run already (a task delivered twice) or gone
    job = ImportJob.objects.select_related("staff", "school", "pending").get(pk=job_id)
    try:
        result = _run(job)
    except imports.ImportRefused as exc:
        _finish(job, ImportJobState.REFUSED, error=exc.message)
    except Exception:
        logger.exception("import job %s failed", job.pk)
        _finish(job, ImportJobState.REFUSED, error=gettext("L'import a échoué : rien n'a été enregistré."))
        raise
    else:
        _finish(job, ImportJobState.DONE, result=result)


def _run(job: ImportJob) -> ImportResult:
    pending = job.pending
    if pending is None:  # confirmed twice, or the check expired: the first confirmation did it
        raise imports.ImportRefused(gettext("Cet import a déjà été appliqué, ou sa vérification a expiré."))
    reporter = _reporter(job.pk)
    if job.action == ImportJobAction.CHECK:
        return imports.check(staff=job.staff, school=job.school, pending=pending, ip=job.ip, progress=reporter)
    return imports.apply(staff=job.staff, school=job.school, pending=pending, ip=job.ip, progress=reporter)


def _finish(job: ImportJob, state: str, *, result: ImportResult | None = None, error: str = "") -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        state=state,
        result=result_to_json(result) if result is not None else None,
        error=error,
        finished_at=timezone.now(),
    )
    best_effort.forget(_progress_key(job.pk))


def _reporter(job_id: uuid.UUID) -> ProgressCallback:
    last = 0.0

    def report(progress: ImportProgress) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < PROGRESS_INTERVAL and progress.phase != "termine":
            return
        last = now
        value = {"phase": progress.phase, "rows": progress.rows, "fraction": progress.fraction}
        best_effort.keep(_progress_key(job_id), value, PROGRESS_TTL)

    return report


def job_for(staff: StaffMember, school: School, job_id: uuid.UUID) -> ImportJob | None:
    """A job of this staff member at this school (another's is not found, as with pending imports)."""
    return ImportJob.objects.filter(pk=job_id, staff=staff, school=school).select_related("pending").first()


def status(job: ImportJob) -> dict[str, Any]:
    """What the following page shows and polls: state, phase, rows read, fraction of the bytes."""
    progress: dict[str, Any] = best_effort.cached(_progress_key(job.pk)) or {}
    return {
        "state": job.state,
        "finished": job.finished,
        "phase": progress.get("phase", ""),
        "rows": int(progress.get("rows", 0)),
        "fraction": progress.get("fraction"),
    }


def result_of(job: ImportJob) -> ImportResult | None:
    return result_from_json(job.result) if job.result is not None else None
