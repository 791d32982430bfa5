"""Activation letters by email (issue #19): the selection, the confirmation, the batch and its report.

Django's locmem backend stands in for SMTP here; tests/console/test_letter_email_smtp.py uses a real server.
"""

from __future__ import annotations

import html
import smtplib
from unittest import mock

import pytest
from django.contrib.auth.hashers import check_password
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.urls import reverse

from tests import factories
from tests.console import helpers
from trousseau.accounts.models import LetterStatus
from trousseau.audit.events import EventTag
from trousseau.console.models import LetterEmail, LetterEmailBatch, LetterEmailState, StaffRole
from trousseau.console.scoping import ReadOnly
from trousseau.console.services import letter_emails

pytestmark = pytest.mark.django_db


def _family(school, last_name, *, email="", class_name="6e A"):
    fam = helpers.family(school, class_name=class_name, last_name=last_name)
    guardian = fam.guardian_account.guardian_links.get().guardian
    guardian.email = email
    guardian.save()
    return fam


@pytest.fixture
def school():
    school = factories.school(contact_phone="02 31 00 00 00", contact_email="secretariat@college.fr")
    _family(school, "Martin", email="sophie.martin@exemple.fr")
    _family(school, "Bernard", email="s.bernard@exemple.fr", class_name="5e B")
    _family(school, "Petit")  # no email: a paper letter
    return school


@pytest.fixture
def member(school):
    return helpers.staff(StaffRole.SECRETARIAT, school=school)


def _password(message: EmailMessage) -> str:
    line = next(line for line in str(message.body).splitlines() if line.startswith("Mot de passe provisoire"))
    return line.split(":", 1)[1].strip()


# --- Services -----------------------------------------------------------------------------------


def test_selection_splits_guardians_with_and_without_an_email(school):
    chosen = letter_emails.selection(school)
    assert sorted(r.address for r in chosen.recipients) == ["s.bernard@exemple.fr", "sophie.martin@exemple.fr"]
    assert [a.last_name for a in chosen.without_email] == ["Petit"]
    assert chosen.replaced == 2  # the factories' letters are still valid
    in_class = letter_emails.selection(school, class_name="5e B")
    assert [r.address for r in in_class.recipients] == ["s.bernard@exemple.fr"]
    assert in_class.without_email == []


def test_a_guardian_of_two_children_gets_one_email(school, member):
    fam = _family(school, "Durand", email="durand@exemple.fr")
    second = factories.pupil(school=school, class_name="4e C", last_name="Durand", first_name="Hugo")
    guardian = fam.guardian_account.guardian_links.get().guardian
    guardian.guardianships.create(pupil=second)
    letter_emails.batch_send(staff=member, school=school)
    to_durand = [m for m in mail.outbox if m.to == ["durand@exemple.fr"]]
    assert len(to_durand) == 1
    assert "Léa DUPONT" not in to_durand[0].body  # the children are the Durands
    assert "Hugo DURAND (4e C)" in to_durand[0].body


def test_batch_issues_each_letter_when_its_email_goes_and_voids_the_earlier_one(school, member):
    earlier = {a.pk: a.letters.get() for a in (r.account for r in letter_emails.selection(school).recipients)}
    batch = letter_emails.batch_send(staff=member, school=school)
    assert len(mail.outbox) == 2
    for row in LetterEmail.objects.filter(batch=batch).select_related("account", "letter"):
        assert row.state == LetterEmailState.SENT
        message = next(m for m in mail.outbox if m.to == [row.recipient])
        assert isinstance(message, EmailMultiAlternatives)
        password = _password(message)
        assert check_password(password, row.letter.password_hash)
        assert row.letter.status() == LetterStatus.VALID
        earlier[row.account_id].refresh_from_db()
        assert earlier[row.account_id].status() == LetterStatus.REVOKED
        assert row.account.identifier in message.body
        assert "02 31 00 00 00" in message.body  # the school's contact, as on the paper letter
        assert "Je n'ai pas de compte" in message.body
        assert "FranceConnect" in message.body
        content, mimetype = message.alternatives[0]
        assert mimetype == "text/html"
        assert password in str(content)
        assert message.from_email.startswith("ne-pas-repondre+" + row.token + "@")
        assert message.extra_headers["From"] == "Trousseau <ne-pas-repondre@trousseau.localhost>"
    assert helpers.events(EventTag.CONSOLE_LETTERS_EMAILED, staff=member.pk, count=2, without_email=1)
    assert len(helpers.events(EventTag.CONSOLE_LETTER_EMAIL_SENT, school=school.uai)) == 2


def test_an_account_activated_before_its_turn_gets_nothing(school, member):
    with mock.patch.object(letter_emails, "send_letter_email"):  # the worker has not come yet
        batch = letter_emails.batch_send(staff=member, school=school)
    row = LetterEmail.objects.filter(batch=batch).first()
    assert row is not None
    helpers.activate(row.account)
    assert letter_emails.send_due() == 2
    row.refresh_from_db()
    assert row.state == LetterEmailState.CANCELLED
    assert row.letter is None
    assert [m.to for m in mail.outbox] == [[r.recipient] for r in LetterEmail.objects.exclude(pk=row.pk)]


