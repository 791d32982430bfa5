"""The cryptographic floor of a morning journey (bench/morning.py): which operations, read from the answers.

The floor is what the journey's cryptography would cost done bare, with nothing around it. It is
derived from what the identity provider actually sent, never assumed: each `ds:Signature` of a SAML
response and of its decrypted assertion (the key named in its KeyInfo, the element it signs), each
`xenc:EncryptedKey` (RSA-OAEP under the service provider's key) and `xenc:EncryptedData` (AES-GCM,
the assertion's size), the signature of each signed HTTP-Redirect AuthnRequest the provider had to
verify, the ID token's JWS (its `alg` and `kid` in the provider's JWKS) and the argon2id verify of
the stored hash (its own parameters). Decrypting the assertion here, with the SP's key and nothing but
`cryptography`, also checks that the algorithms read are the ones used.

`time_floor` then does each operation bare on this core, with the same keys (a keyring of the keys
the run made, found by the fingerprint of their public key): an argon2id verify, an RSA PKCS#1 v1.5
signature (SHA-256 of the signed element, then the signature over a SignedInfo of the same size), an
RSA verify, an RSA-OAEP encryption of a fresh AES key, an AES-GCM encryption of as many bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit
from xml.etree.ElementTree import Element, tostring

from argon2 import PasswordHasher
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from defusedxml import ElementTree as SafeET

DS = "http://www.w3.org/2000/09/xmldsig#"
XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
SIGNATURE_HASHES = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": "sha512",
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": "sha1",
    "RS256": "sha256",
    "RS512": "sha512",
}
AES_GCM = {f"{XENC11}aes128-gcm": 16, f"{XENC11}aes256-gcm": 32}
OAEP = {f"{XENC}rsa-oaep-mgf1p", f"{XENC11}rsa-oaep"}
GCM_IV, GCM_TAG = 12, 16
DIGESTS = {
    "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
}

HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,  # xmlenc's rsa-oaep-mgf1p, what SPs ask for
    "sha256": hashes.SHA256,
    "sha512": hashes.SHA512,
}

ARGON2 = "argon2id verify"
RSA_SIGN = "RSA signature"
RSA_VERIFY = "RSA signature verification"
RSA_OAEP = "RSA-OAEP key transport"
AES = "AES-GCM encryption"
IN_ASSERTION = " (assertion)"  # added to `where` for the signature inside an assertion


class FloorError(Exception):
    """An answer whose cryptography cannot be read, or a key the run does not hold."""


@dataclass(frozen=True)
class Operation:
    kind: str  # one of ARGON2, RSA_SIGN, RSA_VERIFY, RSA_OAEP, AES
    where: str  # the answer or request it was read from
    key: str = ""  # fingerprint of the RSA public key (see `fingerprint`); "" for argon2id and AES
    bits: int = 0  # RSA modulus, or AES key, in bits
    size: int = 0  # bytes digested (signatures) or encrypted (AES-GCM)
    digest: str = "sha256"  # hash of a signature, of OAEP
    argon2: tuple[int, int, int] = (0, 0, 0)  # time cost, memory cost (KiB), parallelism

    @property
    def step(self) -> str:
        """The request whose answer (or whose own signature) this operation belongs to."""
        return self.where.removesuffix(IN_ASSERTION)

    def label(self) -> str:
        if self.kind == ARGON2:
            time_cost, memory, lanes = self.argon2
            return f"{self.kind} (t={time_cost}, m={memory} KiB, p={lanes})"
        if self.kind == AES:
            return f"{self.kind} (AES-{self.bits}, {self.size} bytes)"
        return f"{self.kind} (RSA-{self.bits}, {self.digest.upper().replace('SHA', 'SHA-')})"


def fingerprint(key: rsa.RSAPublicKey) -> str:
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _cert_key(b64: str) -> rsa.RSAPublicKey:
    cert = x509.load_der_x509_certificate(base64.b64decode("".join(b64.split())))
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise FloorError("a certificate in the answer is not an RSA key")
    return key


def _by_id(root: Element) -> dict[str, Element]:
    return {el.get("ID") or el.get("Id") or "": el for el in root.iter() if el.get("ID") or el.get("Id")}


def _signatures(root: Element, where: str, signer: rsa.RSAPublicKey) -> list[Operation]:
    """One RSA signature per ds:Signature; the key is the KeyInfo certificate's, which must be `signer`'s."""
    ids = _by_id(root)
    found = []
    for signature in root.iter(_q(DS, "Signature")):
        method = signature.find(f"{_q(DS, 'SignedInfo')}/{_q(DS, 'SignatureMethod')}")
        algorithm = "" if method is None else method.get("Algorithm", "")
        if algorithm not in SIGNATURE_HASHES:
            raise FloorError(f"{where}: signature algorithm {algorithm!r} unknown to the floor")
        certificate = signature.find(f".//{_q(DS, 'X509Certificate')}")
        key = signer if certificate is None or not certificate.text else _cert_key(certificate.text)
        if fingerprint(key) != fingerprint(signer):
            raise FloorError(f"{where}: signed with a key that is not the identity provider's")
        reference = signature.find(f".//{_q(DS, 'Reference')}")
        uri = "" if reference is None else reference.get("URI", "")
        signed = ids.get(uri.removeprefix("#"))
        if signed is None:
            raise FloorError(f"{where}: a signature references {uri!r}, not in the document")
        found.append(
            Operation(
                RSA_SIGN,
                where,
                fingerprint(key),
                key.key_size,
                len(tostring(signed)),
                SIGNATURE_HASHES[algorithm],
            )
        )
    return found


def _decrypt(encrypted: Element, where: str, sp_key: rsa.RSAPrivateKey) -> tuple[bytes, list[Operation]]:
    """The assertion in the clear, and the key transport and AES-GCM encryption that hid it."""
    data = encrypted.find(f".//{_q(XENC, 'EncryptedData')}")
    transported = encrypted.find(f".//{_q(XENC, 'EncryptedKey')}")
    if data is None or transported is None:
        raise FloorError(f"{where}: an EncryptedAssertion without EncryptedData or EncryptedKey")
    key_method = transported.find(_q(XENC, "EncryptionMethod"))
    key_algorithm = "" if key_method is None else key_method.get("Algorithm", "")
    if key_algorithm not in OAEP or key_method is None:
        raise FloorError(f"{where}: key transport {key_algorithm!r} unknown to the floor")
    digest_method = key_method.find(_q(DS, "DigestMethod"))
    digest = DIGESTS.get("" if digest_method is None else digest_method.get("Algorithm", ""), "sha1")
    cipher_key = transported.findtext(f"{_q(XENC, 'CipherData')}/{_q(XENC, 'CipherValue')}") or ""
    hash_algorithm = HASHES[digest]()
    # xmlenc's rsa-oaep-mgf1p and rsa-oaep without MGF element both mean MGF1 with SHA-1.
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hash_algorithm, label=None)  # noqa: S303 - xmlenc's
    try:
        aes_key = sp_key.decrypt(base64.b64decode(cipher_key), oaep)
    except ValueError as exc:
        raise FloorError(f"{where}: the assertion's key does not decrypt with the service provider's key") from exc
    data_method = data.find(_q(XENC, "EncryptionMethod"))
    data_algorithm = "" if data_method is None else data_method.get("Algorithm", "")
    if AES_GCM.get(data_algorithm) != len(aes_key):
        raise FloorError(f"{where}: data encryption {data_algorithm!r} with a {len(aes_key)}-byte key")
    sealed = base64.b64decode(data.findtext(f"{_q(XENC, 'CipherData')}/{_q(XENC, 'CipherValue')}") or "")
    plain = AESGCM(aes_key).decrypt(sealed[:GCM_IV], sealed[GCM_IV:], None)
    public = sp_key.public_key()
    operations = [
        Operation(RSA_OAEP, where, fingerprint(public), public.key_size, len(aes_key), digest),
        Operation(AES, where, "", 8 * len(aes_key), len(plain)),
    ]
    return plain, operations


def saml_response_operations(
    saml_response: str, where: str, *, idp_signer: rsa.RSAPublicKey, sp_key: rsa.RSAPrivateKey | None
) -> list[Operation]:
    """The signatures, key transports and encryptions of one SAMLResponse (base64, as posted to the ACS)."""
    root = SafeET.fromstring(base64.b64decode(saml_response))
    operations = _signatures(root, where, idp_signer)
    for encrypted in root.iter("{urn:oasis:names:tc:SAML:2.0:assertion}EncryptedAssertion"):
        if sp_key is None:
            raise FloorError(f"{where}: an encrypted assertion, and no service provider key to read it")
        plain, hidden = _decrypt(encrypted, where, sp_key)
        operations += hidden
        operations += _signatures(SafeET.fromstring(plain), where + IN_ASSERTION, idp_signer)
    return operations


def redirect_request_operations(url: str, where: str, *, sp_signer: rsa.RSAPublicKey) -> list[Operation]:
    """The verification a signed HTTP-Redirect AuthnRequest costs its receiver (none when unsigned)."""
    params = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    if "Signature" not in params:
        return []
    algorithm = params.get("SigAlg", "")
    if algorithm not in SIGNATURE_HASHES:
        raise FloorError(f"{where}: request signature algorithm {algorithm!r} unknown to the floor")
    signed = "&".join(f"{k}={v}" for k, v in params.items() if k in {"SAMLRequest", "RelayState", "SigAlg"})
    return [
        Operation(
            RSA_VERIFY, where, fingerprint(sp_signer), sp_signer.key_size, len(signed), SIGNATURE_HASHES[algorithm]
        )
    ]


def _b64json(part: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return loaded


def id_token_operations(id_token: str, where: str, *, jwks: dict[str, rsa.RSAPublicKey]) -> list[Operation]:
    """The JWS signature of an ID token; `jwks` maps each `kid` of the provider's JWKS to its key."""
    header_part, _, rest = id_token.partition(".")
    payload_part = rest.partition(".")[0]
    header = _b64json(header_part)
    algorithm, kid = str(header.get("alg", "")), str(header.get("kid", ""))
    if algorithm not in SIGNATURE_HASHES or kid not in jwks:
        raise FloorError(f"{where}: ID token signed with {algorithm!r} by a key not in the JWKS ({kid!r})")
    key = jwks[kid]
    size = len(header_part) + 1 + len(payload_part)
    return [Operation(RSA_SIGN, where, fingerprint(key), key.key_size, size, SIGNATURE_HASHES[algorithm])]


