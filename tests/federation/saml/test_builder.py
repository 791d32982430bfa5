"""The response builder (federation/saml/outbound.py, canonical.py, sealing.py) checked by independent
readers: lxml's exclusive C14N must give back our bytes, signxml and the xmlsec1 binary verify the
signatures with the metadata certificate, xmlsec1 and pysaml2's client decrypt each algorithm an SP
may ask for, and hostile values come back as they were sent."""

from __future__ import annotations

import base64
import hashlib
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree
from signxml.verifier import XMLVerifier

from tests.federation.saml.helpers import first_form, guardian
from trousseau.federation import claims
from trousseau.federation.saml import keys, outbound, sealing
from trousseau.federation.saml.canonical import INCLUSIVE_PREFIXES
from trousseau.federation.saml.inbound import Pending
from trousseau.federation.saml.metadata import PERSISTENT, TRANSIENT

pytestmark = pytest.mark.django_db
NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "xenc": "http://www.w3.org/2001/04/xmlenc#",
}
XMLSEC1 = "/usr/bin/xmlsec1"
HOSTILE = ['<script>alert("x")</script>', "Tom & Jerry", 'a "quoted" name', "]]> end", "Zoë Œuvre 李 🎒", "tab\there"]


def _c14n(element: etree._Element) -> bytes:
    return bytes(
        etree.tostring(element, method="c14n", exclusive=True, inclusive_ns_prefixes=INCLUSIVE_PREFIXES.split())
    )


def _pending(pysp, *, request_id: str | None = "_request-1", fmt: str = PERSISTENT) -> Pending:
    return Pending(
        sp_id=0, entity_id=pysp.entity_id, request_id=request_id, acs_url=pysp.acs, relay_state="", name_id_format=fmt
    )


def _answer(pysp, sp, account, **kw) -> bytes:
    found = outbound.authn_response(_pending(pysp, **kw), account, authn_instant=datetime.now(UTC), sp=sp)
    return base64.b64decode(found.saml_response)


