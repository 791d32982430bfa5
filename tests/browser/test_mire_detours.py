"""The mire's own detours, walked in Chromium from the demo services (issue #17).

- "Je suis : Élève" hides FranceConnect and "Je n'ai pas de compte"; a guardian who logs in as "Élève"
  is told which profile the account has, picks "Responsable d'élève" and reaches the ENT.
- "Vous êtes déjà connecté": the Pronote-like's login page, left open in one tab while the person
  logs in at the ENT in another, reloaded, then "Continuer vers « Pronote »": the Pronote-like's home.
- The request-gone page: the téléservices-like's login page copied into another browser, or reopened
  after its answer, says the request is gone; "Mes services" and "Aller sur « … »" lead back in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import TIMEOUT_MS, Demo, Letter
from tests.browser.services import (
    Service,
    expect_mire,
    expect_service_home,
    open_ent_login,
    open_service_login,
    sign_in,
)
from tests.browser.steps import choose, expect_accessible
from trousseau.accounts.models import Account
from trousseau.accounts.services import account_activate, current_letter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Cartable#Violet42"
GONE = "Votre demande de connexion n'est plus en cours"
PHONE: ViewportSize = {"width": 375, "height": 740}
DESKTOP: ViewportSize = {"width": 1280, "height": 720}


def activated_guardian(demo: Demo) -> Letter:
    """A guardian who activated the school's letter earlier (the activation has its own walks)."""
    letter = demo.guardians[0]
    account = Account.objects.get(identifier=letter.identifier)
    issued = current_letter(account)
    assert issued is not None
    account_activate(account=account, letter_id=issued.pk, password=PASSWORD, email="")
    return letter


@pytest.fixture
def other_browser(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """Another browser (a phone, the school's computer): no cookie shared with `page`."""
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def guardians_parts(page: Page) -> list[Locator]:
    return [
        page.get_by_role("link", name=re.compile("FranceConnect")).first,
        page.get_by_role("heading", name="Je simplifie mes accès avec FranceConnect"),
        page.get_by_role("link", name="Je n'ai pas de compte"),
    ]


def test_a_guardian_who_picks_eleve_is_told_their_profile_and_reaches_the_ent(
    page: Page, demo: Demo, services: dict[str, Service]
) -> None:
    ent = services["ent"]
    letter = activated_guardian(demo)
    open_ent_login(page, ent)
    for part in guardians_parts(page):
        expect(part).to_be_visible()

    # "Élève": no FranceConnect, no self-registration (hidden from assistive technologies too: the
    # roles are gone), and a word on the letter from the school instead.
    choose(page, "Élève")
    for part in guardians_parts(page):
        expect(part).to_be_hidden()
    expect(page.get_by_role("link", name=re.compile("FranceConnect"))).to_have_count(0)
    expect(page.get_by_role("link", name="Je n'ai pas de compte")).to_have_count(0)
    expect(page.get_by_text("À la première connexion, saisissez l'identifiant et le mot de passe")).to_be_visible()
    expect_accessible(page, "the mire, Élève chosen")
    page.set_viewport_size(PHONE)
    expect_accessible(page, "the mire, Élève chosen, phone width")
    page.set_viewport_size(DESKTOP)

    # A guardian's right password under "Élève": told which profile, not logged in.
    page.get_by_label("Identifiant").fill(letter.identifier)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Ce compte est un compte de responsable d'élève : choisissez « Responsable d'élève »."
    )
    expect_mire(page)
    expect(page.get_by_label("Élève", exact=True)).to_be_checked()
    expect(page.get_by_role("link", name="Je n'ai pas de compte")).to_have_count(0)

    choose(page, "Responsable d'élève")
    for part in guardians_parts(page):
        expect(part).to_be_visible()
    sign_in(page, letter.identifier, PASSWORD)
    expect_service_home(page, ent, letter.first_name, letter.last_name)


def test_already_logged_in_then_continue_reaches_the_service(
    page: Page, demo: Demo, services: dict[str, Service]
) -> None:
    ent, pronote = services["ent"], services["pronote"]
    letter = activated_guardian(demo)
    # The Pronote-like's login page, left open in a tab ...
    open_service_login(page, pronote)
    expect(page).to_have_url(re.compile(r"/login\?next=/idp/profile/oidc/authorize"))
    # ... while the person logs in at the ENT in another tab.
    ent_tab = page.context.new_page()
    open_ent_login(ent_tab, ent)
    sign_in(ent_tab, letter.identifier, PASSWORD)
    expect_service_home(ent_tab, ent, letter.first_name, letter.last_name)
    ent_tab.close()

    page.reload()
    expect(page.get_by_role("heading", name="Vous êtes déjà connecté")).to_be_visible()
    expect(page.get_by_text(f"({letter.identifier})")).to_be_visible()
    expect_accessible(page, "Vous êtes déjà connecté")
    page.get_by_role("link", name=f"Continuer vers « {pronote.brand} »").click()
    expect_service_home(page, pronote, letter.first_name, letter.last_name)


def test_a_login_page_whose_request_is_gone_leads_back_to_the_service(
    page: Page, other_browser: Page, demo: Demo, services: dict[str, Service]
) -> None:
    teleservices = services["teleservices"]
    letter = activated_guardian(demo)
    open_service_login(page, teleservices)
    login_url = page.url
    assert "execution=" in login_url

    # The login URL copied into another browser: the request is not there; no service to name.
    other_browser.goto(login_url)
    expect(other_browser.get_by_role("heading", name=GONE)).to_be_visible()
    expect(other_browser.get_by_role("link", name=re.compile("^Aller sur"))).to_have_count(0)
    expect(other_browser.get_by_role("main")).not_to_contain_text(teleservices.brand)
    expect_accessible(other_browser, "request gone, another browser")
    other_browser.set_viewport_size(PHONE)
    expect_accessible(other_browser, "request gone, another browser, phone width")
    other_browser.set_viewport_size(DESKTOP)
    # "Mes services" there: a login first, then the list, then the service.
    other_browser.get_by_role("link", name="Mes services").click()
    sign_in(other_browser, letter.identifier, PASSWORD)
    expect(other_browser.get_by_role("heading", name="Mes services", level=1)).to_be_visible()
    expect_accessible(other_browser, "Mes services")
    other_browser.get_by_role("link", name=teleservices.brand, exact=True).click()
    expect_service_home(other_browser, teleservices, letter.first_name, letter.last_name)

    # The first browser logs in on its page, then reopens it from its history: gone, and named.
    sign_in(page, letter.identifier, PASSWORD)
    expect_service_home(page, teleservices, letter.first_name, letter.last_name)
    page.goto(login_url)
    expect(page.get_by_role("heading", name=GONE)).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(f"La connexion à « {teleservices.brand} » a expiré")
    expect_accessible(page, "request gone, named service")
    page.get_by_role("link", name=f"Aller sur « {teleservices.brand} »").click()
    expect_service_home(page, teleservices, letter.first_name, letter.last_name)
