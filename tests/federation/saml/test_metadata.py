"""The IdP metadata at /idp/shibboleth, key rollover, and registering SPs from their metadata."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from defusedxml import ElementTree as SafeET
from django.core.management import CommandError, call_command

from tests.federation.saml.helpers import NS
from tests.federation.saml.sp import PySamlSP
from trousseau.federation import claims
from trousseau.federation.saml import keys
from trousseau.federation.saml.metadata import MetadataError, parse_sp
from trousseau.federation.saml.models import ServiceProvider

pytestmark = pytest.mark.django_db


def _metadata(client):
    response = client.get("/idp/shibboleth")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/samlmetadata+xml"
    return SafeET.fromstring(response.content)


def _certs(root, use):
    return [
        kd.find(".//ds:X509Certificate", NS).text
        for kd in root.iterfind(".//md:KeyDescriptor", NS)
        if kd.get("use") == use
    ]


def test_metadata_names_the_entity_the_endpoints_and_the_keys(client):
    root = _metadata(client)
    assert root.get("entityID") == "http://testserver/idp"
    sso = {
        e.get("Binding").rsplit(":", 1)[1]: e.get("Location") for e in root.iterfind(".//md:SingleSignOnService", NS)
    }
    assert sso == {
        "HTTP-Redirect": "http://testserver/idp/profile/SAML2/Redirect/SSO",
        "HTTP-POST": "http://testserver/idp/profile/SAML2/POST/SSO",
    }
    slo = {e.get("Location") for e in root.iterfind(".//md:SingleLogoutService", NS)}
    assert "http://testserver/idp/profile/SAML2/POST/SLO" in slo
    assert _certs(root, "signing") == [keys.signing().cert_b64]
    assert _certs(root, "encryption") == [keys.encryption().cert_b64]
    names = {a.get("FriendlyName"): a.get("Name") for a in root.iterfind(".//saml:Attribute", NS)}
    assert names["FrEduCtId"] == claims.BY_NAME["FrEduCtId"].oid


def test_rollover_publishes_the_next_signing_key_beside_the_current_one(client, settings, tmp_path):
    keys._generate(tmp_path, "next")
    settings.SAML_NEXT_SIGNING_CERT = (tmp_path / "cert.pem").read_text()  # PEM text, as an env var holds it
    signing = _certs(_metadata(client), "signing")
    assert len(signing) == 2
    assert signing[0] == keys.signing().cert_b64
    assert signing[1] == keys.next_signing().cert_b64
    # The switch: the next pair becomes the signing one, the "next" setting is cleared.
    settings.SAML_SIGNING_KEY = str(tmp_path / "key.pem")
    settings.SAML_SIGNING_CERT = str(tmp_path / "cert.pem")
    settings.SAML_NEXT_SIGNING_CERT = ""
    assert _certs(_metadata(client), "signing") == [keys.signing().cert_b64]
    assert keys.signing().cert_b64 == signing[1]


def test_command_registers_from_a_file(tmp_path, pysp, capsys):
    path = tmp_path / "sp.xml"
    path.write_text(pysp.metadata())
    call_command("saml_sp_add", "--file", str(path), "--name", "ENT", "--release-children", "--idp-initiated")
    sp = ServiceProvider.objects.get(entity_id=pysp.entity_id)
    assert (sp.release_children, sp.allow_idp_initiated, sp.encrypt_assertions) == (True, True, True)
    call_command("saml_sp_add", "--file", str(path), "--no-encrypt")
    sp.refresh_from_db()
    assert (sp.release_children, sp.encrypt_assertions) == (True, False)


def test_command_sets_and_prints_the_release_policy_minimum_by_default(tmp_path, pysp, capsys):
    path = tmp_path / "sp.xml"
    path.write_text(pysp.metadata())
    call_command("saml_sp_add", "--file", str(path))
    assert capsys.readouterr().out.strip().endswith("release=identity")
    sp = ServiceProvider.objects.get(entity_id=pysp.entity_id)
    assert (sp.release_children, sp.release_join) == (False, False)
    call_command("saml_sp_add", "--file", str(path), "--release-children", "--release-join")
    assert capsys.readouterr().out.strip().endswith("release=identity,children,join")
    call_command("saml_sp_add", "--file", str(path), "--no-release-join")  # the other flag is kept
    assert capsys.readouterr().out.strip().endswith("release=identity,children")


def test_command_keeps_the_old_release_ine_spelling_as_an_alias(tmp_path, pysp, capsys):
    # Operators' scripts from before issue #18 say `--release-ine`: hidden, it sets the join flag.
    path = tmp_path / "sp.xml"
    path.write_text(pysp.metadata())
    call_command("saml_sp_add", "--file", str(path), "--release-ine")
    assert capsys.readouterr().out.strip().endswith("release=identity,join")
    assert ServiceProvider.objects.get(entity_id=pysp.entity_id).release_join
    call_command("saml_sp_add", "--file", str(path), "--no-release-ine")
    assert capsys.readouterr().out.strip().endswith("release=identity")
    call_command("saml_sp_add", "--file", str(path))  # neither spelling: kept as is
    assert capsys.readouterr().out.strip().endswith("release=identity")


def test_command_refuses_bad_metadata(tmp_path):
    path = tmp_path / "bad.xml"
    path.write_text('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    with pytest.raises(CommandError, match="Metadata refused"):
        call_command("saml_sp_add", "--file", str(path))
    assert not ServiceProvider.objects.exists()


@pytest.fixture
def metadata_server():
    served = {"body": b""}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(served["body"])

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/metadata.xml", served
    server.shutdown()
    server.server_close()


def test_command_registers_from_a_url_and_refreshes(metadata_server, pysp, sp_keys):
    url, served = metadata_server
    served["body"] = pysp.metadata().encode()
    call_command("saml_sp_add", "--url", url)
    sp = ServiceProvider.objects.get(entity_id=pysp.entity_id)
    assert sp.metadata_url == url
    moved = PySamlSP(sp_keys, base="https://nouvelle-adresse.example.fr")
    served["body"] = moved.metadata().encode()
    call_command("saml_sp_refresh")
    sp.refresh_from_db()
    assert [e.location for e in sp.parsed.acs] == ["https://nouvelle-adresse.example.fr/saml/acs/"]
    served["body"] = PySamlSP(sp_keys, entity_id="https://autre.example/sp").metadata().encode()
    with pytest.raises(CommandError):
        call_command("saml_sp_refresh")
    sp.refresh_from_db()
    assert sp.parsed.acs[0].location == "https://nouvelle-adresse.example.fr/saml/acs/"


NO_ACS = (
    "<md:EntityDescriptor xmlns:md='urn:oasis:names:tc:SAML:2.0:metadata' entityID='x'><md:SPSSODescriptor "
    "protocolSupportEnumeration='urn:oasis:names:tc:SAML:2.0:protocol'/></md:EntityDescriptor>"
)


@pytest.mark.parametrize(
    ("xml", "why"),
    [
        ("<md:EntityDescriptor xmlns:md='urn:oasis:names:tc:SAML:2.0:metadata'/>", "entityID"),
        (NO_ACS, "AssertionConsumerService"),
    ],
)
def test_unusable_metadata_says_why(xml, why):
    with pytest.raises(MetadataError, match=why):
        parse_sp(xml)