def test_a_later_send_to_the_same_family_supersedes_an_earlier_one_not_sent_yet(school, member):
    with mock.patch.object(letter_emails, "send_letter_email"):  # the worker has not come yet
        whole_school = letter_emails.batch_send(staff=member, school=school)
        one_class = letter_emails.batch_send(staff=member, school=school, class_name="5e B")
    assert letter_emails.send_due() == 3
    assert sorted(m.to[0] for m in mail.outbox) == ["s.bernard@exemple.fr", "sophie.martin@exemple.fr"]
    bernard = LetterEmail.objects.get(batch=whole_school, recipient="s.bernard@exemple.fr")
    assert bernard.state == LetterEmailState.CANCELLED
    assert bernard.letter is None
    latest = LetterEmail.objects.get(batch=one_class)
    assert latest.state == LetterEmailState.SENT
    message = next(m for m in mail.outbox if m.to == ["s.bernard@exemple.fr"])
    assert check_password(_password(message), latest.letter.password_hash)
    assert latest.letter.status() == LetterStatus.VALID
    martin = LetterEmail.objects.get(batch=whole_school, recipient="sophie.martin@exemple.fr")
    assert martin.state == LetterEmailState.SENT  # not in the later send


def test_a_temporary_failure_is_retried_with_a_fresh_letter_and_the_first_one_revoked(school, member, settings):
    refused = smtplib.SMTPRecipientsRefused({"x": (451, b"4.3.0 try later")})
    with mock.patch("django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=refused):
        batch = letter_emails.batch_send(staff=member, school=school, class_name="5e B")
    row = LetterEmail.objects.get(batch=batch)
    first_letter = row.letter
    assert (row.state, row.attempts, mail.outbox) == (LetterEmailState.PENDING, 1, [])
    assert first_letter is not None
    assert first_letter.status() == LetterStatus.REVOKED
    assert "451" in row.last_error
    assert "s.bernard@exemple.fr" not in row.last_error
    LetterEmail.objects.filter(pk=row.pk).update(next_attempt_at="2000-01-01T00:00:00Z")
    assert letter_emails.send_due() == 1
    row.refresh_from_db()
    assert row.state == LetterEmailState.SENT
    assert row.attempts == 2
    assert row.letter_id != first_letter.pk
    assert check_password(_password(mail.outbox[0]), row.letter.password_hash)


def test_retries_end_in_failure(school, member, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 1
    with mock.patch("django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=OSError("down")):
        batch = letter_emails.batch_send(staff=member, school=school, class_name="5e B")
    assert LetterEmail.objects.get(batch=batch).state == LetterEmailState.FAILED


def test_a_read_only_member_cannot_send(school):
    reader = helpers.staff(StaffRole.READONLY, school=school)
    with pytest.raises(ReadOnly):
        letter_emails.batch_send(staff=reader, school=school)
    assert not LetterEmailBatch.objects.exists()


def test_envelope_sender_follows_the_bounce_address_setting(settings):
    settings.LETTER_EMAIL_BOUNCE_ADDRESS = "Rebonds <rebonds@mail.trousseau.fr>"
    assert letter_emails.envelope_sender("ab12") == "rebonds+ab12@mail.trousseau.fr"


# --- Views --------------------------------------------------------------------------------------


def _send_url(school):
    return reverse("console:letter_emails", args=[school.uai])


def _confirm(browser, school, classe="", **kw):
    """The confirmation page, then its button: what a person does."""
    page = browser.get(_send_url(school), {"classe": classe})
    assert page.status_code == 200
    return browser.post(_send_url(school), {"classe": classe, "confirme": page.context["confirmation"]}, **kw)


def test_letters_page_offers_the_email_send(school, member):
    page = helpers.console(member).get(reverse("console:letters", args=[school.uai]))
    assert "Envoyer par courriel" in page.text
    assert _send_url(school) in page.text


def test_confirmation_page_says_what_will_happen_and_sends_nothing(school, member):
    page = helpers.console(member).get(_send_url(school))
    text = html.unescape(page.text)
    assert page.status_code == 200
    assert "2 courriels seront envoyés, un par compte" in text
    assert "ne fonctionneront plus" in text
    assert "2 de ces comptes ont un courrier encore valable" in text
    assert "1 responsable n'a pas d'adresse email enregistrée" in text
    assert "Petit" in text
    assert not LetterEmailBatch.objects.exists()
    assert mail.outbox == []


def test_a_post_without_the_confirmation_only_shows_the_page(school, member):
    page = helpers.console(member).post(_send_url(school), {"classe": ""})
    assert page.status_code == 200
    assert not LetterEmailBatch.objects.exists()
    assert mail.outbox == []


def test_confirmed_send_for_a_class_redirects_to_its_report(school, member):
    browser = helpers.console(member)
    response = _confirm(browser, school, "5e B")
    batch = LetterEmailBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("console:letter_email_batch", args=[school.uai, batch.pk])
    assert [m.to for m in mail.outbox] == [["s.bernard@exemple.fr"]]
    report = html.unescape(browser.get(response["Location"]).text)
    assert "1 courriel envoyé" in report
    assert "s.bernard@exemple.fr" in report
    listing = html.unescape(browser.get(reverse("console:letter_email_batches", args=[school.uai])).text)
    assert "5e B" in listing
    journal = html.unescape(browser.get(reverse("console:journal", args=[school.uai])).text)
    assert "Console : courriers d'activation envoyés par courriel" in journal
    assert "classe 5e B : 1 courrier(s)" in journal
    assert "Courrier d'activation envoyé par courriel" in journal


def test_a_confirmation_sends_once_and_a_forged_one_sends_nothing(school, member):
    browser = helpers.console(member)
    page = browser.get(_send_url(school))
    value = page.context["confirmation"]
    assert browser.post(_send_url(school), {"classe": "", "confirme": value}).status_code == 302
    assert len(mail.outbox) == 2
    again = browser.post(_send_url(school), {"classe": "", "confirme": value}, follow=True)  # a double click
    assert "Cette confirmation a déjà servi ou a expiré : rien n'a été envoyé." in html.unescape(again.text)
    browser.get(_send_url(school), {"classe": "5e B"})
    forged = browser.post(_send_url(school), {"classe": "", "confirme": "oui"})
    assert forged.status_code == 302
    assert LetterEmailBatch.objects.count() == 1
    assert len(mail.outbox) == 2


def test_an_operators_confirmation_for_one_school_sends_nothing_in_another(school):
    other = factories.school(academie=school.academie)
    _family(other, "Durand", email="durand@exemple.fr")
    operator = helpers.staff(StaffRole.ACADEMIE, academie=school.academie)
    browser = helpers.console(operator)
    value = browser.get(_send_url(school)).context["confirmation"]
    response = browser.post(_send_url(other), {"classe": "", "confirme": value}, follow=True)
    assert "Cette confirmation a déjà servi ou a expiré : rien n'a été envoyé." in html.unescape(response.text)
    assert not LetterEmailBatch.objects.exists()
    assert mail.outbox == []


def test_an_unknown_class_is_refused_with_a_message(school, member):
    browser = helpers.console(member)
    response = browser.post(_send_url(school), {"classe": "9e Z", "confirme": "oui"}, follow=True)
    assert "Cette classe n'existe pas dans l'établissement." in html.unescape(response.text)
    assert not LetterEmailBatch.objects.exists()
    assert mail.outbox == []


def test_nobody_with_an_email_sends_nothing(member, school):
    other = factories.school()
    _family(other, "Seul")
    operator = helpers.staff(StaffRole.ACADEMIE, school=other)
    response = _confirm(helpers.console(operator), other, follow=True)
    assert "n'a d'adresse email : rien n'a été envoyé" in html.unescape(response.text)
    assert not LetterEmailBatch.objects.exists()


def test_read_only_and_other_schools_are_refused(school):
    reader = helpers.console(helpers.staff(StaffRole.READONLY, school=school))
    assert reader.post(_send_url(school), {"confirme": "oui"}).status_code == 403
    assert reader.get(_send_url(school)).status_code == 403
    outsider = helpers.console(helpers.staff(StaffRole.SECRETARIAT, school=factories.school()))
    assert outsider.post(_send_url(school), {"confirme": "oui"}).status_code == 403
    assert not LetterEmailBatch.objects.exists()


def test_a_report_is_only_seen_from_its_school(school, member):
    batch = letter_emails.batch_send(staff=member, school=school)
    other = factories.school(academie=school.academie)
    operator = helpers.console(helpers.staff(StaffRole.ACADEMIE, school=school))
    assert operator.get(reverse("console:letter_email_batch", args=[school.uai, batch.pk])).status_code == 200
    assert operator.get(reverse("console:letter_email_batch", args=[other.uai, batch.pk])).status_code == 404


def test_a_bounced_account_gets_a_paper_letter_button(school, member):
    batch = letter_emails.batch_send(staff=member, school=school)
    row = LetterEmail.objects.filter(batch=batch).select_related("account").first()
    assert row is not None
    assert letter_emails.mark_bounced(row.token, "5.1.1")
    browser = helpers.console(member)
    report = html.unescape(browser.get(reverse("console:letter_email_batch", args=[school.uai, batch.pk])).text)
    assert "1 courriel rejeté" in report
    assert "dsn 5.1.1" in report
    assert reverse("console:letter", args=[school.uai, row.account_id]) in report
    pdf = browser.post(reverse("console:letter", args=[school.uai, row.account_id]))
    assert pdf["Content-Type"] == "application/pdf"
