"""Secrets kept at rest in the database, sealed with AES-256-GCM (`cryptography`).

For values the service must read back in clear (a staff member's TOTP seed), unlike passwords and
codes, which are hashed. A database dump or backup alone then gives nothing usable; the key lives
outside the database (`TROUSSEAU_SEALING_KEYS`, or derived from the secret key when unset).

A sealed value reads `s1:<key id>:<base64url(nonce | ciphertext | tag)>`. The purpose (a field's
name) is authenticated data, so a value copied into another field does not open. Keys rotate: the
first key seals, every listed key opens (found by its id); re-saving a row seals it with the first.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "s1"
NONCE_BYTES = 12


class Unsealable(Exception):
    """A sealed value that no configured key opens (wrong key, altered value, another purpose)."""


def _keys() -> list[bytes]:
    configured: list[str] = list(getattr(settings, "SEALING_KEYS", []))
    if not configured:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"trousseau sealing v1")
        return [derived.derive(settings.SECRET_KEY.encode())]
    keys = [base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)) for value in configured]
    if any(len(key) != 32 for key in keys):  # noqa: PLR2004 - AES-256
        raise ImproperlyConfigured("TROUSSEAU_SEALING_KEYS: each key is 32 bytes, base64url-encoded")
    return keys


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"trousseau key id" + key).hexdigest()[:8]


def new_key() -> str:
    """A fresh key for TROUSSEAU_SEALING_KEYS."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX + ":")


def seal(value: str, *, purpose: str) -> str:
    key = _keys()[0]
    nonce = secrets.token_bytes(NONCE_BYTES)
    box = AESGCM(key).encrypt(nonce, value.encode(), purpose.encode())
    return f"{PREFIX}:{_key_id(key)}:{base64.urlsafe_b64encode(nonce + box).decode().rstrip('=')}"


def unseal(value: str, *, purpose: str) -> str:
    try:
        _, key_id, body = value.split(":", 2)
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError as exc:
        raise Unsealable("malformed sealed value") from exc
    for key in _keys():
        if _key_id(key) == key_id:
            try:
                return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode()).decode()
            except InvalidTag as exc:
                raise Unsealable("altered value, or sealed for another purpose") from exc
    raise Unsealable(f"no configured key has id {key_id}")


class SealedTextField(models.TextField):  # type: ignore[type-arg]
    """A text column holding its value sealed; Python code sees the clear value.

    Values written before the column was sealed (no `s1:` prefix) read as they are, so a data
    migration can re-save them. Sealed values cannot be searched or compared in SQL.
    """

    def __init__(self, *args: Any, purpose: str = "", **kwargs: Any) -> None:
        self.purpose = purpose
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value or not is_sealed(value):
            return value
        return unseal(value, purpose=self.purpose)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value:  # "" and None stay as they are: "no secret" is not a secret
            return value
        return seal(str(value), purpose=self.purpose)
