"""The three demo services in the browser journeys, as `make run` starts them, and the steps at them.

The ENT (SAML, with a portal), the Pronote-like (OpenID Connect) and the téléservices-like (SAML, no
portal) run as `python -m ent serve --mode …` subprocesses, each on its own port. The processes live for
the whole test session (their RSA-3072 key pairs are slow to make); each test registers them again in
Trousseau's database (`saml_sp_add --url`, `oidc_client_add --update`), which the transactional tests
empty after each test. Journeys start where families start: at a service (issue #17).
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
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from ent.config import DEMO_OIDC_CLIENT_ID, DEMO_OIDC_CLIENT_SECRET, MODES
from tests.browser.conftest import Demo
from tests.browser.steps import MIRE_TITLE, choose

ROOT = Path(__file__).resolve().parents[2]
EDUCONNECT = "Élève ou responsable légal avec EduConnect"
PORTAL_HEADING = re.compile("vous souhaitez vous connecter en tant que")
START_SECONDS = 60  # the first start makes two RSA-3072 key pairs per SAML service
BRANDS = {
    "ent": "ENT de démonstration",
    "pronote": "Pronote (démonstration)",
    "teleservices": "Téléservices (démonstration)",
}


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

    @property
    def brand(self) -> str:
        return BRANDS[self.mode]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


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
def running_services(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Service]]:
    """The three demo services, started once for the session against the live server."""
    var_dir, logs = tmp_path_factory.mktemp("demo-services"), tmp_path_factory.mktemp("demo-services-logs")
    running: dict[str, Service] = {}
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:  # started side by side, as `make run` does
            futures = {mode: pool.submit(_spawn, mode, live_server.url, var_dir, logs) for mode in MODES}
            for mode, future in futures.items():
                running[mode] = future.result()
        yield running
    finally:
        for service in running.values():
            service.stop()


@pytest.fixture
def trousseau(live_server: LiveServer, settings: Settings, demo: Demo) -> LiveServer:
    """The live server is the SAML IdP and the OpenID Connect issuer (discovery, JWKS) at its own URL."""
    settings.PUBLIC_URL = live_server.url
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": live_server.url}
    return live_server


@pytest.fixture
def services(trousseau: LiveServer, running_services: dict[str, Service]) -> dict[str, Service]:
    """The three demo services, registered in Trousseau as `make run` does."""
    ent, pronote, teleservices = running_services["ent"], running_services["pronote"], running_services["teleservices"]
    quiet = {"stdout": io.StringIO()}
    call_command(
        "saml_sp_add", "--url", ent.metadata_url, "--name", ent.brand,
        "--home-url", f"{ent.url}/", "--release-children", "--release-join", "--encrypt", "--idp-initiated", **quiet,
    )  # fmt: skip
    call_command(
        "saml_sp_add", "--url", teleservices.metadata_url, "--name", teleservices.brand,
        "--home-url", f"{teleservices.url}/", "--no-release-children", "--encrypt", "--no-idp-initiated", **quiet,
    )  # fmt: skip
    for _ in range(2):  # idempotent, as `make run` runs it at every start
        call_command(
            "oidc_client_add", "--update", "--name", pronote.brand,
            "--client-id", DEMO_OIDC_CLIENT_ID, "--client-secret", DEMO_OIDC_CLIENT_SECRET,
            "--home-url", f"{pronote.url}/",
            "--redirect-uri", f"{pronote.url}/auth/oidc/callback",
            "--post-logout-uri", f"{pronote.url}/deconnecte",
            "--backchannel-uri", f"{pronote.url}/auth/oidc/backchannel",
            "--children", **quiet,
        )  # fmt: skip
    return running_services


# --- Steps at the services --------------------------------------------------------------------------


def expect_mire(page: Page) -> None:
    expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
    expect(page.get_by_label("Mot de passe")).to_be_visible()


def open_ent_login(page: Page, ent: Service, level: str = "Collège") -> None:
    """ENT portal -> "Élève ou responsable légal avec EduConnect" -> level -> Trousseau's mire."""
    page.goto(ent.url + "/")
    expect(page.get_by_role("heading", name=PORTAL_HEADING)).to_be_visible()
    choose(page, EDUCONNECT)
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("group", name="Sélectionnez votre niveau")).to_be_visible()
    choose(page, level)
    choose(page, "Non (je me connecte depuis un lieu public)")
    page.get_by_role("button", name="Se connecter").click()
    expect_mire(page)


def open_service_login(page: Page, service: Service) -> None:
    """The service's own login start: the ENT's portal, or the home page of the others (no portal)."""
    if service.mode == "ent":
        open_ent_login(page, service)
    else:
        page.goto(service.url + "/")
        expect_mire(page)


def sign_in(page: Page, identifier: str, password: str) -> None:
    """The mire's form, as a guardian fills it."""
    expect_mire(page)
    choose(page, "Responsable d'élève")
    page.get_by_label("Identifiant").fill(identifier)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def expect_service_home(page: Page, service: Service, first_name: str, last_name: str) -> None:
    """The service's home page, logged in as this guardian."""
    expect(page).to_have_url(f"{service.url}/accueil")
    expect(page.locator(".fr-header__service-title")).to_have_text(service.brand)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {first_name} {last_name.upper()}")
    expect(page.locator("#ent-profile")).to_contain_text("Responsable légal")


def expect_children(page: Page, children: list[tuple[str, str]], school_uai: str) -> None:
    table = page.get_by_role("table", name="Mes enfants")
    expect(table).to_be_visible()
    for last_name, first_name in children:
        expect(table.get_by_role("row").filter(has_text=first_name).filter(has_text=last_name)).to_have_count(1)
    expect(table.get_by_role("cell", name=school_uai).first).to_be_visible()
