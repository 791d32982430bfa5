"""Delivery runs as background tasks (django-tasks), so a slow gateway never holds a request."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django_tasks import task

from trousseau.notifications.sms import get_backend


@task()
def deliver_email(to: str, subject: str, body: str) -> None:
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])


@task()
def deliver_sms(to: str, body: str) -> None:
    get_backend().send(to=to, body=body)
