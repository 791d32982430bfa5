"""Several `deliver_pending` workers on one PostgreSQL database share the backlog and never double-send."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from trousseau.notifications.delivery import deliver_due
from trousseau.notifications.models import Channel, Delivery, DeliveryState

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks (SKIP LOCKED) need PostgreSQL"),
]

WORKERS = 4
MESSAGES = 40


def test_concurrent_workers_send_each_message_exactly_once(http_gateway):
    http_gateway.delay = 0.01  # each send takes a while, so the workers overlap
    Delivery.objects.bulk_create(
        Delivery(channel=Channel.SMS, recipient=f"+336000000{i:02d}", body=f"message {i}") for i in range(MESSAGES)
    )
    start = threading.Barrier(WORKERS)
    totals: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            totals.append(deliver_due(limit=5))
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    sent = Counter(request.json()["to"] for request in http_gateway.requests)
    assert len(sent) == MESSAGES
    assert set(sent.values()) == {1}
    assert sum(total["sent"] for total in totals) == MESSAGES
    assert sum(1 for total in totals if total["sent"]) > 1  # the backlog was shared, not taken by one
    assert set(Delivery.objects.values_list("state", "attempts")) == {(DeliveryState.SENT, 1)}
