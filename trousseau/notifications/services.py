"""What other apps call to notify someone; messages are French templates."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from trousseau.notifications.tasks import deliver_email, deliver_sms


def send_email(*, to: str, subject: str, template: str, context: dict[str, Any]) -> None:
    body = render_to_string(template, context)
    deliver_email.enqueue(to, subject, body)


def send_sms(*, to: str, body: str) -> None:
    deliver_sms.enqueue(to, body)
