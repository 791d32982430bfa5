"""Activation letters by email: a batch of guardians' accounts, one message each, and its report (issue #19).

A confirmed batch writes one `LetterEmail` row per account: an address and an opaque token, no
password. The letter itself is issued by `attempt`, the moment the message goes to SMTP: its
earlier letters are revoked, the new password lives only in that message in memory, and a retry
issues a fresh letter again. A message the server refuses for good (5yz at RCPT or DATA) is
bounced at once, the letter it carried revoked; a message returned later comes back as a DSN to
the envelope sender `<local>+<token>@<domain>` (VERP), which `bounces.mark_bounced` reads.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from trousseau.accounts.models import Account, AccountState, ActivationLetter
from trousseau.audit.events import EventTag
from trousseau.console.audit import staff_audit
from trousseau.console.models import LetterEmail, LetterEmailBatch, LetterEmailState, StaffMember
from trousseau.console.scoping import require_action
from trousseau.console.services.letters import GUARDIANS, accounts_to_notify, with_valid_letter
from trousseau.directory.models import Guardian, School
from trousseau.letters.export import IssuedLetter, letters_issue
from trousseau.notifications.delivery import PERMANENT_SMTP_CODE, backoff
from trousseau.notifications.masking import mask_email, scrub

logger = logging.getLogger(__name__)
ERROR_CHARS = 300


# --- Who gets an email --------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    account: Account
    address: str


@dataclass(frozen=True)
class Selection:
    """What a batch would do: the accounts with an address, and those that need a paper letter."""

    recipients: list[Recipient]
    without_email: list[Account]
    replaced: int  # how many recipients hold a letter still usable, which the email voids

    @property
    def count(self) -> int:
        return len(self.recipients)


def recorded_emails(school: School, accounts: Sequence[Account]) -> dict[int, str]:
    """Each account's address as the school records it: this school's guardian row first, then any other."""
    rows = (
        Guardian.objects.filter(account_link__account__in=[a.pk for a in accounts], left_at=None)
        .exclude(email="")
        .values_list("account_link__account_id", "email", "school_id")
        .order_by("pk")
    )
    found: dict[int, str] = {}
    for account_id, address, school_id in rows:
        if account_id not in found or school_id == school.pk:
            found[account_id] = address.strip()
    return found


def selection(school: School, *, class_name: str = "") -> Selection:
    """Guardians' accounts of the school (or one class) still waiting for activation, split by email."""
    accounts = accounts_to_notify(school, kinds=GUARDIANS, class_name=class_name)
    emails = recorded_emails(school, accounts)
    recipients = [Recipient(a, emails[a.pk]) for a in accounts if a.pk in emails]
    live = with_valid_letter([r.account for r in recipients])
    return Selection(recipients, [a for a in accounts if a.pk not in emails], len(live))


# --- The batch ----------------------------------------------------------------------------------


class NothingToSend(Exception):
    """No account of the selection has a recorded email: the batch would be empty."""


def batch_send(*, staff: StaffMember, school: School, class_name: str = "", ip: str | None = None) -> LetterEmailBatch:
    """Queue one email per account of the selection, as confirmed; each goes once this commits."""
    require_action(staff)
    with transaction.atomic():
        chosen = selection(school, class_name=class_name)  # again: the page may be old
        if not chosen.recipients:
            raise NothingToSend
        batch = LetterEmailBatch.objects.create(
            staff=staff, school=school, class_name=class_name, without_email=len(chosen.without_email)
        )
        rows = LetterEmail.objects.bulk_create(
            LetterEmail(batch=batch, account=r.account, recipient=r.address, token=secrets.token_hex(16))
            for r in chosen.recipients
        )
        staff_audit(
            EventTag.CONSOLE_LETTERS_EMAILED,
            staff=staff,
            school=school,
            ip=ip,
            batch=str(batch.pk),
            scope=f"class:{class_name}" if class_name else "school",
            count=len(rows),
            without_email=len(chosen.without_email),
            accounts=[r.account.identifier for r in chosen.recipients][:500],
        )
        ids = list(LetterEmail.objects.filter(batch=batch).values_list("pk", flat=True))

        def enqueue_letter_emails() -> None:
            for pk in ids:
                send_letter_email.enqueue(pk)

        transaction.on_commit(enqueue_letter_emails, robust=True)
    return batch


