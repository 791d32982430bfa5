"""The claims released with an access token, kept in the cache for the token's life.

The token endpoint has just computed them for the ID token (scopes.claims_for); UserInfo, called
right after by nearly every client, answers the same claims for the same token (OIDC Core §5.3.2:
the ID token and UserInfo agree), so it takes them from here instead of reading the directory again.
Only the claims are kept, never a decision: UserInfo still reads the token's row (a revoked token is
a deleted row) and its account (a disabled account gets nothing) on every call. A miss (another
process with the per-process cache of a development setup, an eviction, a token from a refresh)
computes them again; with REDIS_URL every process shares them. They are the values of the exchange:
a change of the account's record shows at its next token, at most ACCESS_TOKEN_SECONDS later.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.cache import cache

from trousseau.federation.oidc.provider_settings import ACCESS_TOKEN_SECONDS

PREFIX = "oidc:userinfo:"


def _key(access_token: str) -> str:
    # The token's digest, never the token: the cache is not where bearer tokens should be readable.
    return PREFIX + hashlib.sha256(access_token.encode()).hexdigest()


def keep(access_token: str, claims: dict[str, Any]) -> None:
    cache.set(_key(access_token), claims, ACCESS_TOKEN_SECONDS)


def kept(access_token: str) -> dict[str, Any] | None:
    found = cache.get(_key(access_token))
    return found if isinstance(found, dict) else None
