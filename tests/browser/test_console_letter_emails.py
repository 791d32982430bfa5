"""Issue #19's letters by email walked in Chromium: a collège secretary sends the guardians' letters by
email through a real SMTP server that refuses one address, reads the report and prints that family a paper
letter. axe on every page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from tests import factories
from tests.browser.steps import console_log_in, expect_accessible
from tests.console import helpers
from tests.console.refusing_smtp import REFUSED, RefusingMailbox
from tests.smtp import Mailbox, running_smtp, send_through
from trousseau.console.models import LetterEmail, LetterEmailState, StaffMember, StaffRole

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def refusing_mailbox(settings: Settings, live_server: LiveServer) -> Iterator[RefusingMailbox]:
    with running_smtp(RefusingMailbox()) as (box, port):
        send_through(settings, port, public_url=live_server.url)
        yield box


def _log_in(page: Page, member: StaffMember) -> None:
    console_log_in(page, member.email, helpers.STAFF_PASSWORD, helpers.code_for(member))
    expect(page.get_by_role("button", name="Quitter la console")).to_be_visible()


def test_a_secretary_emails_the_letters_and_reads_the_report(page: Page, refusing_mailbox: RefusingMailbox) -> None:
    school = factories.school(uai="0148888L", name="Collège Victor-Hugo", contact_phone="02 31 45 67 89")
    for name, address in [("Moreau", "claire.moreau@exemple.fr"), ("Lefebvre", REFUSED), ("Girard", "")]:
        family = helpers.family(school, class_name="4e A", last_name=name)
        guardian = family.guardian_account.guardian_links.get().guardian
        guardian.email = address
        guardian.save()
    secretary = helpers.staff(StaffRole.SECRETARIAT, school=school, first_name="Nora", last_name="Benali")

    _log_in(page, secretary)
    page.goto(f"/console/etablissements/{school.uai}/")
    page.get_by_role("link", name="Courriers", exact=True).click()
    expect(page.get_by_role("heading", name="Envoyer par courriel")).to_be_visible()
    expect_accessible(page, "the letters page with the email send")
    page.get_by_label("Classe des responsables à qui envoyer un courriel").select_option("4e A")
    page.get_by_role("button", name="Envoyer par courriel").click()

    expect(page.get_by_role("heading", name="Envoyer les courriers par courriel ?")).to_be_visible()
    expect(page.get_by_text("2 courriels seront envoyés, un par compte")).to_be_visible()
    expect(page.get_by_role("heading", name="1 responsable n'a pas d'adresse email enregistrée")).to_be_visible()
    expect(page.locator("#without-email")).to_contain_text("Girard")
    expect_accessible(page, "the confirmation of a send by email")
    assert not LetterEmail.objects.exists()  # nothing before the confirmation
    page.get_by_role("button", name="Envoyer 2 courriels").click()

    expect(page.get_by_role("heading", name="Compte rendu de l'envoi par courriel")).to_be_visible()
    expect(page.get_by_role("heading", name="1 courriel envoyé")).to_be_visible()
    expect(page.get_by_role("heading", name="1 courriel rejeté")).to_be_visible()
    expect(page.locator("#report-sent")).to_contain_text("claire.moreau@exemple.fr")
    expect(page.locator("#report-bounced")).to_contain_text(REFUSED)
    expect(page.get_by_text("1 responsable sans adresse email enregistrée n'a rien reçu")).to_be_visible()
    expect_accessible(page, "the report of a send by email")
    message = refusing_mailbox.wait_for("claire.moreau@exemple.fr")
    assert "Collège Victor-Hugo" in Mailbox.text(message)
    assert LetterEmail.objects.get(recipient=REFUSED).state == LetterEmailState.BOUNCED

    with page.expect_download() as download:
        page.get_by_role("button", name="Imprimer un courrier papier pour Sophie Lefebvre").click()
    assert download.value.suggested_filename.startswith("courrier-")

    page.get_by_role("link", name="Tous les envois par courriel").click()
    expect(page.locator("#letter-email-batches tbody tr")).to_have_count(1)
    expect(page.locator("#letter-email-batches")).to_contain_text("4e A")
    expect_accessible(page, "the list of sends by email")