# --- Sending one --------------------------------------------------------------------------------


@task()
def send_letter_email(letter_email_id: int) -> None:
    claimed = claim(letter_email_id)
    if claimed is None:
        return  # settled, not due, or being sent by another worker
    # A queue that can hold a task until a given time retries by itself; otherwise `send_letter_emails`
    # (cron) finds the row by its due time, as `deliver_pending` does for deliveries.
    if attempt(claimed) == LetterEmailState.PENDING and send_letter_email.get_backend().supports_defer:
        retry_at = LetterEmail.objects.values_list("next_attempt_at", flat=True).get(pk=letter_email_id)
        send_letter_email.using(run_after=retry_at).enqueue(letter_email_id)


def claim(pk: int, *, now: datetime | None = None) -> LetterEmail | None:
    """Take a due pending row for one attempt (conditional UPDATE: one worker wins); None otherwise."""
    now = now or timezone.now()
    won = LetterEmail.objects.filter(pk=pk, state=LetterEmailState.PENDING, next_attempt_at__lte=now).update(
        next_attempt_at=now + settings.NOTIFICATIONS_CLAIM_LEASE, attempts=F("attempts") + 1
    )
    return LetterEmail.objects.select_related("account", "batch__school").get(pk=pk) if won else None


def send_due(*, limit: int = 50) -> int:
    """One pass over the pending rows whose time has come (retries, or tasks lost); how many were tried."""
    due = LetterEmail.objects.filter(state=LetterEmailState.PENDING, next_attempt_at__lte=timezone.now())
    tried = 0
    for pk in list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]):
        claimed = claim(pk)
        if claimed is not None:
            attempt(claimed)
            tried += 1
    return tried


def envelope_sender(token: str) -> str:
    """`local+token@domain` from LETTER_EMAIL_BOUNCE_ADDRESS (default: the From address): VERP."""
    base = parseaddr(settings.LETTER_EMAIL_BOUNCE_ADDRESS or settings.DEFAULT_FROM_EMAIL)[1]
    local, _at, domain = base.rpartition("@")
    return f"{local}+{token}@{domain}"


def _awaits(account: Account) -> bool:
    account.refresh_from_db(fields=["state", "merged_into"])
    return account.state == AccountState.PROVISIONAL and account.merged_into_id is None


def _superseded(row: LetterEmail) -> bool:
    """A later send holds the same account: only its letter would work, so this one sends nothing.

    Two sends that overlap (the school's, then a class's, before the first went out) would otherwise
    mail a family twice, the first password already void when it arrives."""
    return LetterEmail.objects.filter(account_id=row.account_id, pk__gt=row.pk).exists()  # rows come in order


def attempt(row: LetterEmail) -> LetterEmailState:
    """Issue the account's letter and hand its message to SMTP once; record how it went."""
    mine = LetterEmail.objects.filter(pk=row.pk, attempts=row.attempts, state=LetterEmailState.PENDING)
    if not _awaits(row.account) or _superseded(row):
        mine.update(state=LetterEmailState.CANCELLED, last_error="")
        return LetterEmailState.CANCELLED
    with transaction.atomic():
        (issued,) = letters_issue([row.account])  # revokes the earlier letters, this attempt's included
        letter_id = row.account.letters.values_list("pk", flat=True).first()
        mine.update(letter_id=letter_id)
    try:
        _message(row, issued).send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - whatever SMTP raises, the row must record it
        _revoke(letter_id)  # its password reached nobody
        return _failed(row, mine, exc)
    mine.update(state=LetterEmailState.SENT, sent_at=timezone.now(), last_error="")
    _audit(EventTag.CONSOLE_LETTER_EMAIL_SENT, row)
    return LetterEmailState.SENT


def _revoke(letter_id: int | None) -> None:
    if letter_id is None:
        return
    ActivationLetter.objects.filter(pk=letter_id, used_at=None, revoked_at=None).update(revoked_at=timezone.now())


