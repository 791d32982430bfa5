"""What a response carries: signatures checked by an independent verifier (signxml with the metadata
certificate), the claims' attributes under ÉduConnect's names and OIDs, NameIDs, conditions, encryption."""

from __future__ import annotations

import base64
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lxml import etree
from signxml.verifier import XMLVerifier

from tests.federation.saml.helpers import first_form, guardian, log_in
from trousseau.federation import claims
from trousseau.federation.saml import keys
from trousseau.federation.saml.metadata import PERSISTENT, TRANSIENT

pytestmark = pytest.mark.django_db
NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "xenc": "http://www.w3.org/2001/04/xmlenc#",
}


def _instant(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@pytest.fixture
def account():
    return guardian()


@pytest.fixture
def answer(client, pysp, registered, account):
    """(request ID, the Response element, the RelayState) for a logged-in guardian."""
    log_in(client, account)
    request_id, url = pysp.redirect_request(relay_state="état/1?x=é")
    form = first_form(client.get(url).content.decode())
    xml = base64.b64decode(form["fields"]["SAMLResponse"])
    return request_id, etree.fromstring(xml), form["fields"]["RelayState"]


def _verified(element: etree._Element) -> etree._Element:
    """signxml checks the enveloped signature with the metadata certificate only; returns what it signed."""
    result = XMLVerifier().verify(etree.tostring(element), x509_cert=keys.signing().cert_pem)
    return result.signed_xml


def test_response_and_assertion_are_signed_rsa_sha256(answer):
    _, response, _ = answer
    assert _verified(response).get("ID") == response.get("ID")
    assertion = response.find("saml:Assertion", NS)
    assert _verified(assertion).get("ID") == assertion.get("ID")
    methods = response.xpath("//*[local-name()='SignatureMethod']/@Algorithm")
    assert set(methods) == {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"}


def test_a_changed_assertion_no_longer_verifies(answer):
    _, response, _ = answer
    assertion = response.find("saml:Assertion", NS)
    assertion.find(".//saml:Audience", NS).text = "https://evil.example"
    with pytest.raises(Exception, match=r"[Dd]igest|[Ss]ignature"):
        _verified(assertion)


def test_conditions_subject_confirmation_and_relay_state(answer, pysp):
    request_id, response, relay_state = answer
    assert relay_state == "état/1?x=é"
    assert response.get("InResponseTo") == request_id
    assert response.get("Destination") == pysp.acs
    assertion = response.find("saml:Assertion", NS)
    data = assertion.find("saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", NS)
    assert data.get("Recipient") == pysp.acs
    assert data.get("InResponseTo") == request_id
    conditions = assertion.find("saml:Conditions", NS)
    assert conditions.find("saml:AudienceRestriction/saml:Audience", NS).text == pysp.entity_id
    lifetime = _instant(conditions.get("NotOnOrAfter")) - _instant(conditions.get("NotBefore"))
    # pysaml2 reads the clock once for NotBefore and once for NotOnOrAfter: a second may tick between.
    assert timedelta(0) < lifetime <= timedelta(minutes=5, seconds=1)
    assert _instant(data.get("NotOnOrAfter")) <= datetime.now(UTC) + timedelta(minutes=5, seconds=1)
    assert assertion.find("saml:Issuer", NS).text == "http://testserver/idp"


def test_attributes_are_the_claims_with_oids(answer, account, registered):
    _, response, _ = answer
    expected = claims.attributes(account, release=registered.release)
    found = {}
    for attribute in response.iterfind(".//saml:Attribute", NS):
        spec = claims.BY_NAME[attribute.get("FriendlyName")]
        assert attribute.get("Name") == spec.oid
        assert attribute.get("NameFormat") == "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
        found[attribute.get("FriendlyName")] = [v.text for v in attribute.iterfind("saml:AttributeValue", NS)]
    found.pop("FrEduCtDateConnexion")
    expected.pop("FrEduCtDateConnexion")
    assert found == expected
    assert claims.CHILDREN in found


def test_children_go_only_to_services_allowed(client, pysp, registered):
    registered.release_children = False
    registered.save()
    log_in(client, guardian())
    _, url = pysp.redirect_request()
    xml = base64.b64decode(first_form(client.get(url).content.decode())["fields"]["SAMLResponse"])
    assert b"FrEduCtEnfant" not in xml
    assert b"FrEduCtRefId" in xml


def test_persistent_name_id_is_pairwise(answer, account, pysp):
    _, response, _ = answer
    name_id = response.find(".//saml:Subject/saml:NameID", NS)
    assert name_id.get("Format") == PERSISTENT
    assert name_id.text == claims.pairwise_id(account, pysp.entity_id)
    assert name_id.get("SPNameQualifier") == pysp.entity_id
    assert name_id.text != claims.pairwise_id(account, "https://autre.example/sp")


def test_transient_name_id_on_request(client, pysp, registered):
    log_in(client, guardian())
    values = set()
    for _ in range(2):
        _, url = pysp.redirect_request(name_id_format=TRANSIENT)
        xml = etree.fromstring(base64.b64decode(first_form(client.get(url).content.decode())["fields"]["SAMLResponse"]))
        name_id = xml.find(".//saml:Subject/saml:NameID", NS)
        assert name_id.get("Format") == TRANSIENT
        values.add(name_id.text)
    assert len(values) == 2


def test_unsupported_name_id_format_gets_an_error_status(client, pysp, registered):
    log_in(client, guardian())
    _, url = pysp.redirect_request(name_id_format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
    xml = etree.fromstring(base64.b64decode(first_form(client.get(url).content.decode())["fields"]["SAMLResponse"]))
    code = xml.find("samlp:Status/samlp:StatusCode/samlp:StatusCode", NS)
    assert code.get("Value") == "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"
    assert xml.find("saml:Assertion", NS) is None


def test_encrypted_assertion_decrypts_with_the_sp_key(client, pysp, registered, sp_keys, tmp_path, account):  # noqa: PLR0913, PLR0917 - fixtures
    registered.encrypt_assertions = True
    registered.save()
    log_in(client, account)
    request_id, url = pysp.redirect_request()
    form = first_form(client.get(url).content.decode())
    response = etree.fromstring(base64.b64decode(form["fields"]["SAMLResponse"]))
    assert response.find("saml:Assertion", NS) is None
    encrypted = response.find("saml:EncryptedAssertion/xenc:EncryptedData", NS)
    algorithm = encrypted.find("xenc:EncryptionMethod", NS).get("Algorithm")
    assert algorithm == "http://www.w3.org/2009/xmlenc11#aes128-gcm"
    _verified(response)
    # xmlsec1 itself, with the SP's private key, as any SP library would.
    (tmp_path / "enc.xml").write_bytes(etree.tostring(encrypted))
    clear = subprocess.run(  # noqa: S603 - fixed arguments, test files
        ["/usr/bin/xmlsec1", "--decrypt", "--privkey-pem", str(sp_keys / "key.pem"), str(tmp_path / "enc.xml")],
        capture_output=True,
        check=True,
    ).stdout
    assertion = etree.fromstring(clear)
    assert _verified(assertion).get("ID") == assertion.get("ID")
    assert assertion.find(".//saml:NameID", NS).text == claims.pairwise_id(account, pysp.entity_id)
    # And pysaml2's client (another SP library than our IdP code) accepts the whole response.
    assert pysp.read(form["fields"]["SAMLResponse"], request_id).assertion is not None


def test_encrypted_assertion_is_accepted_by_an_unmodified_python3_saml_sp(  # noqa: PLR0913, PLR0917 - fixtures
    client, pysp, registered, sp_keys, account, settings
):
    """OneLogin's python3-saml moves the decrypted assertion into the response with lxml, which keeps a
    prefix only if the response binds it to the same namespace: the assertion must use the response's."""
    from onelogin.saml2.response import OneLogin_Saml2_Response
    from onelogin.saml2.settings import OneLogin_Saml2_Settings

    registered.encrypt_assertions = True
    registered.save()
    log_in(client, account)
    request_id, url = pysp.redirect_request()
    form = first_form(client.get(url).content.decode())
    onelogin = OneLogin_Saml2_Settings(
        {
            "strict": True,
            "sp": {
                "entityId": pysp.entity_id,
                "assertionConsumerService": {"url": pysp.acs},
                "x509cert": (sp_keys / "cert.pem").read_text(),
                "privateKey": (sp_keys / "key.pem").read_text(),
            },
            "idp": {
                "entityId": "http://testserver/idp",
                "singleSignOnService": {"url": "http://testserver/idp/profile/SAML2/Redirect/SSO"},
                "x509cert": keys.signing().cert_pem,
            },
            "security": {"wantAssertionsSigned": True, "wantMessagesSigned": True, "wantAssertionsEncrypted": True},
        },
        sp_validation_only=True,
    )
    response = OneLogin_Saml2_Response(onelogin, form["fields"]["SAMLResponse"])
    request = {"https": "on", "http_host": "ent.example.fr", "script_name": "/saml/acs/"}
    assert response.is_valid(request, request_id=request_id, raise_exceptions=True)
    assert response.get_nameid() == claims.pairwise_id(account, pysp.entity_id)
    assert response.get_attributes()[claims.SPECS[0].oid]


def _answer_counting_processes(client, pysp, account, monkeypatch) -> tuple[list[object], str, dict[str, Any]]:
    """Log in and get a response from the IdP; returns the commands of the processes spawned meanwhile
    (pysaml2 runs xmlsec1 through Popen), the request ID and the form carrying the response."""
    import saml2.sigver

    spawned: list[object] = []
    real = saml2.sigver.Popen

    def spy(*args: object, **kwargs: object):
        spawned.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(saml2.sigver, "Popen", spy)
    monkeypatch.setattr(subprocess, "Popen", spy)
    log_in(client, account)
    request_id, url = pysp.redirect_request()
    form = first_form(client.get(url).content.decode())
    return spawned, request_id, form


def test_signing_a_response_spawns_no_process(client, pysp, registered, account, monkeypatch):
    """Signatures are made in-process (cryptography, canonical.py), not by one xmlsec1 per signature (issue #8)."""
    spawned, request_id, form = _answer_counting_processes(client, pysp, account, monkeypatch)
    assert spawned == []
    response = etree.fromstring(base64.b64decode(form["fields"]["SAMLResponse"]))
    assert _verified(response.find("saml:Assertion", NS)) is not None  # signxml, with the metadata cert
    assert pysp.read(form["fields"]["SAMLResponse"], request_id).assertion is not None  # xmlsec1, SP side


def test_encrypting_a_response_spawns_no_process(client, pysp, registered, account, monkeypatch):
    """Encryption runs in-process too (federation/saml/sealing.py); the SP still decrypts it."""
    registered.encrypt_assertions = True
    registered.save()
    spawned, request_id, form = _answer_counting_processes(client, pysp, account, monkeypatch)
    assert spawned == []
    response = etree.fromstring(base64.b64decode(form["fields"]["SAMLResponse"]))
    assert response.find("saml:EncryptedAssertion/xenc:EncryptedData", NS) is not None
    assert pysp.read(form["fields"]["SAMLResponse"], request_id).assertion is not None  # xmlsec1, SP side
