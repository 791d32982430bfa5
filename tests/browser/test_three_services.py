"""One login opens all three demo services: the ENT (SAML), the Pronote-like (OpenID Connect) and the
téléservices-like (SAML); one logout ends them all.

Trousseau runs as the live server with the demo académie. The three services run as `make run`
starts them: `python -m ent serve --mode …` subprocesses, each on its own port, registered in
Trousseau with `saml_sp_add --url` (the ENT and the téléservices, from the metadata they serve) and
`oidc_client_add --update` (the Pronote-like, with a fixed demo client id and secret, `--children`).
A guardian who activated the letter then walks: ENT portal -> profile -> level -> Trousseau's mire
-> ENT home; the Pronote-like and the téléservices-like open with no login form; "Se déconnecter"
in the Pronote-like (RP-initiated logout) ends Trousseau's session and, through it, the others'.
"""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from ent.config import DEMO_OIDC_CLIENT_ID, DEMO_OIDC_CLIENT_SECRET, MODES
from tests.browser.conftest import Demo, Letter
from tests.browser.steps import (
    MIRE_TITLE,
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

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Cartable#2024"
EDUCONNECT = "Élève ou responsable légal avec EduConnect"
PORTAL_HEADING = re.compile("vous souhaitez vous connecter en tant que")
START_SECONDS = 60  # the first start makes two RSA-3072 key pairs per SAML service
# Trousseau's login pages: the mire (`/login`) and the SAML login path (`…/SSO?execution=e1s1`).
MIRE_URL = re.compile(r"/login(\?|$)|[?&]execution=")


@dataclass
class Service:
    """A demo service running in its own process, as `make run` starts it."""

    mode: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/auth/saml/metadata"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - a local test URL
            return bool(answer.status == 200)
    except OSError:
        return False


def _spawn(mode: str, trousseau: str, var_dir: Path, logs: Path) -> Service:
    """`python -m ent serve --mode <mode>` on a free port; retried if the port was taken meanwhile."""
    for _ in range(3):
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "ENT_PUBLIC_URL": url,
            "ENT_IDP_METADATA_URL": f"{trousseau}/idp/shibboleth",
            "ENT_OIDC_ISSUER": trousseau,
            "ENT_OIDC_CLIENT_ID": DEMO_OIDC_CLIENT_ID,
            "ENT_OIDC_CLIENT_SECRET": DEMO_OIDC_CLIENT_SECRET,
            "ENT_VAR_DIR": str(var_dir / mode),
        }
        log = logs / f"{mode}-{port}.log"
        with log.open("w") as handle:
            process = subprocess.Popen(  # noqa: S603 - our own module, by the running interpreter
                [sys.executable, "-m", "ent", "serve", "--mode", mode], cwd=ROOT, env=env, stdout=handle, stderr=handle
            )
        service = Service(mode, url, process, log)
        ready = f"{url}/auth/saml/metadata" if mode != "pronote" else f"{url}/sante"
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            if _answers(ready):
                return service
            time.sleep(0.2)
        service.stop()
    pytest.fail(f"the {mode} service did not start:\n{log.read_text()}")


@pytest.fixture(scope="session")
def services_var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SAML services' key pairs (RSA-3072, slow to make), kept for the whole session."""
    return tmp_path_factory.mktemp("demo-services")


@pytest.fixture
def trousseau(live_server: LiveServer, settings: Settings, demo: Demo) -> LiveServer:
    """The live server is the SAML IdP and the OpenID Connect issuer (discovery, JWKS) at its own URL."""
    settings.PUBLIC_URL = live_server.url
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": live_server.url}
    return live_server


@pytest.fixture
def services(trousseau: LiveServer, services_var: Path, tmp_path: Path) -> Iterator[dict[str, Service]]:
    """The three demo services, started and registered in Trousseau as `make run` does."""
    running: dict[str, Service] = {}
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:  # started side by side, as `make run` does
            futures = {mode: pool.submit(_spawn, mode, trousseau.url, services_var, tmp_path) for mode in MODES}
            for mode, future in futures.items():
                running[mode] = future.result()
        ent, pronote, teleservices = running["ent"], running["pronote"], running["teleservices"]
        quiet = {"stdout": io.StringIO()}
        call_command(
            "saml_sp_add", "--url", ent.metadata_url, "--name", "ENT de démonstration",
            "--home-url", f"{ent.url}/", "--release-children", "--release-ine", "--encrypt", "--idp-initiated", **quiet,
        )  # fmt: skip
        call_command(
            "saml_sp_add", "--url", teleservices.metadata_url, "--name", "Téléservices (démonstration)",
            "--home-url", f"{teleservices.url}/", "--no-release-children", "--encrypt", "--no-idp-initiated", **quiet,
        )  # fmt: skip
        for _ in range(2):  # idempotent, as `make run` runs it at every start
            call_command(
                "oidc_client_add", "--update", "--name", "Pronote (démonstration)",
                "--client-id", DEMO_OIDC_CLIENT_ID, "--client-secret", DEMO_OIDC_CLIENT_SECRET,
                "--home-url", f"{pronote.url}/",
                "--redirect-uri", f"{pronote.url}/auth/oidc/callback",
                "--post-logout-uri", f"{pronote.url}/deconnecte",
                "--backchannel-uri", f"{pronote.url}/auth/oidc/backchannel",
                "--children", **quiet,
            )  # fmt: skip
        yield running
    finally:
        for service in running.values():
            service.stop()


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
    expect_mire(page)
    choose(page, "Responsable d'élève")
    page.get_by_label("Identifiant").fill(letter.identifier)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def ent_login(page: Page, ent: Service, letter: Letter, level: str) -> None:
    """ENT portal -> "Élève ou responsable légal avec EduConnect" -> level -> Trousseau's mire -> ENT home."""
    page.goto(ent.url + "/")
    expect(page.get_by_role("heading", name=PORTAL_HEADING)).to_be_visible()
    choose(page, EDUCONNECT)
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("group", name="Sélectionnez votre niveau")).to_be_visible()
    choose(page, level)
    choose(page, "Non (je me connecte depuis un lieu public)")
    page.get_by_role("button", name="Se connecter").click()
    sign_in_on_the_mire(page, letter)
    expect_home(page, ent, letter, "ENT de démonstration")


def expect_mire(page: Page) -> None:
    expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
    expect(page.get_by_label("Mot de passe")).to_be_visible()


def expect_home(page: Page, service: Service, letter: Letter, brand: str) -> None:
    expect(page).to_have_url(f"{service.url}/accueil")
    expect(page.locator(".fr-header__service-title")).to_have_text(brand)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {letter.first_name} {letter.last_name.upper()}")
    expect(page.locator("#ent-profile")).to_contain_text("Responsable légal")


def expect_children(page: Page, children: list[tuple[str, str]], school_uai: str) -> None:
    table = page.get_by_role("table", name="Mes enfants")
    expect(table).to_be_visible()
    for last_name, first_name in children:
        expect(table.get_by_role("row").filter(has_text=first_name).filter(has_text=last_name)).to_have_count(1)
    expect(table.get_by_role("cell", name=school_uai).first).to_be_visible()


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
