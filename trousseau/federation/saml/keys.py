"""The identity provider's key pairs: signing, the next signing certificate (rollover) and encryption.

Each setting holds a file path or the PEM text itself (secrets managers hand out either). pysaml2 runs
xmlsec1, which reads files, so PEM text is written once to a private file. Without keys, the debug
server and the tests generate RSA-3072 pairs with 20-year self-signed certificates, as the Shibboleth
installer does for ÉduConnect (research/educonnect.md §2.1), under var/saml/, never committed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PEM_START = "-----BEGIN"


@dataclass(frozen=True)
class KeyPair:
    cert_path: Path
    key_path: Path | None  # None for the next signing certificate: its key is not used yet

    @property
    def cert_pem(self) -> str:
        return self.cert_path.read_text()

    @property
    def cert_b64(self) -> str:
        """The DER certificate in base64, as <ds:X509Certificate> carries it."""
        cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


# Keys and certificates are files that change only with a rollover (new paths or contents). Loading an RSA
# key checks its primes, far dearer than a signature: once per file and modification time.
@cache
def _private_key(path: str, mtime: float) -> rsa.RSAPrivateKey:
    key = load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("the SAML signing key must be RSA")  # what the metadata and pysaml2 announce
    return key


def private_key(path: Path) -> rsa.RSAPrivateKey:
    """The RSA key of a key file, read again when the file is replaced in place."""
    return _private_key(str(path), path.stat().st_mtime)


@lru_cache(maxsize=64)
def certificate_key(cert_b64: str) -> PublicKeyTypes:
    """The key of a metadata certificate (base64 DER), parsed once per process (certificates are immutable).
    ValueError when it is not a certificate."""
    return x509.load_der_x509_certificate(base64.b64decode(cert_b64)).public_key()


def _runtime_dir() -> Path:
    path = Path(settings.SAML_DEV_KEY_DIR) / "runtime"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _as_file(value: str) -> Path:
    """A path as given, or PEM text written once to a private file named by its digest."""
    if not value.lstrip().startswith(PEM_START):
        path = Path(value)
        if not path.is_file():
            raise ImproperlyConfigured(f"SAML key or certificate file not found: {value}")
        return path
    path = _runtime_dir() / f"{hashlib.sha256(value.encode()).hexdigest()[:24]}.pem"
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "w") as handle:
            handle.write(value.strip() + "\n")
        Path(tmp).replace(path)
    return path


def _generate(directory: Path, common_name: str) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=20 * 365))
        .sign(key, hashes.SHA256())
    )
    (directory / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def dev_pair(name: str) -> KeyPair:
    """A generated pair under var/saml/<name>/; parallel processes race safely (atomic rename)."""
    final = Path(settings.SAML_DEV_KEY_DIR) / name
    if not (final / "cert.pem").exists():
        final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{name}-"))
        _generate(tmp, f"Trousseau IdP {name} (dev)")
        try:
            tmp.rename(final)
        except OSError:  # another process got there first: use its pair
            shutil.rmtree(tmp, ignore_errors=True)
    return KeyPair(cert_path=final / "cert.pem", key_path=final / "key.pem")


def _pair(key_setting: str, cert_setting: str, dev_name: str) -> KeyPair:
    key, cert = getattr(settings, key_setting), getattr(settings, cert_setting)
    if key and cert:
        return KeyPair(cert_path=_as_file(cert), key_path=_as_file(key))
    if settings.SAML_DEV_KEYS:
        return dev_pair(dev_name)
    raise ImproperlyConfigured(
        f"Set {key_setting} and {cert_setting} (TROUSSEAU_{key_setting}, TROUSSEAU_{cert_setting})."
    )


@lru_cache(maxsize=8)
def _cached(kind: str, *values: str) -> KeyPair | None:
    if kind == "signing":
        return _pair("SAML_SIGNING_KEY", "SAML_SIGNING_CERT", "signing")
    if kind == "encryption":
        return _pair("SAML_ENCRYPTION_KEY", "SAML_ENCRYPTION_CERT", "encryption")
    return KeyPair(cert_path=_as_file(values[0]), key_path=None) if values[0] else None


def signing() -> KeyPair:
    pair = _cached("signing", settings.SAML_SIGNING_KEY, settings.SAML_SIGNING_CERT, str(settings.SAML_DEV_KEY_DIR))
    assert pair is not None  # noqa: S101 - signing pairs always exist or raise
    return pair


def next_signing() -> KeyPair | None:
    """The certificate published ahead of a rollover, if any."""
    return _cached("next", settings.SAML_NEXT_SIGNING_CERT)


def encryption() -> KeyPair:
    pair = _cached(
        "encryption", settings.SAML_ENCRYPTION_KEY, settings.SAML_ENCRYPTION_CERT, str(settings.SAML_DEV_KEY_DIR)
    )
    assert pair is not None  # noqa: S101 - encryption pairs always exist or raise
    return pair


def warm() -> None:
    """Parse the signing key now, as the first answer would (core/warm.py)."""
    key_path = signing().key_path
    if key_path is not None:
        private_key(key_path)


def fingerprint() -> str:
    """Changes whenever a key setting changes: cached pysaml2 servers are rebuilt then."""
    parts = [str(signing().cert_path), str(encryption().cert_path), settings.SAML_NEXT_SIGNING_CERT]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
