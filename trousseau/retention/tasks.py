"""The purge as a django-tasks task, for a deployment that schedules work through its task queue
rather than a CronJob calling `manage.py purge_expired`."""

from __future__ import annotations

from django_tasks import task

from trousseau.retention.services import purge_expired


@task()
def purge_expired_task() -> dict[str, int]:
    return purge_expired()
