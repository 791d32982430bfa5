"""Assertions encrypted in the web process (python-xmlsec), not by a spawned xmlsec1 per response.

pysaml2 encrypts by writing the response, the template and the SP's certificate to temporary files
and running xmlsec1: two thirds of an encrypted single sign-on's time on these machines (bench
figures in docs/benchmarks.md), and ÉduConnect's service providers all ask for encrypted
assertions. The same library (libxmlsec1, through its Python binding) fills the same template here:
a fresh AES key from `secrets` encrypts the assertion, RSA-OAEP carries that key to the SP under the
certificate of its metadata. The SP side is unchanged: tests decrypt with the xmlsec1 binary,
pysaml2's client and python3-saml.
"""

from __future__ import annotations

import secrets
import threading

import xmlsec
from lxml import etree
from saml2.sigver import ASSERT_XPATH, EncryptError

XENC = "http://www.w3.org/2001/04/xmlenc#"
# The data algorithms an SP may ask for (idp.SUPPORTED_DATA_ENCRYPTION), with their key sizes in bytes.
KEY_BYTES = {
    "http://www.w3.org/2009/xmlenc11#aes128-gcm": 16,
    "http://www.w3.org/2009/xmlenc11#aes256-gcm": 32,
    "http://www.w3.org/2001/04/xmlenc#aes256-cbc": 32,
    "http://www.w3.org/2001/04/xmlenc#aes128-cbc": 16,
}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)


_local = threading.local()
MAX_CACHED = 64  # service providers' certificates kept per thread


def _recipient(cert_pem: str) -> xmlsec.KeysManager:
    """The SP's encryption certificate in a keys manager, kept: creating a manager costs about 9 ms
    (libxmlsec1 sets up its certificate store), encrypting an assertion well under one. One per thread,
    as libxmlsec1 does not document its managers as safe to share."""
    managers: dict[str, xmlsec.KeysManager] = _local.__dict__.setdefault("managers", {})
    manager = managers.get(cert_pem)
    if manager is None:
        manager = xmlsec.KeysManager()
        try:
            manager.add_key(xmlsec.Key.from_memory(cert_pem.encode("ascii"), xmlsec.constants.KeyDataFormatCertPem))
        except xmlsec.Error as exc:
            raise EncryptError("the service provider's encryption certificate cannot be read") from exc
        if len(managers) >= MAX_CACHED:
            managers.clear()
        managers[cert_pem] = manager
    return manager


def encrypt_assertion(document: str, *, template: str, cert_pem: str, node_xpath: str | None = None) -> str:
    """The response `document` with its one assertion replaced by `template` (pysaml2's EncryptedData)
    filled in: what `xmlsec1 --encrypt` returns for the same arguments.

    The assertion is encrypted as it is written: it must declare the namespaces it uses (outbound asks
    pysaml2 for self-contained assertions), since an SP decrypts it outside the response's context.
    """
    root = etree.fromstring(document.encode("utf-8"), parser=_PARSER)
    nodes = root.xpath(node_xpath or ASSERT_XPATH)
    if len(nodes) != 1:
        raise EncryptError(f"{len(nodes)} assertions to encrypt instead of one")
    encrypted_data = etree.fromstring(template.encode("utf-8"), parser=_PARSER)
    method = encrypted_data.find(f"{{{XENC}}}EncryptionMethod")
    size = KEY_BYTES.get(method.get("Algorithm", "")) if method is not None else None
    if size is None:
        raise EncryptError("unsupported data encryption algorithm in the template")
    context = xmlsec.EncryptionContext(_recipient(cert_pem))
    context.key = xmlsec.Key.from_binary_data(xmlsec.constants.KeyDataAes, secrets.token_bytes(size))
    try:
        context.encrypt_xml(encrypted_data, nodes[0])  # replaces the assertion in `root`
    except xmlsec.Error as exc:
        raise EncryptError("the assertion could not be encrypted") from exc
    return str(etree.tostring(root, encoding="unicode"))
