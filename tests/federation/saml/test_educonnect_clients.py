"""Both generations of ÉduConnect clients log in through the demo services against a live server (issue #20).

- pronotepy 2.15.7 (pinned in requirements-dev.txt), run as it is: `_cas_edu` at the téléservices
  (a SAMLRequest auto-post page, as the CAS presets), `_open_ent_ng_edu` at the ENT (IdP-initiated
  SSO at ÉduConnect's hard-coded host). It posts its credentials without `csrf_token` to e1s1, is
  led on to e1s2, re-posts there and gets the SAMLResponse (research/educonnect.md §4.3).
- A client that follows ÉduConnect's steps since 2025 exactly (§4.1, pronotepy issue #341): the
  local-storage page's form, the login form with its `csrf_token` (with or without `typeUser`),
  302 e1s3, the local-storage write page's form, then the SAMLResponse.

ÉduConnect's host is taken to the live server at the transport level only: a requests transport
adapter mounted for https://educonnect.education.gouv.fr in every `requests.Session`; pronotepy's
code is not touched.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from bs4 import BeautifulSoup
from django.core.management import call_command
from pronotepy.ent import generic_func
from pronotepy.exceptions import ENTLoginError
from requests.adapters import HTTPAdapter

from tests import factories
from tests.federation.saml.helpers import guardian

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[3]
EDUCONNECT = "https://educonnect.education.gouv.fr"
START_SECONDS = 60  # two RSA-3072 key pairs per service at the first start


class ToLiveServer(HTTPAdapter):
    """Sends a request for ÉduConnect's host to the live server; the client still sees ÉduConnect's URLs."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        original = str(request.url)
        routed = request.copy()
        routed.url = self.target + original.removeprefix(EDUCONNECT)
        response = super().send(routed, **kwargs)
        response.url, response.request = original, request  # cookies and redirects stay with ÉduConnect's host
        return response


@pytest.fixture
def educonnect_host(live_server, monkeypatch) -> None:
    adapter = ToLiveServer(live_server.url)
    plain_init = requests.Session.__init__

    def init(self: requests.Session) -> None:
        plain_init(self)
        self.mount(EDUCONNECT, adapter)

    monkeypatch.setattr(requests.Session, "__init__", init)


def _spawn(mode: str, idp: str, var_dir: Path, **extra: str) -> tuple[str, subprocess.Popen[bytes], Path]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ENT_PUBLIC_URL": url,
        "ENT_IDP_METADATA_URL": f"{idp}/idp/shibboleth",
        "ENT_VAR_DIR": str(var_dir / mode),
        **extra,
    }
    log = var_dir / f"{mode}.log"
    with log.open("w") as handle:
        process = subprocess.Popen(  # noqa: S603 - the demo services' own module, by this interpreter
            [sys.executable, "-m", "ent", "serve", "--mode", mode], cwd=ROOT, env=env, stdout=handle, stderr=handle
        )
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"{url}/auth/saml/metadata", timeout=2).status_code == 200:
                return url, process, log
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    process.kill()
    pytest.fail(f"the {mode} service did not start:\n{log.read_text()}")


@pytest.fixture(scope="module")
def demo_services(live_server, tmp_path_factory) -> Iterator[dict[str, str]]:
    """The demo ENT (Redirect binding, IdP-initiated SSO allowed) and téléservices (POST binding)."""
    var_dir = tmp_path_factory.mktemp("educonnect-clients")
    started = {
        "ent": _spawn("ent", live_server.url, var_dir),
        "teleservices": _spawn("teleservices", live_server.url, var_dir, ENT_SSO_BINDING="post"),
    }
    yield {mode: url for mode, (url, _, _) in started.items()}
    for _, process, _ in started.values():
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def services(demo_services, live_server, settings) -> dict[str, str]:
    settings.PUBLIC_URL = live_server.url
    quiet = {"stdout": io.StringIO()}
    ent, teleservices = demo_services["ent"], demo_services["teleservices"]
    call_command(
        "saml_sp_add", "--url", f"{ent}/auth/saml/metadata", "--name", "ENT", "--encrypt", "--idp-initiated", **quiet
    )
    call_command("saml_sp_add", "--url", f"{teleservices}/auth/saml/metadata", "--name", "Téléservices", **quiet)
    return dict(demo_services)


def _welcomes(url: str, cookies: requests.cookies.RequestsCookieJar, account) -> bool:
    """The service's home page, with the cookies the client got, greets the account's holder."""
    home = requests.get(f"{url}/accueil", cookies=cookies, allow_redirects=False, timeout=10)
    return home.status_code == 200 and f"Bonjour {account.first_name}" in home.text


# --- pronotepy 2.15.7, unmodified ------------------------------------------------------------------


def pronotepy_at_teleservices(services: dict[str, str], identifier: str, password: str) -> Any:
    """pronotepy's `_cas_edu`, as its CAS presets call it, at the téléservices' SAMLRequest page."""
    return generic_func._cas_edu(identifier, password, url=f"{services['teleservices']}/")


