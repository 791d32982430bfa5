"""Verification of the ID token and of the signed userinfo: one named reason per broken rule.

Checked, in order: compact JWS form; `alg` equal to the pinned one (so HS256, "none" and the other
asymmetric algorithm are refused before any key is looked at); the key id known (refetching the JWKS
once); the signature; then the claims: `iss`, `aud` (and `azp` when several audiences), `exp` and `iat`
with a small leeway, `nonce`, `acr` at least the level asked for, `sub`, `at_hash` when present; and for
userinfo, `sub` equal to the ID token's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any

from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError

from trousseau.franceconnect import keys
from trousseau.franceconnect.config import Config
from trousseau.franceconnect.errors import TokenRefused

COMPACT_JWS_PARTS = 3


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise TokenRefused("format") from exc
    if not isinstance(value, dict):
        raise TokenRefused("format")
    return value


def header_of(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != COMPACT_JWS_PARTS:  # an encrypted (JWE, 5 parts) or garbled token
        raise TokenRefused("format")
    try:
        return _json_object(_b64decode(parts[0]))
    except (binascii.Error, ValueError) as exc:
        raise TokenRefused("format") from exc


def verified_claims(token: str, cfg: Config) -> dict[str, Any]:
    """The payload of a JWS signed by FranceConnect with the pinned algorithm, or TokenRefused."""
    header = header_of(token)
    alg = header.get("alg")
    if alg != cfg.algorithm:
        raise TokenRefused("alg", f"{alg!r} is not the pinned {cfg.algorithm}")
    kid = header.get("kid")
    key = keys.signing_key(cfg, kid=kid if isinstance(kid, str) else None, alg=cfg.algorithm)
    try:
        signed = jws.deserialize_compact(token, key, algorithms=[cfg.algorithm])
    except BadSignatureError as exc:
        raise TokenRefused("signature") from exc
    except (JoseError, ValueError) as exc:
        raise TokenRefused("format", str(exc)) from exc
    return _json_object(signed.payload)


def _check_issuer_and_audience(claims: dict[str, Any], cfg: Config) -> None:
    if claims.get("iss") != cfg.issuer:
        raise TokenRefused("iss", str(claims.get("iss")))
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if cfg.client_id not in audiences:
        raise TokenRefused("aud", str(aud))
    if len(audiences) > 1 and claims.get("azp") != cfg.client_id:
        raise TokenRefused("azp", str(claims.get("azp")))


def _check_times(claims: dict[str, Any], cfg: Config, now: float, *, required: bool) -> None:
    exp, iat = claims.get("exp"), claims.get("iat")
    if exp is None and not required:
        return
    if not isinstance(exp, int | float) or isinstance(exp, bool) or now > exp + cfg.leeway:
        raise TokenRefused("exp", str(exp))
    if iat is not None and (not isinstance(iat, int | float) or iat > now + cfg.leeway):
        raise TokenRefused("iat", str(iat))
    if required and iat is None:
        raise TokenRefused("iat", "missing")


def _at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()  # ES256 and RS256 both use SHA-256
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def verify_id_token(
    token: str, cfg: Config, *, nonce: str, access_token: str | None = None, now: float | None = None
) -> dict[str, Any]:
    """The ID token's claims, after every check of the relying-party checklist."""
    claims = verified_claims(token, cfg)
    _check_issuer_and_audience(claims, cfg)
    _check_times(claims, cfg, time.time() if now is None else now, required=True)
    if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
        raise TokenRefused("nonce")
    if not cfg.acr_accepted(claims.get("acr")):
        raise TokenRefused("acr", str(claims.get("acr")))
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise TokenRefused("sub", "missing")
    at_hash = claims.get("at_hash")
    if (
        at_hash is not None
        and access_token is not None
        and not hmac.compare_digest(str(at_hash), _at_hash(access_token))
    ):
        raise TokenRefused("at_hash")
    return claims


def verify_userinfo(token: str, cfg: Config, *, sub: str, now: float | None = None) -> dict[str, Any]:
    """The userinfo JWT's claims: same signature rules, issued for us, about the ID token's subject."""
    claims = verified_claims(token, cfg)
    _check_issuer_and_audience(claims, cfg)
    _check_times(claims, cfg, time.time() if now is None else now, required=False)
    if not hmac.compare_digest(str(claims.get("sub", "")).encode(), sub.encode()):
        raise TokenRefused("sub_mismatch")
    return claims
