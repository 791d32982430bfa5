"""Background work of the console: the checks and imports of school records (`services.import_jobs`).

The task carries the job's id only; the `ImportJob` row is the truth, and a task delivered twice
finds the job already claimed.
"""

from __future__ import annotations

import uuid

from django_tasks import task


@task()
def run_import_job(job_id: str) -> None:
    from trousseau.console.services import import_jobs  # noqa: PLC0415 - it queues this task

    import_jobs.run(uuid.UUID(job_id))
