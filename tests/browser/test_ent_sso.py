"""The demo ENT (ent/, python3-saml) signs in through Trousseau's SAML IdP, as a family would.

Trousseau runs as the live server with the demo académie; two ENT instances (the collège's and the
lycée's, each its own SAML service provider) run in threads and are registered in Trousseau with
`saml_sp_add --url`, as `make run` does. A guardian activates the letter, then: ENT portal -> profile
-> level with "Mémoriser ce choix" -> Trousseau's mire -> ENT home; the second ENT opens without a
login form; the IdP-initiated URL opens the ENT; logging out of the ENT ends the Trousseau session.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from ent.config import Config
from ent.saml_site import Ent
from ent.server import start_in_thread
from tests.browser.conftest import Demo, Letter
from tests.browser.steps import (
    MIRE_TITLE,
    expect_account_home,
    expect_activation_page,
    fill_activation,
    log_in,
    log_out,
    submit_activation,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Cartable#2024"
EDUCONNECT = "Élève ou responsable légal avec EduConnect"
REMEMBER = "Oui (je me connecte depuis mon ordinateur)"


@dataclass(frozen=True)
class RunningEnt:
    url: str
    app: Ent

    @property
    def entity_id(self) -> str:
        return self.app.config.entity_id


@pytest.fixture(scope="session")
def ent_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ENTs' key pairs (RSA-3072, slow to make), kept for the whole session."""
    return tmp_path_factory.mktemp("ent-keys")


def _start_ent(
    live_server: LiveServer, var_dir: Path, name: str, prefix: str, binding: Literal["redirect", "post"]
) -> Iterator[RunningEnt]:
    def configure(url: str) -> Config:
        return Config(
            public_url=url,
            idp_metadata_url=f"{live_server.url}/idp/shibboleth",
            var_dir=var_dir,
            name=name,
            cookie_prefix=prefix,
            sso_binding=binding,
            require_encryption=True,
        )

    server, app = start_in_thread(configure)
    running = RunningEnt(app.config.public_url, app)
    # Registered from the metadata the ENT serves, as `make run` does.
    call_command(
        "saml_sp_add",
        "--url",
        running.entity_id,
        "--name",
        name,
        "--release-children",
        "--release-join",
        "--encrypt",
        "--idp-initiated",
        stdout=io.StringIO(),
    )
    yield running
    server.shutdown()
    server.server_close()


@pytest.fixture
def trousseau(live_server: LiveServer, settings: Settings, demo: Demo) -> LiveServer:
    settings.PUBLIC_URL = live_server.url
    return live_server


@pytest.fixture
def ent(trousseau: LiveServer, ent_keys: Path) -> Iterator[RunningEnt]:
    yield from _start_ent(trousseau, ent_keys / "college", "ENT de démonstration", "ent", "redirect")


@pytest.fixture
def ent_lycee(trousseau: LiveServer, ent_keys: Path) -> Iterator[RunningEnt]:
    """A second service provider, sending its AuthnRequest with the HTTP-POST binding (as Kosmos CAS does)."""
    yield from _start_ent(trousseau, ent_keys / "lycee", "ENT du lycée", "entlycee", "post")


COLLEGE_UAI = "0145678B"  # the demo's collège (trousseau/demo/services.py)


def activated_guardian(page: Page, demo: Demo) -> Letter:
    """A collège guardian who has activated the school's letter on Trousseau (and logged out again).

    A collège's records come from SIECLE, whose PERSONNE_ID gives the ENT its `{AAF}` join vector (an
    école's come from ONDE, which has none).
    """
    letter = next(g for g in demo.guardians if g.school_uai == COLLEGE_UAI)
    log_in(page, letter.identifier, letter.provisional_password)
    expect_activation_page(page, letter.identifier)
    fill_activation(page, password=PASSWORD, birth_date=letter.birth_date)
    submit_activation(page)
    expect_account_home(page, letter.identifier)
    log_out(page)
    return letter


def choose(page: Page, label: str) -> None:
    """Pick a radio button by its label, as a person clicks the label the DSFR draws over it."""
    page.locator("label", has_text=re.compile(f"^{re.escape(label)}$")).click()
    expect(page.get_by_label(label, exact=True)).to_be_checked()


