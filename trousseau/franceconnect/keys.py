"""FranceConnect's metadata (discovery) and signing keys (JWKS), cached in Django's cache.

The cache is shared by every web process when it is Redis. FranceConnect rotates its keys, so a token
signed with a key id the cached set does not have makes us fetch the set again, once, before refusing
(docs.partenaires.franceconnect.gouv.fr, migration v1 -> v2). Only JSON goes into the cache.
"""

from __future__ import annotations

from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from trousseau.core import cache as best_effort
from trousseau.franceconnect import http
from trousseau.franceconnect.config import Config
from trousseau.franceconnect.errors import ProviderUnavailable, TokenRefused

ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint")
KEY_TYPES = {"ES256": ("EC", "P-256"), "RS256": ("RSA", None)}


def _cache_key(kind: str, cfg: Config) -> str:
    return f"franceconnect:{kind}:{cfg.issuer}"


def metadata(cfg: Config) -> dict[str, Any]:
    """The provider's discovery document; its issuer must be exactly the configured one."""
    cached: dict[str, Any] | None = best_effort.cached(_cache_key("metadata", cfg))
    if cached is not None:
        return cached
    response = http.request(cfg.discovery_url, timeout=cfg.timeout)
    if response.status != 200:  # noqa: PLR2004 - HTTP OK
        raise ProviderUnavailable("discovery", f"HTTP {response.status}")
    document = response.json()
    if document.get("issuer") != cfg.issuer:
        raise ProviderUnavailable("discovery_issuer", str(document.get("issuer")))
    missing = [name for name in ENDPOINTS if not isinstance(document.get(name), str)]
    if missing:
        raise ProviderUnavailable("discovery_endpoints", ", ".join(missing))
    best_effort.keep(_cache_key("metadata", cfg), document, cfg.metadata_ttl)
    return document


def _fetch_jwks(cfg: Config) -> list[dict[str, Any]]:
    response = http.request(metadata(cfg)["jwks_uri"], timeout=cfg.timeout)
    if response.status != 200:  # noqa: PLR2004 - HTTP OK
        raise ProviderUnavailable("jwks", f"HTTP {response.status}")
    keys = response.json().get("keys")
    if not isinstance(keys, list):
        raise ProviderUnavailable("jwks", "no keys")
    found = [k for k in keys if isinstance(k, dict)]
    best_effort.keep(_cache_key("jwks", cfg), found, cfg.metadata_ttl)
    return found


def _pick(keys: list[dict[str, Any]], kid: str | None, alg: str) -> ECKey | RSAKey | None:
    """The public key with this key id (or the only suitable one when the token names none)."""
    kty, crv = KEY_TYPES[alg]
    suitable = [
        k
        for k in keys
        if k.get("kty") == kty
        and (crv is None or k.get("crv") == crv)
        and k.get("use", "sig") == "sig"
        and k.get("alg", alg) == alg
    ]
    chosen = [k for k in suitable if k.get("kid") == kid] if kid is not None else suitable
    if len(chosen) != 1:
        return None
    public = {name: value for name, value in chosen[0].items() if name not in {"d", "p", "q", "dp", "dq", "qi"}}
    try:
        return ECKey.import_key(public) if kty == "EC" else RSAKey.import_key(public)
    except (JoseError, ValueError, TypeError):
        return None


def signing_key(cfg: Config, *, kid: str | None, alg: str) -> ECKey | RSAKey:
    """The key to check a signature made with `alg` by key `kid`; refetch the set once if it is unknown."""
    keys: list[dict[str, Any]] | None = best_effort.cached(_cache_key("jwks", cfg))
    fetched = keys is None
    if keys is None:
        keys = _fetch_jwks(cfg)
    key = _pick(keys, kid, alg)
    if key is None and not fetched:
        key = _pick(_fetch_jwks(cfg), kid, alg)
    if key is None:
        raise TokenRefused("kid", f"no {alg} key with kid {kid!r}")
    return key


def forget(cfg: Config) -> None:
    best_effort.forget(_cache_key("metadata", cfg), _cache_key("jwks", cfg))
