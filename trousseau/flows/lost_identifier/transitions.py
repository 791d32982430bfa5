"""'Identifiant perdu': the identifier is sent to a verified email or to the mobile a school recorded.

Single step, no flow row: the answer is the same whether or not anything matched, and whether or not
a budget stopped the send (research/security.md §3.1, enumeration). The time of the answer is the same
too (issue #15 finding 10): the request only records the demand, identical for every destination,
and hands the rest to a task once committed and once the response is sent (`core.after_response`). The
task looks the destination up, passes the budgets and queues the message (`Delivery`, sent by its own
task after that commit): what differs between a match and a decoy happens where nobody waits for it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from django.conf import settings
from django.db import transaction
from django_tasks import task

from trousseau.accounts.recovery import active_accounts_with_verified_email, active_guardian_accounts_for_mobile
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.core import ratelimit, sealing
from trousseau.core.after_response import later
from trousseau.core.http import address_block
from trousseau.flows.steps import sms_budgets
from trousseau.notifications.services import send_email, send_sms

HOUR = timedelta(hours=1)
Channel = Literal["email", "sms"]
SEAL_PURPOSE = "flows.lost_identifier.destination"


def _allowed(destination: str, ip: str) -> bool:
    return ratelimit.consume_all(
        [
            (ratelimit.Budget("recovery:destination:hour", settings.SMS_PER_PHONE_PER_HOUR, HOUR), destination),
            (ratelimit.Budget("recovery:ip:hour", settings.SMS_PER_IP_PER_HOUR, HOUR), address_block(ip)),
        ]
    )


def _request(channel: Channel, destination: str, ip: str) -> None:
    """What the request does, the same whatever the destination: one audit row, then the task, later."""
    audit(EventTag.LOST_IDENTIFIER_REQUESTED, ip=ip, channel=channel)

    # The task's arguments are a row of the task queue in production (django_tasks_db): the phone or
    # email travels sealed, so the queue holds no family's contact in clear.
    sealed = sealing.seal(destination, purpose=SEAL_PURPOSE)

    # Named functions, not lambdas: Django and `later` log a failing hook by its __qualname__.
    def enqueue_reminder() -> None:
        send_identifier_reminder.enqueue(channel, sealed, ip)

    def hold_reminder_until_answered() -> None:
        later(enqueue_reminder)

    transaction.on_commit(hold_reminder_until_answered, robust=True)


def by_email(*, email: str, ip: str) -> None:
    """Send the identifiers of the active accounts that verified this email (a parent may have several)."""
    _request("email", email, ip)


def by_mobile(*, phone: str, ip: str) -> None:
    """Send by SMS the identifiers of the active guardian accounts whose records carry this mobile."""
    _request("sms", phone, ip)


@task()
def send_identifier_reminder(channel: Channel, sealed_destination: str, ip: str) -> None:
    """The part of the demand that depends on what matched: nothing, or the message queued and audited."""
    destination = sealing.unseal(sealed_destination, purpose=SEAL_PURPOSE)
    if channel == "email":
        _remind_by_email(destination, ip)
    else:
        _remind_by_mobile(destination, ip)


def _remind_by_email(email: str, ip: str) -> None:
    accounts = active_accounts_with_verified_email(email)
    if not accounts or not _allowed(email.lower(), ip):
        return
    with transaction.atomic():  # the message exists exactly when its audit rows do
        send_email(
            to=accounts[0].email,
            subject="Votre identifiant Trousseau",
            template="flows/lost_identifier/email.txt",
            context={"accounts": accounts},
        )
        for account in accounts:
            audit(EventTag.LOST_IDENTIFIER_SENT, account=account, ip=ip, channel="email")


def _remind_by_mobile(phone: str, ip: str) -> None:
    accounts = active_guardian_accounts_for_mobile(phone)
    if not accounts or not sms_budgets.allowed(phone, ip):
        return
    identifiers = ", ".join(a.identifier for a in accounts)
    with transaction.atomic():
        send_sms(to=phone, body=f"Trousseau : votre identifiant est {identifiers}.")
        for account in accounts:
            audit(EventTag.LOST_IDENTIFIER_SENT, account=account, ip=ip, channel="sms")
