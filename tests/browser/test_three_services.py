"""One login opens all three demo services: the ENT (SAML), the Pronote-like (OpenID Connect) and the
téléservices-like (SAML); one logout ends them all.

Trousseau runs as the live server with the demo académie; the three services run as `make run` starts
them (tests/browser/services.py).
A guardian who activated the letter then walks: ENT portal -> profile -> level -> Trousseau's mire
-> ENT home; the Pronote-like and the téléservices-like open with no login form; "Se déconnecter"
in the Pronote-like (RP-initiated logout) ends Trousseau's session and, through it, the others'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import Demo, Letter
from tests.browser.services import (
    PORTAL_HEADING,
    Service,
    expect_children,
    expect_mire,
    expect_service_home,
    open_ent_login,
    sign_in,
)
from tests.browser.steps import (
    choose,
    expect_account_home,
    expect_activation_page,
    fill_activation,
    log_in,
    log_out,
    submit_activation,
)
from trousseau.accounts.models import Account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Cartable#2024"
# Trousseau's login pages: the mire (`/login`) and the SAML login path (`…/SSO?execution=e1s1`).
MIRE_URL = re.compile(r"/login(\?|$)|[?&]execution=")


@dataclass
class Watch:
    """What the tab went through: every document it asked for (redirects included), and every page
    that showed a password field as it loaded (an init script reports it)."""

    navigations: list[str] = field(default_factory=list)
    password_pages: list[str] = field(default_factory=list)

    def report_password(self, source: Any, url: str) -> None:
        self.password_pages.append(url)

    def reset(self) -> None:
        self.navigations.clear()
        self.password_pages.clear()

    def went_through(self, prefix: str) -> bool:
        return any(url.startswith(prefix) for url in self.navigations)

    def expect_single_sign_on(self, trousseau: str, path: str) -> None:
        """Trousseau answered at `path` at once: no mire, no password field on the way."""
        assert self.went_through(trousseau + path), self.navigations
        assert not [url for url in self.navigations if MIRE_URL.search(url)], self.navigations
        assert self.password_pages == [], self.password_pages


@pytest.fixture
def watch(page: Page) -> Watch:
    watch = Watch()
    page.on(
        "request", lambda request: watch.navigations.append(request.url) if request.is_navigation_request() else None
    )
    page.context.expose_binding("reportPasswordField", watch.report_password)
    page.context.add_init_script(
        "document.addEventListener('DOMContentLoaded', () => {"
        " if (document.querySelector('input[type=password]')) window.reportPasswordField(location.href); });"
    )
    return watch


# --- Steps ----------------------------------------------------------------------------------------


def activated_guardian(page: Page, demo: Demo) -> Letter:
    """A guardian who has activated the school's letter on Trousseau (and logged out again)."""
    letter = demo.guardians[0]
    log_in(page, letter.identifier, letter.provisional_password)
    expect_activation_page(page, letter.identifier)
    fill_activation(page, password=PASSWORD, birth_date=letter.birth_date)
    submit_activation(page)
    expect_account_home(page, letter.identifier)
    log_out(page)
    return letter


def children_of(letter: Letter) -> list[tuple[str, str]]:
    """(LAST NAME, first name) of the guardian's children, as the directory knows them."""
    account = Account.objects.get(identifier=letter.identifier)
    pupils = account.pupils().order_by("birth_date", "pk")
    names = [(pupil.last_name.upper(), pupil.first_name) for pupil in pupils]
    assert names, "the demo guardian has no children"
    return names


def sign_in_on_the_mire(page: Page, letter: Letter) -> None:
    sign_in(page, letter.identifier, PASSWORD)


def ent_login(page: Page, ent: Service, letter: Letter, level: str) -> None:
    """ENT portal -> "Élève ou responsable légal avec EduConnect" -> level -> Trousseau's mire -> ENT home."""
    open_ent_login(page, ent, level)
    sign_in_on_the_mire(page, letter)
    expect_home(page, ent, letter, "ENT de démonstration")


def expect_home(page: Page, service: Service, letter: Letter, brand: str) -> None:
    assert brand == service.brand
    expect_service_home(page, service, letter.first_name, letter.last_name)


def expect_accessible(page: Page, what: str) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, f"{what} ({page.url}):\n{results.generate_report()}"


# --- The walk -------------------------------------------------------------------------------------


def expect_logged_out_everywhere(page: Page, trousseau: str, services: dict[str, Service]) -> None:
    """Trousseau asks to log in, and each service starts a new login."""
    page.goto(f"{trousseau}/compte/")
    expect_mire(page)
    expect(page).to_have_url(re.compile(r"/login\?next=/compte/$"))
    page.goto(services["pronote"].url + "/accueil")
    expect_mire(page)
    expect(page).to_have_url(re.compile(re.escape(trousseau) + r"/login\?next=/idp/profile/oidc/authorize"))
    page.goto(services["teleservices"].url + "/accueil")
    expect_mire(page)
    expect(page).to_have_url(re.compile(r"/idp/profile/SAML2/Redirect/SSO\?execution="))
    page.goto(services["ent"].url + "/accueil")
    expect(page).to_have_url(services["ent"].url + "/")
    expect(page.get_by_role("heading", name=PORTAL_HEADING)).to_be_visible()


