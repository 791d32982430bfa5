"""Delivery runs as a background task (django-tasks), so a slow gateway never holds a request.

The task only carries a `Delivery` id: the row is the source of truth, and `deliver_pending` finds
whatever a task could not finish (gateway down, worker gone, queue lost).
"""

from __future__ import annotations

from django_tasks import task

from trousseau.notifications import delivery


@task()
def deliver(delivery_id: int) -> None:
    claimed = delivery.claim(delivery_id)
    if claimed is None:
        return  # already sent, failed for good, or being sent by another worker
    outcome = delivery.attempt(claimed)
    # A queue that can hold a task until a given time retries by itself; with the immediate backend
    # (no such queue) the retry waits for `deliver_pending`, which finds the row by its due time.
    if outcome.retry_at is not None and deliver.get_backend().supports_defer:
        deliver.using(run_after=outcome.retry_at).enqueue(delivery_id)
