"""The console's other pages in Chromium: another school refused, the operator's pages, a newcomer's first visit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import TIMEOUT_MS, Demo
from tests.browser.staff import COLLEGE, now, operator, secretary, staff_log_in
from tests.browser.steps import choose, expect_accessible
from trousseau.accounts.models import ContestedLink
from trousseau.console import totp
from trousseau.console.models import StaffRole
from trousseau.console.services.staff import staff_create
from trousseau.directory.models import Guardianship, School

pytestmark = pytest.mark.browser


def test_a_secretary_is_refused_another_school(page: Page, demo: Demo, tmp_path: Path) -> None:
    staff = secretary(tmp_path)
    staff_log_in(page, staff)
    other = School.objects.exclude(uai=COLLEGE).first()
    assert other is not None
    response = page.goto(f"/console/etablissements/{other.uai}/comptes/")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="Accès refusé")).to_be_visible()
    expect_accessible(page, "the console's 403 page")


def test_the_other_console_pages_are_accessible(page: Page, browser: Browser, demo: Demo, tmp_path: Path) -> None:
    school = School.objects.get(uai=COLLEGE)
    link = Guardianship.objects.filter(pupil__school=school, guardian__account_link__isnull=False).first()
    assert link is not None
    ContestedLink.objects.create(guardianship=link, reported_by=link.guardian.account_link.account)

    staff_log_in(page, operator(tmp_path))
    expect(page.get_by_role("heading", name="Établissements", level=1)).to_be_visible()
    expect(page.locator("#schools tbody tr")).to_have_count(School.objects.count())
    expect_accessible(page, "the school picker")
    page.get_by_role("link", name=school.name).click()
    page.get_by_role("main").get_by_role("link", name="Liens signalés").click()
    expect(page.get_by_role("heading", name="Liens signalés par les familles")).to_be_visible()
    expect_accessible(page, "the reported links")
    page.get_by_role("link", name=link.guardian.account_link.account.identifier).click()
    expect(page.locator("#account-identifier")).to_have_text(link.guardian.account_link.account.identifier)
    expect_accessible(page, "a guardian's account page with a reported link")
    page.get_by_role("link", name=re.compile("^Modifier les coordonnées")).first.click()
    page.get_by_label("Téléphone portable").fill("12")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Ce numéro de téléphone n'est pas valide.").first).to_be_visible()
    expect_accessible(page, "the contact form with an error")
    page.get_by_label("Téléphone portable").fill("06 98 76 54 32")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Les coordonnées du responsable ont été enregistrées.")).to_be_visible()
    choose(page, "Le lien est juste : le garder")
    page.get_by_role("button", name="Enregistrer la décision").click()
    expect(page.get_by_text("Le lien a été confirmé")).to_be_visible()
    link.guardian.refresh_from_db()
    assert link.guardian.mobile == "+33698765432"

    # A new staff member's first visit: password, QR code and secret, first code.
    invitation = staff_create(
        email="nouvelle.secretaire@ac-normandie.fr",
        first_name="Inès",
        last_name="Garcia",
        role=StaffRole.SECRETARIAT,
        school=school,
    )
    newcomer = browser.new_context(base_url=page.url.split("/console/")[0], locale="fr-FR")
    newcomer.set_default_timeout(TIMEOUT_MS)
    tab = newcomer.new_page()
    tab.goto(f"/console/inscription/{invitation.token}/")
    expect(tab.get_by_role("heading", name="Première connexion à la console")).to_be_visible()
    expect(tab.get_by_role("img", name=re.compile("^Code QR"))).to_be_visible()
    expect_accessible(tab, "the enrolment page")
    secret = tab.locator("#totp-secret").inner_text().replace(" ", "")
    tab.get_by_label("Nouveau mot de passe").fill("Bulletin#Trimestre-2025")
    tab.get_by_label("Confirmez votre mot de passe").fill("Bulletin#Trimestre-2025")
    tab.get_by_label("Code de vérification").fill(totp.code_at(secret, now()))
    tab.get_by_role("button", name="Terminer et entrer dans la console").click()
    expect(tab.get_by_role("heading", name=school.name, level=1)).to_be_visible()
    newcomer.close()