def _permanent_code(exc: Exception) -> int | None:
    """The 5yz reply that refused this recipient or this message (RFC 5321), if that is what happened."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return max(codes) if codes and all(code >= PERMANENT_SMTP_CODE for code in codes) else None
    if isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= PERMANENT_SMTP_CODE:
        return int(exc.smtp_code)
    return None


def _failed(row: LetterEmail, mine: QuerySet[LetterEmail], exc: Exception) -> LetterEmailState:
    now = timezone.now()
    error = scrub(f"{type(exc).__name__}: {exc}", channel="email", recipient=row.recipient)[:ERROR_CHARS]
    code = _permanent_code(exc)
    if code is not None:
        mine.update(state=LetterEmailState.BOUNCED, bounced_at=now, bounce_status=f"smtp {code}", last_error=error)
        _audit_bounce(row, f"smtp {code}")
        return LetterEmailState.BOUNCED
    if (
        row.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS
        or now - row.batch.created_at >= settings.NOTIFICATIONS_MAX_AGE
    ):
        mine.update(state=LetterEmailState.FAILED, last_error=error)
        logger.error("Letter email %s failed for good after %s attempt(s): %s", row.pk, row.attempts, error)
        return LetterEmailState.FAILED
    retry_at = now + backoff(row.attempts)
    mine.update(next_attempt_at=retry_at, last_error=error)
    logger.warning("Letter email %s attempt %s failed, retry at %s: %s", row.pk, row.attempts, retry_at, error)
    return LetterEmailState.PENDING


def _audit(tag: EventTag, row: LetterEmail, **details: str) -> None:
    """One email's step, in the school's journal and the family's history (the address masked)."""
    staff_audit(
        tag,
        staff=None,
        school=row.batch.school,
        account=row.account,
        batch=str(row.batch_id),
        to=mask_email(row.recipient),
        **details,
    )


def _audit_bounce(row: LetterEmail, status: str) -> None:
    _audit(EventTag.CONSOLE_LETTER_EMAIL_BOUNCED, row, status=status)


def mark_bounced(token: str, status: str) -> bool:
    """A DSN said this message failed: the row is bounced and its letter revoked. False if unknown or settled."""
    row = LetterEmail.objects.select_related("account", "batch__school").filter(token=token).first()
    if row is None:
        return False
    changed = LetterEmail.objects.filter(pk=row.pk, state=LetterEmailState.SENT).update(
        state=LetterEmailState.BOUNCED, bounced_at=timezone.now(), bounce_status=f"dsn {status}"[:40]
    )
    if not changed:
        return False
    _revoke(row.letter_id)
    _audit_bounce(row, f"dsn {status}")
    return True


# --- The message --------------------------------------------------------------------------------


def _message(row: LetterEmail, letter: IssuedLetter) -> EmailMultiAlternatives:
    """The letter as an email, in French: plain text and HTML, the envelope sender carrying the token."""
    context: dict[str, Any] = {"letter": letter, "expires_at": timezone.localtime(letter.expires_at)}
    with translation.override("fr"):
        subject = _("Votre compte Trousseau : identifiant et mot de passe provisoire")
        text = render_to_string("console/emails/letter_email.txt", context)
        html = render_to_string("console/emails/letter_email.html", context)
    domain = envelope_sender(row.token).rpartition("@")[2]
    message = EmailMultiAlternatives(
        subject,
        text,
        from_email=envelope_sender(row.token),  # Django's SMTP backend uses it as MAIL FROM
        to=[row.recipient],
        headers={
            "From": settings.DEFAULT_FROM_EMAIL,
            "Message-ID": f"<lettre.{row.token}@{domain}>",
            "Auto-Submitted": "auto-generated",
        },
        connection=get_connection(fail_silently=False),
    )
    message.attach_alternative(html, "text/html")
    return message


# --- The report ---------------------------------------------------------------------------------


def batches(school: School) -> QuerySet[LetterEmailBatch]:
    """The school's batches, newest first, each with its count per state."""
    counts = {state: Count("emails", filter=Q(emails__state=state)) for state in LetterEmailState.values}
    return (
        LetterEmailBatch.objects.filter(school=school)
        .select_related("staff")
        .annotate(total=Count("emails"), **{f"n_{state}": count for state, count in counts.items()})
    )


def report(batch: LetterEmailBatch) -> dict[str, list[LetterEmail]]:
    """The batch's rows by state: who was sent to, who bounced, who is still pending."""
    rows = LetterEmail.objects.filter(batch=batch).select_related("account").order_by("account__last_name", "pk")
    grouped: dict[str, list[LetterEmail]] = {state: [] for state in LetterEmailState.values}
    for row in rows:
        grouped[row.state].append(row)
    return grouped
