"""'Identifiant perdu': the identifier is sent to a verified email or to the mobile a school recorded.

Single step, no flow row: the answer is the same whether or not anything matched, and whether or not
a budget stopped the send (research/security.md §3.1, enumeration).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from trousseau.accounts.audit import audit
from trousseau.accounts.events import EventTag
from trousseau.accounts.recovery import active_accounts_with_verified_email, active_guardian_accounts_for_mobile
from trousseau.core import ratelimit
from trousseau.core.http import address_block
from trousseau.flows.journeys import sms_budgets
from trousseau.notifications.services import send_email, send_sms

HOUR = timedelta(hours=1)


def _allowed(destination: str, ip: str) -> bool:
    return ratelimit.consume_all(
        [
            (ratelimit.Budget("recovery:destination:hour", settings.SMS_PER_PHONE_PER_HOUR, HOUR), destination),
            (ratelimit.Budget("recovery:ip:hour", settings.SMS_PER_IP_PER_HOUR, HOUR), address_block(ip)),
        ]
    )


def by_email(*, email: str, ip: str) -> None:
    """Send the identifiers of the active accounts that verified this email (a parent may have several)."""
    audit(EventTag.IDENTIFIER_REMINDER_REQUESTED, ip=ip, channel="email")
    accounts = active_accounts_with_verified_email(email)
    if not accounts or not _allowed(email.lower(), ip):
        return
    send_email(
        to=accounts[0].email,
        subject="Votre identifiant Trousseau",
        template="flows/email/lost_identifier.txt",
        context={"accounts": accounts},
    )
    for account in accounts:
        audit(EventTag.IDENTIFIER_REMINDER_SENT, account=account, ip=ip, channel="email")


def by_mobile(*, phone: str, ip: str) -> None:
    """Send by SMS the identifiers of the active guardian accounts whose records carry this mobile."""
    audit(EventTag.IDENTIFIER_REMINDER_REQUESTED, ip=ip, channel="sms")
    accounts = active_guardian_accounts_for_mobile(phone)
    if not accounts or not sms_budgets.allowed(phone, ip):
        return
    identifiers = ", ".join(a.identifier for a in accounts)
    send_sms(to=phone, body=f"Trousseau : votre identifiant est {identifiers}.")
    for account in accounts:
        audit(EventTag.IDENTIFIER_REMINDER_SENT, account=account, ip=ip, channel="sms")
