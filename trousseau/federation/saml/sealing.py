"""Assertions encrypted for their service provider: XML Encryption written directly, with `cryptography`.

A fresh AES key from `secrets` encrypts the signed assertion (AES-GCM as Shibboleth IdP 4+ does, or
the CBC mode an older SP's metadata asks for); RSA-OAEP (xmlenc's rsa-oaep-mgf1p: MGF1 and digest
SHA-1, what every SP library reads) carries that key under the certificate of the SP's metadata. The
result is the xenc:EncryptedData, written canonical as the rest of the response (`canonical`), with
the EncryptedKey inside its KeyInfo, as xmlsec1 and pysaml2 lay it out. SPs decrypt it as before:
tests use the xmlsec1 binary, pysaml2's client and python3-saml.

The assertion declares every namespace it uses (saml, ds, xs, xsi), so that it is a whole document
once decrypted, with the same prefixes as the response around it (python3-saml puts it back there).
"""

from __future__ import annotations

import base64
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import padding as symmetric_padding
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from trousseau.federation.saml import keys
from trousseau.federation.saml.canonical import DS, XENC, attr

XENC11 = "http://www.w3.org/2009/xmlenc11#"
AES128_GCM = f"{XENC11}aes128-gcm"
AES256_GCM = f"{XENC11}aes256-gcm"
AES256_CBC = f"{XENC}aes256-cbc"
AES128_CBC = f"{XENC}aes128-cbc"
RSA_OAEP_MGF1P = f"{XENC}rsa-oaep-mgf1p"
ELEMENT = f"{XENC}Element"
# The data algorithms an SP may ask for, our preference first, with their key sizes in bytes. An SP
# that lists algorithms in its metadata gets the first of its own list that is here (idp.py's rule).
KEY_BYTES = {AES128_GCM: 16, AES256_GCM: 32, AES256_CBC: 32, AES128_CBC: 16}
SUPPORTED = tuple(KEY_BYTES)
GCM_IV, CBC_IV = 12, 16  # XML Encryption 1.1 §5.2.4 (GCM: IV, then ciphertext and 128-bit tag), §5.2.2 (CBC)


class SealError(ValueError):
    """The assertion cannot be encrypted for this SP (its certificate, the algorithm asked)."""


def chosen(methods: list[str]) -> str:
    """The data encryption for an SP whose metadata lists `methods` (maybe none): AES-128-GCM by default."""
    return next((m for m in methods if m in KEY_BYTES), AES128_GCM)


def recipient(cert_b64: str) -> RSAPublicKey:
    """The RSA key of an SP's encryption certificate (base64 DER, as metadata carries it), kept per process."""
    try:
        key = keys.certificate_key(cert_b64)
    except ValueError as exc:
        raise SealError("the service provider's encryption certificate cannot be read") from exc
    if not isinstance(key, RSAPublicKey):
        raise SealError("the service provider's encryption key is not RSA")
    return key


# xmlenc's rsa-oaep-mgf1p: MGF1 with SHA-1 and, without a DigestMethod, SHA-1 (the SPs' default).
_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)  # noqa: S303 - xmlenc's


def _encrypt(algorithm: str, key: bytes, plain: bytes) -> bytes:
    if algorithm in {AES128_GCM, AES256_GCM}:
        nonce = secrets.token_bytes(GCM_IV)
        return nonce + AESGCM(key).encrypt(nonce, plain, None)
    iv = secrets.token_bytes(CBC_IV)
    padder = symmetric_padding.PKCS7(128).padder()  # its last byte is the pad length, as xmlenc wants
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv + encryptor.update(padded) + encryptor.finalize()


def encrypted_data(assertion: bytes, *, cert_b64: str, algorithm: str = AES128_GCM) -> bytes:
    """The xenc:EncryptedData that hides `assertion` from everyone but the SP of `cert_b64`."""
    size = KEY_BYTES.get(algorithm)
    if size is None:
        raise SealError(f"unsupported data encryption algorithm {algorithm!r}")
    public = recipient(cert_b64)
    key = secrets.token_bytes(size)
    transported = base64.b64encode(public.encrypt(key, _OAEP)).decode()
    sealed = base64.b64encode(_encrypt(algorithm, key, assertion)).decode()
    return (
        f'<xenc:EncryptedData xmlns:xenc="{XENC}" Id="_{secrets.token_hex(16)}" Type="{ELEMENT}">'
        f'<xenc:EncryptionMethod Algorithm="{attr(algorithm)}"></xenc:EncryptionMethod>'
        f'<ds:KeyInfo xmlns:ds="{DS}"><xenc:EncryptedKey Id="_{secrets.token_hex(16)}">'
        f'<xenc:EncryptionMethod Algorithm="{RSA_OAEP_MGF1P}"></xenc:EncryptionMethod>'
        f"<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        f"<xenc:CipherData><xenc:CipherValue>{transported}</xenc:CipherValue></xenc:CipherData>"
        "</xenc:EncryptedKey></ds:KeyInfo>"
        f"<xenc:CipherData><xenc:CipherValue>{sealed}</xenc:CipherValue></xenc:CipherData>"
        "</xenc:EncryptedData>"
    ).encode()
