"""Issue #19's académie operator walked in Chromium: she picks a school, finds a family by its phone and
resets its accounts in one batch, reads it in the journal; then staff administration: she resets a head
who lost her phone and adds a secretary; the head enrols again and withdraws a secretary's access.
axe on every page."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests import factories
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.steps import choose, console_log_in, expect_accessible
from tests.browser.test_console_batch import (
    family_reached_by_phone,
    operator_picks_the_school,
    operator_reads_the_journal,
    operator_resets_a_family_found_by_phone,
)
from tests.console import helpers
from trousseau.console import totp
from trousseau.console.models import StaffMember, StaffRole
from trousseau.directory.models import School

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NEW_PASSWORD = "Bulletin#Trimestre-2025"


def _log_in(page: Page, member: StaffMember) -> None:
    console_log_in(page, member.email, helpers.STAFF_PASSWORD, helpers.code_for(member))
    expect(page.get_by_role("button", name="Quitter la console")).to_be_visible()


def _link_path(page: Page) -> str:
    """The enrolment link shown once, as a path on the live server (the page prints the public URL)."""
    link = page.locator("#enrolment-link").inner_text().strip()
    assert "/console/inscription/" in link
    return "/console/inscription/" + link.split("/console/inscription/", 1)[1]


def _operator_resets_the_head(page: Page, school: School, head: StaffMember) -> str:
    """The head lost her phone: a reset, confirmed, gives a new enrolment link (returned as a path)."""
    page.goto(f"/console/etablissements/{school.uai}/")
    page.get_by_role("link", name="Personnel", exact=True).click()
    expect(page.get_by_role("heading", name="Personnel de l'établissement")).to_be_visible()
    expect(page.locator("#staff tbody tr")).to_have_count(2)
    expect_accessible(page, "the school's staff page, as the operator")
    page.get_by_role("link", name="Réinitialiser Hélène Roux").click()
    expect(page.get_by_role("heading", name="Réinitialiser l'accès de Hélène Roux ?")).to_be_visible()
    expect(page.get_by_text("second facteur")).to_be_visible()
    expect_accessible(page, "the confirmation of a staff reset")
    page.get_by_role("button", name="Réinitialiser l'accès").click()
    expect(page.get_by_role("heading", name="Lien d'inscription de Hélène Roux")).to_be_visible()
    expect_accessible(page, "the new enrolment link")
    head.refresh_from_db()
    assert not head.enrolled
    return _link_path(page)


def _operator_adds_a_secretary(page: Page, school: School) -> None:
    """A malformed email first (nothing created), then the confirmation, then the link."""
    page.get_by_role("link", name="Retour au personnel").click()
    page.get_by_label("Prénom").fill("Nora")
    page.get_by_label("Nom", exact=True).fill("Benali")
    page.get_by_label("Adresse email professionnelle").fill("nora.benali")
    choose(page, "Secrétariat")
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("alert")).to_contain_text("Corrigez les champs signalés ci-dessous.")
    expect(
        page.get_by_text("Saisissez une adresse email valide, par exemple prenom.nom@ac-normandie.fr.")
    ).to_be_visible()
    expect_accessible(page, "the staff form with an error")
    assert not StaffMember.objects.filter(last_name="Benali").exists()
    page.get_by_label("Adresse email professionnelle").fill("nora.benali@ac-normandie.fr")
    choose(page, "Secrétariat")
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", name="Créer un accès à la console ?")).to_be_visible()
    expect(page.get_by_text("Un accès « Secrétariat » est créé pour Nora Benali")).to_be_visible()
    expect_accessible(page, "the confirmation of a new staff access")
    page.get_by_role("button", name="Créer l'accès").click()
    expect(page.get_by_role("heading", name="Lien d'inscription de Nora Benali")).to_be_visible()
    assert StaffMember.objects.get(email="nora.benali@ac-normandie.fr").school == school


def _head_enrols_again(tab: Page, school: School, head: StaffMember, link: str) -> None:
    """On her new phone, from the link the operator handed her: a new password and a new secret."""
    tab.goto(link)
    expect(tab.get_by_role("heading", name="Première connexion à la console")).to_be_visible()
    secret = tab.locator("#totp-secret").inner_text().replace(" ", "")
    assert secret != head.totp_secret
    tab.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
    tab.get_by_label("Confirmez votre mot de passe").fill(NEW_PASSWORD)
    tab.get_by_label("Code de vérification").fill(totp.code_at(secret, timezone.now()))
    tab.get_by_role("button", name="Terminer et entrer dans la console").click()
    expect(tab.get_by_role("heading", name=school.name, level=1)).to_be_visible()


def _head_removes_a_secretary(tab: Page, leaving: StaffMember) -> None:
    tab.get_by_role("link", name="Personnel", exact=True).click()
    expect(tab.get_by_role("heading", name="Personnel de l'établissement")).to_be_visible()
    expect(tab.get_by_role("link", name="Réinitialiser Inès Garcia")).to_have_count(0)  # the operator's
    expect(tab.get_by_role("link", name="Retirer l'accès Hélène Roux")).to_have_count(0)  # not a head's
    expect_accessible(tab, "the school's staff page, as the head")
    tab.get_by_role("link", name="Retirer l'accès Inès Garcia").click()
    expect(tab.get_by_role("heading", name="Retirer l'accès de Inès Garcia ?")).to_be_visible()
    expect_accessible(tab, "the confirmation of a staff removal")
    tab.get_by_role("button", name="Retirer l'accès").click()
    expect(tab.get_by_text("L'accès de Inès Garcia a été retiré.")).to_be_visible()
    expect(tab.locator("#staff tr", has_text="Inès").get_by_text("Accès retiré")).to_be_visible()
    expect_accessible(tab, "the staff page after a removal")
    leaving.refresh_from_db()
    assert not leaving.is_active


def _new_tab(browser: Browser, live_server: LiveServer) -> tuple[BrowserContext, Page]:
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


def test_an_operator_resets_a_family_in_batch_resets_a_head_and_adds_a_secretary_the_head_removes_one(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    school = factories.school(uai="0147777K", name="Collège Jean-Moulin", academie="Normandie")
    factories.school(uai="0148888L", name="Collège Victor-Hugo", academie="Normandie")
    family = family_reached_by_phone(school)
    head = helpers.staff(StaffRole.HEAD, school=school, first_name="Hélène", last_name="Roux")
    leaving = helpers.staff(StaffRole.SECRETARIAT, school=school, first_name="Inès", last_name="Garcia")
    operator = helpers.staff(StaffRole.ACADEMIE, academie="Normandie", first_name="Paul", last_name="Leroy")

    _log_in(page, operator)
    operator_picks_the_school(page, school)
    operator_resets_a_family_found_by_phone(page, school, family)
    operator_reads_the_journal(page, school, operator)
    heads_link = _operator_resets_the_head(page, school, head)
    _operator_adds_a_secretary(page, school)

    context, tab = _new_tab(browser, live_server)
    _head_enrols_again(tab, school, head, heads_link)
    _head_removes_a_secretary(tab, leaving)
    context.close()

    # A secretary who tries the page is refused, and told who manages staff.
    context, other = _new_tab(browser, live_server)
    _log_in(other, helpers.staff(StaffRole.SECRETARIAT, school=school, first_name="Yanis"))
    other.goto(f"/console/etablissements/{school.uai}/personnel/")
    expect(other.get_by_role("heading", name="Accès refusé")).to_be_visible()
    expect(other.get_by_text("La gestion du personnel est réservée", exact=False)).to_be_visible()
    expect_accessible(other, "the staff page refused to a secretary")
    context.close()
