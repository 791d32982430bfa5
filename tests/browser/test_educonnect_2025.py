"""ÉduConnect's 2025 login steps in a browser, with and without JavaScript (issue #20).

The téléservices-like demo service (SAML, no portal) sends the browser to Trousseau: e1s1, the
local-storage page, goes on by itself (script) or by its "Continuer" button (no script); e1s2 is the
mire; after the password, e1s3, the other local-storage page, goes on the same way to the auto-POST
page and back to the service. axe finds nothing on the new pages.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from playwright.sync_api import Browser, Page, Route, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from ent.config import Config
from ent.server import start_in_thread
from tests import factories
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.steps import MIRE_TITLE
from tests.federation.conftest import active_guardian
from trousseau.accounts.models import Account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SSO = "/idp/profile/SAML2/Redirect/SSO"


@pytest.fixture(scope="session")
def teleservices_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The service's key pairs (RSA-3072, slow to make), kept for the whole session."""
    return tmp_path_factory.mktemp("teleservices-2025")


@pytest.fixture
def teleservices(live_server: LiveServer, settings: Settings, teleservices_keys: Path) -> Iterator[str]:
    settings.PUBLIC_URL = live_server.url

    def configure(url: str) -> Config:
        return Config(
            public_url=url,
            idp_metadata_url=f"{live_server.url}/idp/shibboleth",
            var_dir=teleservices_keys,
            cookie_prefix="tele2025",
            mode="teleservices",
        )

    server, app = start_in_thread(configure)
    call_command(
        "saml_sp_add", "--url", app.config.entity_id, "--name", "Téléservices", "--encrypt", stdout=io.StringIO()
    )
    yield app.config.public_url
    server.shutdown()
    server.server_close()


@pytest.fixture
def guardian(transactional_db: None) -> Account:
    return active_guardian()


def expect_no_axe_violation(page: Page, what: str) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, f"{what} ({page.url}):\n{results.generate_report()}"


def expect_accessible_as_without_script(browser: Browser, page: Page, what: str) -> None:
    """axe on the page a browser without script shows here (axe itself needs script to run).

    The same URL, with this browser's cookies, in a context with script: the page's own script is
    not loaded, and its <noscript> content is shown as a browser without script shows it.
    """
    context = browser.new_context(locale="fr-FR")
    context.add_cookies(page.context.cookies())  # type: ignore[arg-type]
    try:
        probe = context.new_page()

        def unwrapped(route: Route) -> None:
            fetched = route.fetch()
            body = fetched.text().replace("<noscript>", "").replace("</noscript>", "")
            route.fulfill(response=fetched, body=body)

        probe.route(re.compile(r"execution=e\d+s\d$"), unwrapped)
        probe.route(re.compile(r"/static/saml/storage\.js$"), lambda route: route.abort())
        probe.goto(page.url)
        expect(probe.get_by_role("button", name="Continuer")).to_be_visible()
        expect_no_axe_violation(probe, what)
    finally:
        context.close()


def sign_in(page: Page, account: Account) -> None:
    expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
    page.get_by_label("Identifiant").fill(account.identifier)
    page.get_by_label("Mot de passe").fill(factories.GOOD_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


@pytest.mark.parametrize("mode", ["compat", "strict"])
def test_with_javascript_the_local_storage_pages_go_on_by_themselves(
    page: Page, teleservices: str, guardian: Account, settings: Settings, mode: str
):
    settings.SAML_LOGIN_MODE = mode
    steps: list[str] = []
    page.on("response", lambda response: steps.extend(re.findall(r"execution=(e\d+s\d)", response.url)))
    page.goto(teleservices + "/")
    expect(page).to_have_url(re.compile(rf"{re.escape(SSO)}\?execution=e1s2$"))
    expect_no_axe_violation(page, "the login form")
    sign_in(page, guardian)
    expect(page).to_have_url(teleservices + "/accueil")
    expect(page.get_by_role("heading", name=f"Bonjour {guardian.first_name}")).to_be_visible()
    assert [step for i, step in enumerate(steps) if step not in steps[:i]] == ["e1s1", "e1s2", "e1s3"]


def test_without_javascript_each_page_has_its_button_and_axe_finds_nothing(
    browser: Browser, live_server: LiveServer, teleservices: str, guardian: Account
):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(teleservices + "/")  # the service's AuthnRequest, Redirect binding: 302 to Trousseau
        expect(page).to_have_url(re.compile(rf"{re.escape(SSO)}\?execution=e1s1$"))
        expect(page).to_have_title(re.compile("^Connexion"))
        expect_accessible_as_without_script(browser, page, "the local-storage read page")
        page.get_by_role("button", name="Continuer").click()
        expect(page).to_have_url(re.compile(r"execution=e1s2$"))
        sign_in(page, guardian)
        expect(page).to_have_url(re.compile(r"execution=e1s3$"))
        expect_accessible_as_without_script(browser, page, "the local-storage write page")
        page.get_by_role("button", name="Continuer").click()
        page.get_by_role("button", name="Continuer").click()  # the auto-post page with the SAMLResponse
        expect(page).to_have_url(teleservices + "/accueil")
        expect(page.get_by_role("heading", name=f"Bonjour {guardian.first_name}")).to_be_visible()
    finally:
        context.close()


def test_a_wrong_password_shows_the_mire_and_its_error(page: Page, teleservices: str, guardian: Account):
    page.goto(teleservices + "/")
    expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
    page.get_by_label("Identifiant").fill(guardian.identifier)
    page.get_by_label("Mot de passe").fill("Mauvais#Passe9")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_have_text("Identifiant ou mot de passe incorrect.")
    expect(page).to_have_url(re.compile(r"execution=e1s2$"))
    expect_no_axe_violation(page, "the login form with its error")