def portal_to_educonnect(page: Page, ent: RunningEnt, level: str, *, remember: bool) -> None:
    page.goto(ent.url + "/")
    expect(page.get_by_role("heading", name=re.compile("vous souhaitez vous connecter en tant que"))).to_be_visible()
    choose(page, EDUCONNECT)
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("group", name="Sélectionnez votre niveau")).to_be_visible()
    choose(page, level)
    choose(page, REMEMBER if remember else "Non (je me connecte depuis un lieu public)")
    page.get_by_role("button", name="Se connecter").click()


def sign_in_on_the_mire(page: Page, letter: Letter) -> None:
    expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/idp/profile/SAML2/Redirect/SSO"))
    choose(page, "Responsable d'élève")
    page.get_by_label("Identifiant").fill(letter.identifier)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def expect_ent_home(page: Page, ent: RunningEnt, letter: Letter) -> None:
    expect(page).to_have_url(ent.url + "/accueil")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {letter.first_name} {letter.last_name.upper()}")
    expect(page.locator("#ent-profile")).to_contain_text("Responsable légal")
    expect(page.locator("#ent-encrypted")).to_have_text("oui")


def test_a_guardian_signs_in_to_the_ent_through_trousseau_and_out_again(
    page: Page, demo: Demo, trousseau: LiveServer, ent: RunningEnt, ent_lycee: RunningEnt
):
    letter = activated_guardian(page, demo)

    # The ENT portal of the seeds, then Trousseau's mire, then the ENT home.
    portal_to_educonnect(page, ent, "Collège", remember=True)
    sign_in_on_the_mire(page, letter)
    expect_ent_home(page, ent, letter)
    expect(page.get_by_text("Vous êtes connecté(e) à l'espace collège")).to_be_visible()
    children = page.get_by_role("table", name="Mes enfants")
    expect(children).to_be_visible()
    expect(children.get_by_role("cell", name=letter.school_uai).first).to_be_visible()
    expect(page.locator("#ent-join")).to_contain_text(re.compile(r"[A-Z-]+-\w+"))
    home = Axe().run(page)
    assert home.violations_count == 0, home.generate_report()

    # "Mémoriser ce choix": the portal is skipped, and Trousseau's session answers without a form.
    page.goto(ent.url + "/accueil")
    page.context.clear_cookies(name="ent_session")
    page.goto(ent.url + "/")
    expect_ent_home(page, ent, letter)

    # Another service provider (the lycée's ENT) opens without a second login.
    portal_to_educonnect(page, ent_lycee, "Lycée", remember=False)
    expect_ent_home(page, ent_lycee, letter)
    expect(page.get_by_text("Vous êtes connecté(e) à l'espace lycée")).to_be_visible()

    # IdP-initiated SSO, as ENT links and pronotepy use it.
    page.context.clear_cookies(name="ent_session")
    page.goto(f"{trousseau.url}/idp/profile/SAML2/Unsolicited/SSO?providerId={quote(ent.entity_id, safe='')}")
    expect_ent_home(page, ent, letter)

    # "Se déconnecter" in the ENT: single logout through Trousseau.
    page.get_by_role("main").get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(ent.url + "/deconnecte")
    expect(
        page.get_by_text("Vous êtes déconnecté(e) de l'ENT et du service d'authentification EduConnect.")
    ).to_be_visible()
    # The ENT session is over; the remembered choice leads straight to Trousseau, which asks to log in.
    page.goto(ent.url + "/accueil")
    expect(page).to_have_url(re.compile(r"/idp/profile/SAML2/Redirect/SSO"))
    expect(page.get_by_label("Mot de passe")).to_be_visible()
    page.goto(f"{trousseau.url}/compte/")
    expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login\?next=/compte/$"))
    # Trousseau's logout chain also reached the lycée's ENT (a LogoutRequest at its SLO endpoint).
    page.goto(ent_lycee.url + "/accueil")
    expect(page).to_have_url(ent_lycee.url + "/")
    expect(page.get_by_role("heading", name=re.compile("vous souhaitez vous connecter en tant que"))).to_be_visible()


def test_the_ent_portal_is_accessible(page: Page, trousseau: LiveServer, ent: RunningEnt):
    for path in ("/", "/niveau", "/profil/enseignant"):
        page.goto(ent.url + path)
        results = Axe().run(page)
        assert results.violations_count == 0, f"{path}:\n{results.generate_report()}"