def _xmlsec1(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([XMLSEC1, *args], capture_output=True, check=False)  # noqa: S603 - fixed binary, test files


def test_we_write_exactly_the_exclusive_canonical_form(pysp, registered):
    xml = _answer(pysp, registered, guardian())
    response = etree.fromstring(xml)
    assert _c14n(response) == xml
    assertion = response.find("saml:Assertion", NS)
    assert _c14n(assertion) in xml


def test_each_digest_is_over_the_canonical_element_without_its_signature(pysp, registered):
    response = etree.fromstring(_answer(pysp, registered, guardian()))
    for element in (response, response.find("saml:Assertion", NS)):
        signature = element.find("ds:Signature", NS)
        digest = signature.findtext(".//ds:DigestValue", namespaces=NS)
        assert signature.find(".//ds:Reference", NS).get("URI") == "#" + element.get("ID")
        element.remove(signature)
        assert base64.b64decode(digest) == hashlib.sha256(_c14n(element)).digest()


def test_signatures_verify_with_signxml_and_xmlsec1(pysp, registered, tmp_path):
    xml = _answer(pysp, registered, guardian())
    cert = keys.signing().cert_pem
    response = etree.fromstring(xml)
    assertion = response.find("saml:Assertion", NS)
    for element in (response, assertion):
        verified = XMLVerifier().verify(etree.tostring(element), x509_cert=cert)
        assert verified.signed_xml.get("ID") == element.get("ID")
    (tmp_path / "response.xml").write_bytes(xml)
    (tmp_path / "assertion.xml").write_bytes(etree.tostring(assertion))
    for name, node in (("response", "urn:oasis:names:tc:SAML:2.0:protocol:Response"),
                       ("assertion", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion")):  # fmt: skip
        result = _xmlsec1("--verify", "--pubkey-cert-pem", str(keys.signing().cert_path), "--id-attr:ID", node,
                          str(tmp_path / f"{name}.xml"))  # fmt: skip
        assert result.returncode == 0, result.stderr


def test_a_changed_byte_breaks_the_signature(pysp, registered):
    xml = _answer(pysp, registered, guardian())
    forged = xml.replace(pysp.entity_id.encode(), b"https://evil.example/sp", 1)
    with pytest.raises(Exception, match=r"[Dd]igest|[Ss]ignature"):
        XMLVerifier().verify(forged, x509_cert=keys.signing().cert_pem)


def test_hostile_values_are_escaped_and_come_back_unchanged(pysp, registered, tmp_path):
    values = {"FrEduCtId": ["id"], "givenName": HOSTILE, "sn": ["ctrl\x01\x1fchars"]}
    pending = replace(_pending(pysp, request_id='_a"&<b'), acs_url=pysp.acs + "?a=1&b=<2>")
    now = datetime.now(UTC)
    subject = outbound.Subject("n&<>", PERSISTENT, "_s", now)
    assertion = outbound.assertion(pending, registered, subject, values, now=now)
    xml = outbound.response(pending, "", assertion, now=now)
    response = etree.fromstring(xml)
    assert _c14n(response) == xml
    assert response.get("InResponseTo") == '_a"&<b'
    assert response.get("Destination") == pysp.acs + "?a=1&b=<2>"
    found = {a.get("FriendlyName"): [v.text for v in a] for a in response.iterfind(".//saml:Attribute", NS)}
    assert found["givenName"] == HOSTILE
    assert found["sn"] == ["ctrlchars"]  # characters XML 1.0 cannot carry are dropped, not sent broken
    assert response.findtext(".//saml:NameID", namespaces=NS) == "n&<>"
    XMLVerifier().verify(xml, x509_cert=keys.signing().cert_pem)
    (tmp_path / "r.xml").write_bytes(xml)
    result = _xmlsec1("--verify", "--pubkey-cert-pem", str(keys.signing().cert_path), "--id-attr:ID",
                      "urn:oasis:names:tc:SAML:2.0:protocol:Response", str(tmp_path / "r.xml"))  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_the_assertion_carries_the_claims_and_the_request(pysp, registered):
    account = guardian()
    response = etree.fromstring(_answer(pysp, registered, account, fmt=TRANSIENT))
    assertion = response.find("saml:Assertion", NS)
    name_id = assertion.find("saml:Subject/saml:NameID", NS)
    assert name_id.get("Format") == TRANSIENT
    assert name_id.text != claims.pairwise_id(account, pysp.entity_id)
    data = assertion.find(".//saml:SubjectConfirmationData", NS)
    assert (data.get("InResponseTo"), data.get("Recipient")) == ("_request-1", pysp.acs)
    assert assertion.findtext(".//saml:Audience", namespaces=NS) == pysp.entity_id
    assert assertion.find("saml:AuthnStatement", NS).get("SessionIndex")
    names = [a.get("FriendlyName") for a in assertion.iterfind(".//saml:Attribute", NS)]
    assert names == list(claims.attributes(account, release=registered.release))


@pytest.mark.parametrize("algorithm", sealing.SUPPORTED)
def test_each_algorithm_an_sp_may_ask_for_decrypts_with_xmlsec1_and_pysaml2(
    algorithm, pysp, registered, sp_keys, tmp_path
):
    registered.encrypt_assertions = True
    registered.__dict__["parsed"] = replace(registered.parsed, encryption_methods=["urn:unknown", algorithm])
    account = guardian()
    xml = _answer(pysp, registered, account, request_id=None)
    response = etree.fromstring(xml)
    assert _c14n(response) == xml
    assert response.find(".//saml:Assertion", NS) is None
    encrypted = response.find("saml:EncryptedAssertion/xenc:EncryptedData", NS)
    assert encrypted.find("xenc:EncryptionMethod", NS).get("Algorithm") == algorithm
    (tmp_path / "enc.xml").write_bytes(etree.tostring(encrypted))
    clear = _xmlsec1("--decrypt", "--privkey-pem", str(sp_keys / "key.pem"), str(tmp_path / "enc.xml"))
    assert clear.returncode == 0, clear.stderr
    assertion = etree.fromstring(clear.stdout)
    XMLVerifier().verify(clear.stdout, x509_cert=keys.signing().cert_pem)
    assert assertion.findtext(".//saml:NameID", namespaces=NS) == claims.pairwise_id(account, pysp.entity_id)
    read = pysp.read(base64.b64encode(xml).decode(), None)  # pysaml2's client: xmlsec1 decrypts and verifies
    assert read.assertion is not None
    assert read.ava["sn"] == [account.last_name.upper()]  # the names pysaml2 knows; it drops the others


def test_each_assertion_gets_its_own_key_and_an_unknown_algorithm_is_refused(sp_keys):
    cert = "".join(line for line in Path(sp_keys / "cert.pem").read_text().splitlines() if "-----" not in line)
    first, second = (etree.fromstring(sealing.encrypted_data(b"<a></a>", cert_b64=cert)) for _ in range(2))
    values = [[v.text for v in doc.iter("{%s}CipherValue" % NS["xenc"])] for doc in (first, second)]  # noqa: UP031
    assert len(values[0]) == 2  # the data, and the AES key under the SP's RSA key
    assert set(values[0]).isdisjoint(values[1])
    with pytest.raises(sealing.SealError, match="unsupported"):
        sealing.encrypted_data(b"<a></a>", cert_b64=cert, algorithm="http://www.w3.org/2001/04/xmlenc#tripledes-cbc")
    with pytest.raises(sealing.SealError, match="certificate"):
        sealing.encrypted_data(b"<a></a>", cert_b64="TUlJ")


def test_the_auto_post_page_escapes_what_it_carries(rf):
    from trousseau.federation.saml import pages

    hostile = '"><script>alert(1)</script>&amp;'
    page = pages.post_page(rf.get("/"), "https://sp.example/acs?a=1&b=2", [("RelayState", hostile)])
    html = page.content.decode()
    assert "<script>alert" not in html
    form = first_form(html)
    assert form["action"] == "https://sp.example/acs?a=1&b=2"
    assert form["fields"] == {"RelayState": hostile}
    assert page["Cache-Control"] == "no-store"
