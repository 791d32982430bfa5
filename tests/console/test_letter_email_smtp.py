"""Letter emails through a real SMTP server (aiosmtpd): the envelope sender, a refused recipient, the
password found nowhere but in the message received, and DSNs read back from a Maildir and an mbox."""

from __future__ import annotations

import logging
import mailbox
import shutil
from email import message_from_bytes, policy
from email.message import EmailMessage
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.hashers import check_password
from django.core.management import call_command

from tests import factories
from tests.console import helpers
from tests.console.refusing_smtp import REFUSED, REJECTED_AT_DATA, RefusingMailbox
from tests.smtp import Mailbox, running_smtp, send_through
from trousseau.accounts.models import LetterStatus
from trousseau.audit.events import EventTag
from trousseau.console.models import LetterEmail, LetterEmailState, StaffRole
from trousseau.console.services import letter_bounces, letter_emails

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"
DSN_TOKEN = "0123456789abcdef0123456789abcdef"  # the token in data/postfix-dsn-failed.eml


@pytest.fixture
def smtp(settings):
    box = RefusingMailbox()
    with running_smtp(box) as (_, port):
        send_through(settings, port)
        settings.EMAIL_TIMEOUT = 5
        yield box


@pytest.fixture
def school():
    school = factories.school(contact_phone="02 31 00 00 00")
    for name, address in [("Martin", "sophie.martin@exemple.fr"), ("Inconnu", REFUSED), ("Filtre", REJECTED_AT_DATA)]:
        family = helpers.family(school, last_name=name)
        guardian = family.guardian_account.guardian_links.get().guardian
        guardian.email = address
        guardian.save()
    return school


def _every_row_as_text() -> str:
    """Every row of every table, as text: where a password at rest in clear would show."""
    return "\n".join(str(list(model._default_manager.values())) for model in apps.get_models())


def _password(message: EmailMessage) -> str:
    line = next(x for x in Mailbox.text(message).splitlines() if x.startswith("Mot de passe provisoire"))
    return line.split(":", 1)[1].strip()


def test_send_through_smtp_the_password_is_nowhere_but_in_the_message(smtp, school, caplog):
    caplog.set_level(logging.DEBUG)
    member = helpers.staff(StaffRole.SECRETARIAT, school=school)
    batch = letter_emails.batch_send(staff=member, school=school)

    message = smtp.wait_for("sophie.martin@exemple.fr")
    sent = LetterEmail.objects.select_related("letter").get(batch=batch, recipient="sophie.martin@exemple.fr")
    password = _password(message)
    assert sent.state == LetterEmailState.SENT
    assert check_password(password, sent.letter.password_hash)  # the password that works is the one emailed
    assert smtp.envelopes["sophie.martin@exemple.fr"] == f"ne-pas-repondre+{sent.token}@trousseau.localhost"
    assert message["From"] == "Trousseau <ne-pas-repondre@trousseau.localhost>"
    assert message["Message-ID"] == f"<lettre.{sent.token}@trousseau.localhost>"
    html_part = message.get_body(preferencelist=("html",))
    assert html_part is not None
    assert password in html_part.get_content()
    assert "https://" in Mailbox.text(message) or "http://" in Mailbox.text(message)

    assert password not in caplog.text
    assert password not in _every_row_as_text()


def test_a_recipient_refused_at_rcpt_is_bounced_at_once_and_its_letter_revoked(smtp, school):
    member = helpers.staff(StaffRole.SECRETARIAT, school=school)
    batch = letter_emails.batch_send(staff=member, school=school)
    smtp.wait_for("sophie.martin@exemple.fr")
    refused = LetterEmail.objects.select_related("letter").get(batch=batch, recipient=REFUSED)
    assert refused.state == LetterEmailState.BOUNCED
    assert refused.bounce_status == "smtp 550"
    assert refused.attempts == 1  # a 5yz is not retried
    assert REFUSED not in refused.last_error  # the server quoted the address: kept masked
    assert refused.letter.status() == LetterStatus.REVOKED
    assert [str(m["To"]) for m in smtp.messages] == ["sophie.martin@exemple.fr"]
    assert helpers.events(EventTag.CONSOLE_LETTER_EMAIL_BOUNCED, status="smtp 550", school=school.uai)


