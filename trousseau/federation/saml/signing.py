"""XML signatures of what pysaml2 still writes (single logout messages), made in the web process.

pysaml2 signs by writing the message to a temporary file and running xmlsec1. This backend fills the
same signature template in-process with signxml (lxml + cryptography) and hands pysaml2 the same
document back. Login responses do not come here: `outbound` writes and signs them itself
(`canonical`). What stays with xmlsec1 is what is rare and inbound: the verification of the few
signed AuthnRequests and LogoutRequests, where pysaml2's own checks (CVE-2021-21239) apply.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree
from saml2.sigver import CryptoBackendXmlSec1, SignatureError
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner

from trousseau.federation.saml import keys

DS = "http://www.w3.org/2000/09/xmldsig#"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)


@cache
def _certificate(path: str, mtime: float) -> str:
    return Path(path).read_text()


class InProcessSigning(CryptoBackendXmlSec1):  # type: ignore[misc]
    """pysaml2's xmlsec1 backend, but `sign_statement` runs here with the IdP's own key pair."""

    def __init__(self, xmlsec_binary: str, *, key_file: str, cert_file: str, delete_tmpfiles: bool = True) -> None:
        super().__init__(xmlsec_binary, delete_tmpfiles=delete_tmpfiles)
        self.key_file = key_file
        self.cert_file = cert_file

    def sign_statement(self, statement: str | bytes, node_name: str, key_file: str, node_id: str) -> str:
        if key_file != self.key_file or not node_id:
            # Not our signing key (pysaml2 never does this for an IdP, but it could): as before.
            return str(super().sign_statement(statement, node_name, key_file, node_id))
        data = statement.encode() if isinstance(statement, str) else statement
        root = etree.fromstring(data, parser=_PARSER)
        targets = root.xpath("//*[@ID=$id]", id=node_id)
        if len(targets) != 1:
            raise SignatureError(f"{len(targets)} elements with ID {node_id!r}")
        target = targets[0]
        template = target.find(f"{{{DS}}}Signature")
        if template is None:
            raise SignatureError(f"no signature template in {node_id!r}")
        method = template.find(f"{{{DS}}}SignedInfo/{{{DS}}}SignatureMethod")
        digest = template.find(f"{{{DS}}}SignedInfo/{{{DS}}}Reference/{{{DS}}}DigestMethod")
        if method is None or digest is None:
            raise SignatureError("incomplete signature template")
        # signxml puts its signature where the placeholder is: where pysaml2's template was, which is
        # where the schema wants it (right after Issuer).
        placeholder = etree.Element(f"{{{DS}}}Signature", Id="placeholder", nsmap={"ds": DS})
        target.replace(template, placeholder)
        signer = XMLSigner(
            signature_algorithm=SignatureMethod(method.get("Algorithm")),
            digest_algorithm=DigestAlgorithm(digest.get("Algorithm")),
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )
        key = keys.private_key(Path(self.key_file))
        cert = _certificate(self.cert_file, Path(self.cert_file).stat().st_mtime)
        signed = signer.sign(root, key=key, cert=cert, reference_uri=node_id, id_attribute="ID")
        return str(etree.tostring(signed, encoding="unicode"))