def pronotepy_at_ent(services: dict[str, str], identifier: str, password: str) -> Any:
    """pronotepy's `_open_ent_ng_edu`, as `ent_hdf` calls it: IdP-initiated SSO at ÉduConnect's own host."""
    entity_id = f"{services['ent']}/auth/saml/metadata"
    return generic_func._open_ent_ng_edu(identifier, password, domain=services["ent"], providerId=entity_id)


def test_pronotepy_logs_in_at_the_teleservices_through_a_cas_style_page(services):
    account = guardian()
    cookies = pronotepy_at_teleservices(services, account.identifier, factories.GOOD_PASSWORD)
    assert _welcomes(services["teleservices"], cookies, account)


def test_pronotepy_logs_in_at_the_ent_through_educonnects_own_host(services, educonnect_host):
    account = guardian()
    cookies = pronotepy_at_ent(services, account.identifier, factories.GOOD_PASSWORD)
    assert _welcomes(services["ent"], cookies, account)
    assert any(cookie.domain == "educonnect.education.gouv.fr" for cookie in cookies)  # the IdP session went there


@pytest.mark.parametrize("routine", [pronotepy_at_teleservices, pronotepy_at_ent])
def test_pronotepy_reports_a_wrong_password(services, educonnect_host, routine):
    account = guardian()
    with pytest.raises(ENTLoginError):
        routine(services, account.identifier, "Mauvais#Passe9")


# --- A client of 2025: ÉduConnect's steps, exactly ------------------------------------------------


def _first_form(response: requests.Response) -> tuple[str, dict[str, str]]:
    form = BeautifulSoup(response.text, "html.parser").find("form")
    assert form is not None, response.text
    fields = {str(i["name"]): str(i.get("value", "")) for i in form.find_all("input") if i.get("name")}
    return str(form["action"]), fields


def client_2025(service: str, identifier: str, password: str, type_user: str | None) -> requests.Session:
    """ÉduConnect's sequence since 2025 (research/educonnect.md §4.1), checked at every step."""
    session = requests.Session()
    page = session.get(f"{service}/", timeout=10)  # the service's auto-post page with the SAMLRequest
    action, fields = _first_form(page)
    page = session.post(action, data=fields, timeout=10)
    assert page.url.endswith("?execution=e1s1"), page.url
    # e1s1: the local-storage read page, as its script sends it.
    action, fields = _first_form(page)
    assert set(fields) >= {"csrf_token", "_eventId_proceed"}
    assert "j_username" not in fields
    fields.update({"shib_idp_ls_supported": "true", "shib_idp_ls_success.shib_idp_session_ss": "true"})
    moved = session.post(urljoin(page.url, action), data=fields, allow_redirects=False, timeout=10)
    assert moved.status_code == 302
    assert moved.headers["Location"].endswith("?execution=e1s2")
    # e1s2: the login form. As those clients do (issue #341), the page's csrf_token, posted to the page's URL.
    page = session.get(urljoin(page.url, moved.headers["Location"]), timeout=10)
    token = BeautifulSoup(page.text, "html.parser").find("input", {"name": "csrf_token"})
    assert token is not None
    credentials = {"csrf_token": str(token["value"]), "j_username": identifier, "j_password": password}
    credentials |= {"_eventId_proceed": ""} | ({"typeUser": type_user} if type_user else {})
    logged = session.post(page.url, data=credentials, allow_redirects=False, timeout=10)
    if logged.status_code != 302:
        assert "SAMLResponse" not in logged.text
        raise ENTLoginError(BeautifulSoup(logged.text, "html.parser").find(id="login-error").get_text(strip=True))
    assert logged.headers["Location"].endswith("?execution=e1s3")
    # e1s3: the local-storage write page, then the auto-post page with the SAMLResponse.
    page = session.get(urljoin(page.url, logged.headers["Location"]), timeout=10)
    action, fields = _first_form(page)
    assert "SAMLResponse" not in fields
    fields["shib_idp_ls_success.shib_idp_session_ss"] = "true"
    page = session.post(urljoin(page.url, action), data=fields, timeout=10)
    action, fields = _first_form(page)
    assert set(fields) == {"SAMLResponse", "RelayState"}
    session.post(action, data=fields, timeout=10)
    return session


@pytest.mark.parametrize("type_user", [None, "responsable"])
@pytest.mark.parametrize("mode", ["compat", "strict"])
def test_a_2025_client_logs_in(services, settings, type_user, mode):
    settings.SAML_LOGIN_MODE = mode
    account = guardian()
    session = client_2025(services["teleservices"], account.identifier, factories.GOOD_PASSWORD, type_user)
    assert _welcomes(services["teleservices"], session.cookies, account)


def test_a_2025_client_gets_the_form_and_its_error_for_a_wrong_password(services):
    account = guardian()
    with pytest.raises(ENTLoginError, match="Identifiant ou mot de passe incorrect"):
        client_2025(services["teleservices"], account.identifier, "Mauvais#Passe9", "responsable")


def test_strict_mode_stops_pronotepy_with_400(services, settings):
    settings.SAML_LOGIN_MODE = "strict"
    account = guardian()
    with pytest.raises(ENTLoginError):
        pronotepy_at_teleservices(services, account.identifier, factories.GOOD_PASSWORD)
