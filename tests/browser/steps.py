"""What a person does on the pages, step by step, shared by the browser tests."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import Page, expect

MIRE_TITLE = "J'accède aux services numériques des établissements scolaires"


def log_in(page: Page, identifier: str, password: str, *, profile: str = "Responsable d'élève") -> None:
    """Open the mire, choose the profile, type the identifier and password, and press "Se connecter"."""
    page.goto("/")
    expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
    # The DSFR draws the radio button over its label: a person clicks the label.
    page.locator("label", has_text=re.compile(f"^{re.escape(profile)}$")).click()
    expect(page.get_by_label(profile, exact=True)).to_be_checked()
    page.get_by_label("Identifiant").fill(identifier)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def expect_activation_page(page: Page, identifier: str) -> None:
    expect(page.get_by_role("heading", name="Activation du compte")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/activation/[0-9a-f-]{36}/$"))
    expect(page.locator("main strong")).to_have_text(identifier)


def fill_activation(page: Page, *, password: str, birth_date: date, email: str = "") -> None:
    """Fill "Activation du compte" (without submitting it)."""
    page.get_by_label("Nouveau mot de passe").fill(password)
    page.get_by_label("Confirmez votre mot de passe").fill(password)
    page.get_by_label("Votre date de naissance").fill(birth_date.isoformat())
    if email:
        page.get_by_label("Email (facultatif)").fill(email)


def submit_activation(page: Page) -> None:
    page.get_by_role("button", name="Activer votre compte").click()


def expect_account_home(page: Page, identifier: str) -> None:
    expect(page.get_by_role("heading", name="Gérer mon compte", level=1)).to_be_visible()
    expect(page.locator("#my-identifier")).to_have_text(identifier)


def log_out(page: Page) -> None:
    page.get_by_role("main").get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