def test_a_message_rejected_at_data_is_bounced_at_once(smtp, school):
    member = helpers.staff(StaffRole.SECRETARIAT, school=school)
    batch = letter_emails.batch_send(staff=member, school=school)
    rejected = LetterEmail.objects.select_related("letter").get(batch=batch, recipient=REJECTED_AT_DATA)
    assert rejected.state == LetterEmailState.BOUNCED
    assert rejected.bounce_status == "smtp 554"
    assert "content filter" in rejected.last_error
    assert rejected.letter is not None
    assert rejected.letter.status() == LetterStatus.REVOKED
    assert REJECTED_AT_DATA not in smtp.envelopes


def _sent_row(school) -> LetterEmail:
    member = helpers.staff(StaffRole.SECRETARIAT, school=school)
    batch = letter_emails.batch_send(staff=member, school=school)
    row = LetterEmail.objects.get(batch=batch, recipient="sophie.martin@exemple.fr")
    LetterEmail.objects.filter(pk=row.pk).update(token=DSN_TOKEN)
    row.refresh_from_db()
    assert row.state == LetterEmailState.SENT
    return row


def _maildir(tmp_path: Path, *files: str) -> Path:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for name in files:
        box.add((DATA / name).read_bytes())
    box.close()
    return tmp_path / "Maildir"


def test_bounce_command_marks_the_email_a_maildir_dsn_returns(smtp, school, tmp_path):
    row = _sent_row(school)
    path = _maildir(tmp_path, "postfix-dsn-failed.eml", "postfix-dsn-delayed.eml")
    out = StringIO()
    call_command("letter_email_bounces", str(path), stdout=out)
    assert "2 message(s) read: 1 letter email(s) marked bounced, 1 not a failure report" in out.getvalue()
    row.refresh_from_db()
    assert row.state == LetterEmailState.BOUNCED
    assert row.bounce_status == "dsn 5.1.1"
    assert row.letter is not None
    assert row.letter.status() == LetterStatus.REVOKED  # nobody received its password
    assert helpers.events(EventTag.CONSOLE_LETTER_EMAIL_BOUNCED, status="dsn 5.1.1")
    again = StringIO()
    call_command("letter_email_bounces", str(path), stdout=again)  # a second run changes nothing
    assert "0 letter email(s) marked bounced" in again.getvalue()
    assert len(helpers.events(EventTag.CONSOLE_LETTER_EMAIL_BOUNCED, status="dsn 5.1.1")) == 1


def test_bounce_command_reads_an_mbox(smtp, school, tmp_path):
    row = _sent_row(school)
    path = tmp_path / "bounces.mbox"
    box = mailbox.mbox(path)
    box.add((DATA / "postfix-dsn-failed.eml").read_bytes())
    box.close()
    call_command("letter_email_bounces", str(path), stdout=StringIO())
    row.refresh_from_db()
    assert row.state == LetterEmailState.BOUNCED


def test_a_dsn_whose_address_was_rewritten_is_matched_by_the_returned_message_id(smtp, school):
    _sent_row(school)
    raw = (DATA / "postfix-dsn-failed.eml").read_bytes()
    dsn = message_from_bytes(raw, policy=policy.compat32)
    for header in ("Delivered-To", "To"):
        del dsn[header]
    dsn["To"] = "bounces@trousseau.localhost"
    found = letter_bounces.failure(dsn)
    assert found == letter_bounces.Failure(DSN_TOKEN, "5.1.1")


def test_a_delayed_dsn_or_a_plain_message_is_no_failure():
    delayed = message_from_bytes((DATA / "postfix-dsn-delayed.eml").read_bytes(), policy=policy.compat32)
    assert letter_bounces.failure(delayed) is None
    plain = message_from_bytes(b"From: a@b\nTo: c@d\nSubject: hello\n\nhi\n", policy=policy.compat32)
    assert letter_bounces.failure(plain) is None


def test_bounce_command_refuses_a_missing_path(tmp_path):
    with pytest.raises(Exception, match="no such Maildir or mbox"):
        call_command("letter_email_bounces", str(tmp_path / "absent"), stdout=StringIO())


def test_an_unknown_token_changes_nothing(tmp_path, db):
    path = _maildir(tmp_path, "postfix-dsn-failed.eml")
    result = letter_bounces.read_bounces(path)
    assert (result.read, result.bounced, len(result.unknown)) == (1, 0, 1)
    shutil.rmtree(path)