def test_one_login_opens_the_ent_pronote_and_the_teleservices_and_one_logout_ends_them(
    page: Page, demo: Demo, trousseau: LiveServer, services: dict[str, Service], watch: Watch
):
    ent, pronote, teleservices = services["ent"], services["pronote"], services["teleservices"]
    letter = activated_guardian(page, demo)
    children = children_of(letter)

    # ENT portal -> profile -> level -> Trousseau's mire -> ENT home.
    watch.reset()
    ent_login(page, ent, letter, "Collège")
    expect(page.get_by_text("Vous êtes connecté(e) à l'espace collège de l'ENT de démonstration.")).to_be_visible()
    expect_children(page, children, letter.school_uai)
    assert len(watch.password_pages) == 1, watch.password_pages  # the mire, once: the watch sees forms

    # The Pronote-like opens logged in: an authorization code at once, no mire.
    watch.reset()
    page.goto(pronote.url + "/")
    expect_home(page, pronote, letter, "Pronote (démonstration)")
    expect(page.get_by_text("Vous êtes connecté(e) à l'espace parents de Pronote (démonstration).")).to_be_visible()
    expect_children(page, children, letter.school_uai)
    expect(page.locator("#pronote-issuer")).to_have_text(trousseau.url)
    expect(page.locator("#pronote-id-token")).to_contain_text("signature RS256 vérifiée")
    expect(page.locator("#pronote-scope")).to_contain_text("children")
    watch.expect_single_sign_on(trousseau.url, "/idp/profile/oidc/authorize")
    expect_accessible(page, "Pronote-like home")

    # The téléservices-like opens logged in too (SAML), and knows neither the children nor, through their
    # join vectors, their schools: it is registered without children (issue #15, finding 3).
    watch.reset()
    page.goto(teleservices.url + "/")
    expect_home(page, teleservices, letter, "Téléservices (démonstration)")
    expect(page.get_by_text("Vous êtes connecté(e) aux téléservices avec EduConnect.")).to_be_visible()
    expect(page.locator("#ent-schools")).not_to_contain_text(letter.school_uai)
    expect(page.locator("#ent-no-children")).to_be_visible()
    expect(page.get_by_role("table", name="Mes enfants")).to_have_count(0)
    for _, first_name in children:
        expect(page.get_by_role("main")).not_to_contain_text(first_name)
    watch.expect_single_sign_on(trousseau.url, "/idp/profile/SAML2/Redirect/SSO")
    expect_accessible(page, "téléservices-like home")

    # "Se déconnecter" in the Pronote-like: RP-initiated logout, then Trousseau's SAML logout chain.
    page.goto(pronote.url + "/accueil")
    watch.reset()
    page.get_by_role("main").get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(re.escape(f"{pronote.url}/deconnecte?state=")))
    expect(
        page.get_by_text("Vous êtes déconnecté(e) de Pronote et du service d'authentification EduConnect.")
    ).to_be_visible()
    assert watch.went_through(f"{trousseau.url}/idp/profile/oidc/logout?"), watch.navigations
    assert watch.went_through(f"{ent.url}/auth/saml/slo?"), watch.navigations
    assert watch.went_through(f"{teleservices.url}/auth/saml/slo?"), watch.navigations
    expect_accessible(page, "Pronote-like logout page")

    expect_logged_out_everywhere(page, trousseau.url, services)


def test_a_logout_from_the_ent_reaches_the_pronote_like_by_back_channel(
    page: Page, demo: Demo, trousseau: LiveServer, services: dict[str, Service]
):
    ent, pronote = services["ent"], services["pronote"]
    letter = activated_guardian(page, demo)
    ent_login(page, ent, letter, "Lycée")
    page.goto(pronote.url + "/")
    expect_home(page, pronote, letter, "Pronote (démonstration)")

    # SAML logout from the ENT: Trousseau tells the Pronote-like by back-channel (a signed logout token).
    page.goto(ent.url + "/accueil")
    page.get_by_role("main").get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(ent.url + "/deconnecte")
    expect(
        page.get_by_text("Vous êtes déconnecté(e) de l'ENT et du service d'authentification EduConnect.")
    ).to_be_visible()
    page.goto(pronote.url + "/accueil")
    expect_mire(page)
    assert "back-channel logout ended 1 session(s)" in pronote.log.read_text()


def test_logging_in_first_at_the_pronote_like_goes_through_the_mire(
    page: Page, demo: Demo, trousseau: LiveServer, services: dict[str, Service]
):
    pronote = services["pronote"]
    letter = activated_guardian(page, demo)
    page.goto(pronote.url + "/")
    sign_in_on_the_mire(page, letter)
    expect_home(page, pronote, letter, "Pronote (démonstration)")


def test_a_letter_activated_on_the_way_to_the_pronote_like_lands_there(
    page: Page, demo: Demo, trousseau: LiveServer, services: dict[str, Service]
):
    """First ever login, started at the Pronote-like with the school's letter: activation, then the code
    reaches the client (the activation page lets its form lead to the client's registered origin)."""
    pronote = services["pronote"]
    letter = demo.guardians[1]
    page.goto(pronote.url + "/")
    expect_mire(page)
    choose(page, "Responsable d'élève")
    page.get_by_label("Identifiant").fill(letter.identifier)
    page.get_by_label("Mot de passe").fill(letter.provisional_password)
    page.get_by_role("button", name="Se connecter").click()
    expect_activation_page(page, letter.identifier)
    fill_activation(page, password=PASSWORD, birth_date=letter.birth_date)
    submit_activation(page)
    expect_home(page, pronote, letter, "Pronote (démonstration)")
    assert Account.objects.get(identifier=letter.identifier).state == "active"
