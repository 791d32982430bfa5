"""The ENT's two key pairs (signing, encryption), made at first start under var/ent/, never committed."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

KEY_BITS = 3072
VALID_DAYS = 10 * 365


@dataclass(frozen=True)
class KeyPair:
    key_pem: str
    cert_pem: str

    @property
    def cert_base64(self) -> str:
        """The certificate as metadata carries it: base64 DER without the PEM armour."""
        lines = self.cert_pem.strip().splitlines()
        return "".join(line for line in lines if not line.startswith("-----"))


def _make(common_name: str, uri: str) -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(uri)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def ensure(var_dir: Path, use: str, *, common_name: str, uri: str) -> KeyPair:
    """The `use` ("signing" or "encryption") key pair in `var_dir`, made the first time it is asked for."""
    var_dir.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = var_dir / f"sp-{use}.key", var_dir / f"sp-{use}.crt"
    if not key_path.exists():
        key_pem, cert_pem = _make(common_name, uri)
        _write_private(key_path, key_pem)
        cert_path.write_bytes(cert_pem)
    return KeyPair(key_pem=key_path.read_text(), cert_pem=cert_path.read_text())
