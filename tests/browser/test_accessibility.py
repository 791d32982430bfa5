"""axe-core finds no violation on the pages of the letter journey, with and without errors shown (in French;
every language at both widths is in test_accessibility_languages.py)."""

from __future__ import annotations

from datetime import date

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.conftest import Demo
from tests.browser.steps import (
    MIRE_TITLE,
    expect_account_home,
    expect_activation_page,
    fill_activation,
    log_in,
    submit_activation,
)
from tests.smtp import Mailbox

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Cartable#Violet42"


def assert_accessible(page: Page, what: str) -> None:
    """Run axe-core on the page as it is now (every rule axe runs by default)."""
    results = Axe().run(page)
    # Make sure axe looked at this page, not at an empty or half-loaded document.
    assert results.response["url"] == page.url
    assert results.response["testEngine"]["name"] == "axe-core"
    assert results.violations_count == 0, f"{what} ({page.url}):\n{results.generate_report()}"


def test_mire(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
    assert_accessible(page, "the mire")


def test_mire_with_errors(page: Page, demo: Demo) -> None:
    page.goto("/")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_text("Saisissez votre identifiant.")).to_be_visible()
    expect(page.get_by_text("Saisissez votre mot de passe.")).to_be_visible()
    assert_accessible(page, "the mire with empty fields")

    log_in(page, demo.guardians[0].identifier, "pas le bon mot de passe")
    expect(page.get_by_role("alert")).to_have_text("Identifiant ou mot de passe incorrect.")
    assert_accessible(page, "the mire after a wrong password")


def test_activation_page(page: Page, demo: Demo) -> None:
    guardian = demo.guardians[0]
    log_in(page, guardian.identifier, guardian.provisional_password)
    expect_activation_page(page, guardian.identifier)
    assert_accessible(page, "the activation page")

    # Empty form: every required field reports its error.
    submit_activation(page)
    expect(page.get_by_text("Choisissez un nouveau mot de passe.")).to_be_visible()
    expect(page.get_by_text("Renseignez la date de naissance.")).to_be_visible()
    assert_accessible(page, "the activation page with field errors")

    # A weak password, a different confirmation and a malformed email.
    page.get_by_label("Nouveau mot de passe").fill("cartable")
    page.get_by_label("Confirmez votre mot de passe").fill("autre")
    page.get_by_label("Email (facultatif)").fill("pas-une-adresse")
    submit_activation(page)
    expect(page.get_by_text("Doit contenir 1 majuscule").first).to_be_visible()
    expect(page.get_by_text("Saisissez une adresse email valide, par exemple nom@exemple.fr.")).to_be_visible()
    assert_accessible(page, "the activation page with a refused password and email")

    # A wrong birth date: the counted failure.
    page.get_by_label("Email (facultatif)").clear()
    fill_activation(page, password=NEW_PASSWORD, birth_date=date(1990, 1, 1))
    submit_activation(page)
    expect(page.get_by_role("alert")).to_contain_text("La date de naissance ne correspond pas.")
    assert_accessible(page, "the activation page after a wrong birth date")


def test_account_home(page: Page, demo: Demo, mailbox: Mailbox) -> None:
    guardian = demo.guardians[0]
    address = "parent@famille.example.fr"
    log_in(page, guardian.identifier, guardian.provisional_password)
    fill_activation(page, password=NEW_PASSWORD, birth_date=guardian.birth_date, email=address)
    submit_activation(page)
    expect(page.get_by_role("heading", name="Votre compte est activé", level=1)).to_be_visible()
    assert_accessible(page, "the activated page with the email to confirm")
    page.get_by_role("link", name="Continuer", exact=True).click()
    expect_account_home(page, guardian.identifier)
    expect(page.get_by_text("non vérifié", exact=True)).to_be_visible()
    assert_accessible(page, "the account home with its messages and an unverified email")

    page.goto("/compte/")
    expect_account_home(page, guardian.identifier)
    assert_accessible(page, "the account home")

    # The pages the verification link leads to.
    body = Mailbox.text(mailbox.wait_for(address))
    link = next(word for word in body.split() if "/email/verifier/" in word)
    page.goto(link)
    expect(page.get_by_role("button", name="Confirmer mon adresse")).to_be_visible()
    assert_accessible(page, "the email confirmation page")
    page.get_by_role("button", name="Confirmer mon adresse").click()
    expect(page.get_by_role("link", name="Accéder à mes services en ligne")).to_be_visible()
    assert_accessible(page, "the email confirmed page")


def test_pupil_account_home_on_a_phone(page: Page, demo: Demo) -> None:
    """Most families use a phone: the narrow layout (with the DSFR's header menu) must hold too."""
    page.set_viewport_size({"width": 375, "height": 740})
    pupil = demo.pupils[0]
    log_in(page, pupil.identifier, pupil.provisional_password, profile="Élève")
    expect_activation_page(page, pupil.identifier)
    assert_accessible(page, "the activation page on a phone")
    fill_activation(page, password=NEW_PASSWORD, birth_date=pupil.birth_date)
    submit_activation(page)
    expect_account_home(page, pupil.identifier)
    assert_accessible(page, "the pupil's account home on a phone")
    # The header's tools (language, logout) are reachable through the menu button.
    page.get_by_role("button", name="Menu").click()
    menu = page.locator("#menu-mobile")
    expect(menu.get_by_role("button", name="Se déconnecter")).to_be_visible()
    assert_accessible(page, "the header menu open on a phone")
