"""Assertions encrypted in-process (federation/saml/encryption.py), decrypted by the xmlsec1 binary as an
SP would: every algorithm an SP may ask for, a fresh key each time, and clear refusals."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from lxml import etree
from saml2.sigver import EncryptError, pre_encryption_part

from trousseau.federation.saml import encryption
from trousseau.federation.saml.idp import RSA_OAEP_MGF1P, SUPPORTED_DATA_ENCRYPTION

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
XENC = "http://www.w3.org/2001/04/xmlenc#"
# The assertion declares its namespaces, as pysaml2 makes it (`encrypt_assertion_self_contained`): the
# SP decrypts it out of the response's context.
RESPONSE = (
    f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="r1" Version="2.0">'
    "<saml:EncryptedAssertion>"
    f'<saml:Assertion xmlns:saml="{SAML}" ID="a1" Version="2.0"><saml:Issuer>https://idp.example</saml:Issuer>'
    "<saml:Subject><saml:NameID>élève-42</saml:NameID></saml:Subject></saml:Assertion>"
    "</saml:EncryptedAssertion></samlp:Response>"
)


def _cert(sp_keys: Path) -> str:
    return (sp_keys / "cert.pem").read_text()


def _template(algorithm: str, sp_keys: Path) -> str:
    body = "".join(line for line in _cert(sp_keys).splitlines() if "-----" not in line)
    return str(pre_encryption_part(msg_enc=algorithm, key_enc=RSA_OAEP_MGF1P, encrypt_cert=body))


def _decrypt(encrypted_data: etree._Element, sp_keys: Path, tmp_path: Path) -> etree._Element:
    (tmp_path / "enc.xml").write_bytes(etree.tostring(encrypted_data))
    clear = subprocess.run(  # noqa: S603 - fixed arguments, test files
        ["/usr/bin/xmlsec1", "--decrypt", "--privkey-pem", str(sp_keys / "key.pem"), str(tmp_path / "enc.xml")],
        capture_output=True,
        check=True,
    ).stdout
    return etree.fromstring(clear)


@pytest.mark.parametrize("algorithm", SUPPORTED_DATA_ENCRYPTION)
def test_each_algorithm_an_sp_may_ask_for_decrypts_with_xmlsec1(algorithm, sp_keys, tmp_path):
    out = etree.fromstring(
        encryption.encrypt_assertion(RESPONSE, template=_template(algorithm, sp_keys), cert_pem=_cert(sp_keys))
    )
    assert out.find(f".//{{{SAML}}}Assertion") is None
    encrypted_data = out.find(f"{{{SAML}}}EncryptedAssertion/{{{XENC}}}EncryptedData")
    assert encrypted_data.find(f"{{{XENC}}}EncryptionMethod").get("Algorithm") == algorithm
    method = encrypted_data.find(f".//{{{XENC}}}EncryptedKey/{{{XENC}}}EncryptionMethod")
    assert method.get("Algorithm") == RSA_OAEP_MGF1P
    assertion = _decrypt(encrypted_data, sp_keys, tmp_path)
    assert assertion.get("ID") == "a1"
    assert assertion.find(f"{{{SAML}}}Subject/{{{SAML}}}NameID").text == "élève-42"


def test_each_assertion_gets_its_own_key(sp_keys):
    template = _template(SUPPORTED_DATA_ENCRYPTION[0], sp_keys)
    first, second = (
        etree.fromstring(encryption.encrypt_assertion(RESPONSE, template=template, cert_pem=_cert(sp_keys)))
        for _ in range(2)
    )
    values = [[v.text for v in doc.iter(f"{{{XENC}}}CipherValue")] for doc in (first, second)]
    assert len(values[0]) == 2  # the data, and the AES key under the SP's RSA key
    assert set(values[0]).isdisjoint(values[1])


def test_a_response_without_exactly_one_assertion_is_refused(sp_keys):
    template = _template(SUPPORTED_DATA_ENCRYPTION[0], sp_keys)
    empty = RESPONSE.replace(RESPONSE[RESPONSE.index("<saml:Assertion ") : RESPONSE.index("</saml:Encrypted")], "")
    with pytest.raises(EncryptError, match="0 assertions"):
        encryption.encrypt_assertion(empty, template=template, cert_pem=_cert(sp_keys))


def test_an_unsupported_algorithm_or_an_unreadable_certificate_is_refused(sp_keys):
    triple_des = "http://www.w3.org/2001/04/xmlenc#tripledes-cbc"
    with pytest.raises(EncryptError, match="unsupported"):
        encryption.encrypt_assertion(RESPONSE, template=_template(triple_des, sp_keys), cert_pem=_cert(sp_keys))
    broken = "-----BEGIN CERTIFICATE-----\nTUlJ\n-----END CERTIFICATE-----\n"
    with pytest.raises(EncryptError, match="certificate"):
        encryption.encrypt_assertion(
            RESPONSE, template=_template(SUPPORTED_DATA_ENCRYPTION[0], sp_keys), cert_pem=broken
        )