def argon2_operation(encoded: str, where: str) -> Operation:
    """The verify of a stored Django argon2 hash (`argon2$argon2id$v=19$m=…,t=…,p=…$salt$hash`)."""
    parts = encoded.split("$")
    if len(parts) != 6 or parts[:2] != ["argon2", "argon2id"]:  # noqa: PLR2004 - the format's six fields
        raise FloorError(f"{where}: the stored password hash is not Django's argon2id")
    params = dict(item.split("=", 1) for item in parts[3].split(","))
    return Operation(ARGON2, where, argon2=(int(params["t"]), int(params["m"]), int(params["p"])))


# --- the floor, done bare -------------------------------------------------------------------------

SIGNED_INFO_BYTES = 600  # a canonical SignedInfo with one reference, about what pysaml2 writes


def _bare(operation: Operation, keyring: dict[str, rsa.RSAPrivateKey]) -> Callable[[], object]:
    """One operation as a call with everything prepared: timing it times the cryptography alone."""
    if operation.kind == ARGON2:
        time_cost, memory, lanes = operation.argon2
        hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory, parallelism=lanes)
        password = secrets.token_urlsafe(12)
        encoded = hasher.hash(password)
        return lambda: hasher.verify(encoded, password)
    if operation.kind == AES:
        cipher, nonce, plain = (
            AESGCM(secrets.token_bytes(operation.bits // 8)),
            secrets.token_bytes(12),
            bytes(operation.size),
        )
        return lambda: cipher.encrypt(nonce, plain, None)
    private = keyring.get(operation.key)
    if private is None:
        raise FloorError(f"{operation.where}: the run holds no key {operation.key} for the floor")
    algorithm = HASHES[operation.digest]()
    if operation.kind == RSA_SIGN:
        content, signed_info = bytes(operation.size), bytes(SIGNED_INFO_BYTES)
        name = operation.digest

        def sign() -> bytes:
            hashlib.new(name, content).digest()  # the Reference's digest of the signed element
            return private.sign(signed_info, padding.PKCS1v15(), algorithm)

        return sign
    public = private.public_key()
    if operation.kind == RSA_VERIFY:
        data = bytes(operation.size)
        signature = private.sign(data, padding.PKCS1v15(), algorithm)
        return lambda: public.verify(signature, data, padding.PKCS1v15(), algorithm)
    if operation.kind == RSA_OAEP:
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=algorithm, label=None)  # noqa: S303 - xmlenc's
        aes_key = secrets.token_bytes(operation.size)
        return lambda: public.encrypt(aes_key, oaep)
    raise FloorError(f"unknown operation {operation.kind!r}")


@dataclass
class FloorTiming:
    """CPU seconds of this thread per operation of the floor, summed over the times it was done."""

    spent: list[float]
    times: int = 0

    def ms_each(self) -> float:
        return 1000 * sum(self.spent) / self.times


class Floor:
    """The operations of one journey, prepared once and done bare as many times as asked."""

    def __init__(self, operations: Iterable[Operation], keyring: dict[str, rsa.RSAPrivateKey]) -> None:
        self.operations = list(operations)
        self.calls = [_bare(op, keyring) for op in self.operations]
        self.timing = FloorTiming([0.0] * len(self.calls))
        for call in self.calls:
            call()  # once, untimed: a key or parameter that does not work fails here

    def run(self, times: int) -> float:
        """Do the whole floor `times` times; the CPU seconds of this thread it took."""
        spent, clock = self.timing.spent, time.thread_time
        total = 0.0
        for _ in range(times):
            for index, call in enumerate(self.calls):
                start = clock()
                call()
                took = clock() - start
                spent[index] += took
                total += took
        self.timing.times += times
        return total
