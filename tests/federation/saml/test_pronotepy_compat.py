"""An unmodified pronotepy-like client (requests.Session) logs in through the IdP of a live server.

It does what pronotepy's `_cas_edu` + `_educonnect` + `_sso_redirect` do (research/educonnect.md §4.3):
GET the SP page, POST its SAMLRequest form, follow redirects, POST j_username/j_password/_eventId_proceed
to `response.url`, re-POST once if the URL moved without a SAMLResponse, then POST SAMLResponse and
RelayState from the page's first form to its action.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import requests

from tests import factories
from tests.federation.saml.helpers import Forms, guardian
from tests.federation.saml.sp import PySamlSP
from trousseau.federation.saml.services import sp_register

pytestmark = pytest.mark.django_db(transaction=True)
HEADERS = {"User-Agent": "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:73.0) Gecko/20100101 Firefox/73.0"}


class ENTLoginError(Exception):
    pass


def sso_redirect(
    session: requests.Session, response: requests.Response, saml_type: str, request_url: str, payload=None
):
    page = Forms(response.text)
    saml = page.input(saml_type)
    if not saml and response.status_code == 200 and request_url != response.url:
        response = session.post(response.url, headers=HEADERS, data=payload)  # "manual redirect"
        page = Forms(response.text)
        saml = page.input(saml_type)
    if not saml:
        return None
    relay_state = page.input("RelayState")
    assert relay_state is not None  # pronotepy: assert isinstance(relay_state, Tag)
    data = {saml_type: saml["value"], "RelayState": relay_state["value"]}
    answered: requests.Response = session.post(page.forms[0]["action"], headers=HEADERS, data=data)
    return answered


def educonnect(session: requests.Session, username: str, password: str, url: str) -> requests.Response:
    payload = {"j_username": username, "j_password": password, "_eventId_proceed": ""}
    response = session.post(url, headers=HEADERS, data=payload)
    answered: requests.Response | None = sso_redirect(session, response, "SAMLResponse", url, payload)
    if answered is None:
        raise ENTLoginError("Fail to connect with EduConnect : probably wrong login information")
    return answered


def cas_edu(username: str, password: str, url: str) -> requests.Session:
    session = requests.Session()
    response = session.get(url, headers=HEADERS)
    response = sso_redirect(session, response, "SAMLRequest", url)
    educonnect(session, username, password, response.url)
    return session


@pytest.fixture
def ent(live_server, settings, tmp_path, sp_keys) -> Iterator[tuple[str, list[str]]]:
    """A tiny SP web server: /login shows a SAMLRequest auto-post form, /saml/acs/ reads the answer."""
    settings.PUBLIC_URL = live_server.url
    welcomed: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    sp = PySamlSP(sp_keys, entity_id=f"{base}/saml/metadata.xml", base=base)
    sp_register(sp.metadata(), encrypt=True)
    outstanding: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, body: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body.encode())

        def do_GET(self):
            request_id, action, fields = sp.post_request(relay_state="pronote")
            outstanding[request_id] = "/"
            inputs = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in {**fields}.items())
            relay = "" if "RelayState" in fields else '<input type="hidden" name="RelayState" value="">'
            self._send(f'<html><body><form method="post" action="{action}">{inputs}{relay}</form></body></html>')

        def do_POST(self):
            body = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            response = sp.client.parse_authn_request_response(
                body["SAMLResponse"][0], "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", outstanding
            )
            welcomed.append(response.get_subject().text)
            self._send(f"<html><body>Bienvenue {body['RelayState'][0]}</body></html>")

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"{base}/login", welcomed
    server.shutdown()
    server.server_close()


def test_pronotepy_style_client_logs_in(ent):
    url, welcomed = ent
    account = guardian()
    session = cas_edu(account.identifier, factories.GOOD_PASSWORD, url)
    assert len(welcomed) == 1
    assert session.cookies  # the IdP session cookie came back through the requests.Session


def test_pronotepy_style_client_reports_wrong_credentials(ent):
    url, welcomed = ent
    account = guardian()
    with pytest.raises(ENTLoginError):
        cas_edu(account.identifier, "Mauvais#Passe9", url)
    assert welcomed == []
