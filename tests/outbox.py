"""Reading the dev SMS outbox while a live server may be writing to it."""

from __future__ import annotations

from django.db import OperationalError

from trousseau.notifications.models import Channel, OutboxMessage


def sms_bodies(to: str) -> list[str]:
    """Every SMS sent to `to` (E.164), oldest first; [] when the read met the server's write.

    Some SMS leave after the response is sent (`core.after_response`), so a test may read while the live
    server's thread writes. SQLite's shared in-memory test database then fails the read at once with
    "database table is locked" instead of waiting; callers poll, so that read counts as "not yet".
    """
    rows = OutboxMessage.objects.filter(channel=Channel.SMS, to=to).order_by("created_at", "id")
    try:
        return [row.body for row in rows]
    except OperationalError as error:
        if "locked" not in str(error):
            raise
        return []
