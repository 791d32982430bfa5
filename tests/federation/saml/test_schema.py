"""Every SAML message the IdP emits is valid against the OASIS SAML 2.0 schemas (security.md §7).

The schemas are the OASIS XSDs that pysaml2 ships, read by xmlschema; an SP with a validating parser
(Shibboleth SP, OpenSAML) refuses a document that breaks them, whatever its signature says.
"""

from __future__ import annotations

import base64
import subprocess

import pytest
from lxml import etree
from saml2 import BINDING_HTTP_REDIRECT
from saml2.s_utils import decode_base64_and_inflate
from saml2.saml import NameID
from saml2.xml.schema import XMLSchemaError
from saml2.xml.schema import validate as validate_saml
from saml2.xmldsig import SIG_RSA_SHA256

from tests.federation.saml.helpers import first_form, guardian, log_in
from tests.federation.saml.sp import query
from trousseau.federation import claims
from trousseau.federation.saml.metadata import PERSISTENT

pytestmark = pytest.mark.django_db
IDP_SLO = "http://testserver/idp/profile/SAML2/Redirect/SLO"
NS = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion", "xenc": "http://www.w3.org/2001/04/xmlenc#"}


def _response(client, pysp) -> bytes:
    _, url = pysp.redirect_request(relay_state="r")
    form = first_form(client.get(url).content.decode())
    return base64.b64decode(form["fields"]["SAMLResponse"])


def test_the_validator_refuses_what_breaks_the_schema(client, pysp, registered):
    """The control: without it, a validator that accepts anything would pass every test below."""
    log_in(client, guardian())
    response = etree.fromstring(_response(client, pysp))
    response.attrib.pop("Version")  # required by the protocol schema
    with pytest.raises(XMLSchemaError):
        validate_saml(etree.tostring(response))


def test_metadata_is_schema_valid(client):
    validate_saml(client.get("/idp/shibboleth").content)


def test_response_with_its_assertion_is_schema_valid(client, pysp, registered):
    log_in(client, guardian())
    xml = _response(client, pysp)
    assert etree.fromstring(xml).find("saml:Assertion", NS) is not None
    validate_saml(xml)


def test_encrypted_response_and_the_assertion_inside_are_schema_valid(client, pysp, registered, sp_keys, tmp_path):
    registered.encrypt_assertions = True
    registered.save()
    log_in(client, guardian())
    xml = _response(client, pysp)
    validate_saml(xml)
    encrypted = etree.fromstring(xml).find("saml:EncryptedAssertion/xenc:EncryptedData", NS)
    (tmp_path / "enc.xml").write_bytes(etree.tostring(encrypted))
    clear = subprocess.run(  # noqa: S603 - fixed arguments, test files
        ["/usr/bin/xmlsec1", "--decrypt", "--privkey-pem", str(sp_keys / "key.pem"), str(tmp_path / "enc.xml")],
        capture_output=True,
        check=True,
    ).stdout
    validate_saml(clear)


def test_front_channel_logout_request_is_schema_valid(client, pysp, registered):
    log_in(client, guardian())
    request_id, url = pysp.redirect_request()
    pysp.read(first_form(client.get(url).content.decode())["fields"]["SAMLResponse"], request_id)
    out = client.post("/logout")
    xml = decode_base64_and_inflate(query(out["Location"])["SAMLRequest"])
    assert b"LogoutRequest" in xml
    validate_saml(xml)


def test_logout_response_to_an_sp_is_schema_valid(client, pysp, registered):
    account = guardian()
    log_in(client, account)
    request_id, url = pysp.redirect_request()
    pysp.read(first_form(client.get(url).content.decode())["fields"]["SAMLResponse"], request_id)
    name_id = NameID(format=PERSISTENT, text=claims.pairwise_id(account, pysp.entity_id))
    _, request = pysp.client.create_logout_request(IDP_SLO, "http://testserver/idp", name_id=name_id, sign=False)
    info = pysp.client.apply_binding(BINDING_HTTP_REDIRECT, str(request), IDP_SLO, sign=True, sigalg=SIG_RSA_SHA256)
    client.get(dict(info["headers"])["Location"])
    answer = client.get("/idp/profile/Logout")
    xml = decode_base64_and_inflate(query(answer["Location"])["SAMLResponse"])
    assert b"LogoutResponse" in xml
    validate_saml(xml)
