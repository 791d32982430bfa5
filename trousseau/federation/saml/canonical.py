"""SAML messages written directly in their exclusive-canonical form, and signed over those very bytes.

An enveloped XML signature digests the exclusive C14N of the signed element without its signature
(XML-DSig §6.6.4, Exclusive XML Canonicalization 1.0). Building an element tree, serialising it, then
parsing and canonicalising it again to sign it costs ten times the signature; writing the element
already canonical (namespaces declared where first used or listed in the InclusiveNamespaces below,
attributes in canonical order, `<a></a>` for empty elements, values escaped as C14N escapes them)
means the digest is taken over the bytes we write, and the signature over a SignedInfo written the
same way. tests/federation/saml/test_builder.py checks that lxml's exclusive C14N of our output is our
output, byte for byte.

Signing uses `cryptography` (RSA PKCS#1 v1.5, SHA-256) with the IdP's key from `keys.signing()`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from trousseau.federation.saml import keys

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
XENC = "http://www.w3.org/2001/04/xmlenc#"
XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
# The assertion declares xs and xsi once, on itself, for the attribute values' xsi:type="xs:string".
# Exclusive C14N keeps a declaration only where its prefix is visibly used, unless the prefix is in
# the transform's InclusiveNamespaces (what Shibboleth does for xsd): so both signatures list them.
INCLUSIVE_PREFIXES = "xs xsi"

# Characters XML 1.0 cannot carry at all (C0 controls but tab, LF, CR; U+FFFE, U+FFFF; lone surrogates):
# dropped from values, which come from school records and families, rather than making a response
# no parser accepts.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;"})
_ATTR = str.maketrans({"&": "&amp;", "<": "&lt;", '"': "&quot;", "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;"})


def text(value: str) -> str:
    """Character data as exclusive C14N writes it."""
    return _NOT_XML.sub("", value).translate(_TEXT)


def attr(value: str) -> str:
    """An attribute value (between double quotes) as exclusive C14N writes it."""
    return _NOT_XML.sub("", value).translate(_ATTR)


# --- the IdP's signing key, loaded once per file version ------------------------------------------


@cache
def _certificate_b64(path: str, mtime: float) -> str:
    cert = x509.load_pem_x509_certificate(Path(path).read_bytes())
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def signer() -> tuple[RSAPrivateKey, str]:
    """The IdP's signing key and its certificate (base64 DER, for KeyInfo)."""
    pair = keys.signing()
    if pair.key_path is None:  # pragma: no cover - signing pairs always have a key
        raise TypeError("no signing key")
    # A key file replaced in place (same path) is read again: its mtime is part of the cache key.
    return (
        keys.private_key(pair.key_path),
        _certificate_b64(str(pair.cert_path), pair.cert_path.stat().st_mtime),
    )


# --- enveloped signatures --------------------------------------------------------------------------


def signed_info(reference_id: str, digest: bytes) -> str:
    """The SignedInfo, written in its canonical form *as the root of its own canonicalisation*
    (with xmlns:ds): what is signed. Inside a ds:Signature, the same element is written without it."""
    return (
        f'<ds:SignedInfo xmlns:ds="{DS}">'
        f'<ds:CanonicalizationMethod Algorithm="{EXC_C14N}"></ds:CanonicalizationMethod>'
        f'<ds:SignatureMethod Algorithm="{RSA_SHA256}"></ds:SignatureMethod>'
        f'<ds:Reference URI="#{attr(reference_id)}"><ds:Transforms>'
        f'<ds:Transform Algorithm="{ENVELOPED}"></ds:Transform>'
        f'<ds:Transform Algorithm="{EXC_C14N}">'
        f'<ec:InclusiveNamespaces xmlns:ec="{EXC_C14N}" PrefixList="{INCLUSIVE_PREFIXES}"></ec:InclusiveNamespaces>'
        f"</ds:Transform></ds:Transforms>"
        f'<ds:DigestMethod Algorithm="{SHA256}"></ds:DigestMethod>'
        f"<ds:DigestValue>{base64.b64encode(digest).decode()}</ds:DigestValue>"
        f"</ds:Reference></ds:SignedInfo>"
    )


_SIGNED_INFO_ROOT = f'<ds:SignedInfo xmlns:ds="{DS}">'


def signature(element: bytes, reference_id: str) -> bytes:
    """The ds:Signature of `element` (canonical, without its signature), ready to be put after its Issuer."""
    key, cert_b64 = signer()
    info = signed_info(reference_id, hashlib.sha256(element).digest())
    value = key.sign(info.encode(), padding.PKCS1v15(), hashes.SHA256())
    return (
        f'<ds:Signature xmlns:ds="{DS}">'
        + info.replace(_SIGNED_INFO_ROOT, "<ds:SignedInfo>", 1)
        + f"<ds:SignatureValue>{base64.b64encode(value).decode()}</ds:SignatureValue>"
        f"<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        "</ds:Signature>"
    ).encode()


def enveloped(element: bytes, reference_id: str, after: bytes) -> bytes:
    """`element` signed: its ds:Signature inserted right after the first `after` (its Issuer's end tag),
    where the SAML schema wants it."""
    position = element.index(after) + len(after)
    return element[:position] + signature(element, reference_id) + element[position:]
