"""The relying-party checklist, one rule at a time: a valid token passes, each broken rule is named."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.signin.fake_op import CLIENT_ID, SUB, FakeOP, at_hash, unsigned
from trousseau.franceconnect import tokens
from trousseau.franceconnect.config import config
from trousseau.franceconnect.errors import TokenRefused

pytestmark = pytest.mark.usefixtures("fc")
NONCE = "n" * 43
ACCESS_TOKEN = "access-token-0123456789"


def id_claims(op: FakeOP, **changes):
    now = int(time.time())
    claims = {
        "sub": SUB,
        "auth_time": now,
        "acr": "eidas1",
        "nonce": NONCE,
        "at_hash": at_hash(ACCESS_TOKEN),
        "aud": CLIENT_ID,
        "exp": now + 60,
        "iat": now,
        "iss": op.issuer,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def verify(token: str) -> dict[str, object]:
    return tokens.verify_id_token(token, config(), nonce=NONCE, access_token=ACCESS_TOKEN)


def refused(token: str) -> str:
    with pytest.raises(TokenRefused) as caught:
        verify(token)
    return caught.value.reason


def test_a_valid_es256_id_token_passes(fc):
    assert verify(fc.sign(id_claims(fc)))["sub"] == SUB


def test_a_higher_eidas_level_is_accepted(fc):
    assert verify(fc.sign(id_claims(fc, acr="eidas2")))["acr"] == "eidas2"


def test_rs256_passes_when_it_is_the_pinned_algorithm(fc, settings):
    settings.FRANCECONNECT_SIGNING_ALG = "RS256"
    assert verify(fc.sign(id_claims(fc), {"alg": "RS256", "kid": fc.rsa.kid}))["sub"] == SUB


def ago(seconds: int) -> Callable[[], int]:
    """A time claim `seconds` before the test runs (not before collection: a long suite would age it)."""
    return lambda: int(time.time()) - seconds


def at_run_time(changes: dict[str, Any]) -> dict[str, Any]:
    return {name: value() if callable(value) else value for name, value in changes.items()}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"iss": "https://evil.example/api/v2"}, "iss"),
        ({"aud": "another-client"}, "aud"),
        ({"aud": [CLIENT_ID, "another-client"]}, "azp"),
        ({"exp": ago(120)}, "exp"),
        ({"exp": None}, "exp"),
        ({"iat": ago(-600)}, "iat"),
        ({"nonce": "another-nonce-of-enough-length-0123456789"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"acr": "eidas0"}, "acr"),
        ({"acr": None}, "acr"),
        ({"sub": ""}, "sub"),
        ({"at_hash": at_hash("another-access-token")}, "at_hash"),
    ],
)
def test_each_broken_claim_is_refused_by_name(fc, changes, reason):
    assert refused(fc.sign(id_claims(fc, **at_run_time(changes)))) == reason


def test_several_audiences_pass_when_azp_is_us(fc):
    assert verify(fc.sign(id_claims(fc, aud=[CLIENT_ID, "other"], azp=CLIENT_ID)))["sub"] == SUB


def test_hs256_signed_with_the_client_secret_is_refused(fc):
    assert refused(fc.sign(id_claims(fc), {"alg": "HS256"})) == "alg"


def test_alg_none_is_refused(fc):
    assert refused(unsigned({"alg": "none"}, id_claims(fc))) == "alg"


def test_rs256_is_refused_when_es256_is_pinned(fc):
    assert refused(fc.sign(id_claims(fc), {"alg": "RS256", "kid": fc.rsa.kid})) == "alg"


def test_a_forged_signature_is_refused(fc):
    header, payload, _ = fc.sign(id_claims(fc)).split(".")
    _, _, signature = fc.sign(id_claims(fc, sub="someone-else")).split(".")
    assert refused(f"{header}.{payload}.{signature}") == "signature"
    assert refused(unsigned({"alg": "ES256", "kid": fc.ec.kid}, id_claims(fc), b"x" * 64)) == "signature"


def test_an_encrypted_or_garbled_token_is_refused(fc):
    assert refused("a.b.c.d.e") == "format"
    assert refused("not-a-token") == "format"


def test_an_unknown_key_id_is_refused_after_fetching_the_keys_again(fc):
    verify(fc.sign(id_claims(fc)))  # the keys are now cached
    assert fc.hits["/jwks"] == 1
    assert refused(fc.sign(id_claims(fc), {"kid": "pkcs11:ES256:unknown"})) == "kid"
    assert fc.hits["/jwks"] == 2  # refetched once before refusing


def test_a_rotated_key_is_found_by_fetching_the_keys_again(fc):
    from joserfc.jwk import ECKey

    verify(fc.sign(id_claims(fc)))
    fc.ec = ECKey.generate_key("P-256", parameters={"kid": "pkcs11:ES256:hsm-2026", "alg": "ES256", "use": "sig"})
    fc.published = [fc.ec, fc.rsa]
    assert verify(fc.sign(id_claims(fc)))["sub"] == SUB
    assert fc.hits["/jwks"] == 2


def test_a_key_replaced_under_the_same_id_fails_the_signature(fc):
    from joserfc.jwk import ECKey

    verify(fc.sign(id_claims(fc)))
    fc.ec = ECKey.generate_key("P-256", parameters={"kid": fc.ec.kid, "alg": "ES256", "use": "sig"})
    assert refused(fc.sign(id_claims(fc))) == "signature"


def test_userinfo_must_be_about_the_id_token_subject(fc):
    now = int(time.time())
    claims = {"sub": SUB, "aud": CLIENT_ID, "iss": fc.issuer, "exp": now + 60, "iat": now}
    assert tokens.verify_userinfo(fc.sign(claims), config(), sub=SUB)["sub"] == SUB
    with pytest.raises(TokenRefused) as caught:
        tokens.verify_userinfo(fc.sign({**claims, "sub": "someone-elsev1"}), config(), sub=SUB)
    assert caught.value.reason == "sub_mismatch"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [({"iss": "https://evil.example"}, "iss"), ({"aud": "other"}, "aud"), ({"exp": ago(120)}, "exp")],
)
def test_userinfo_claims_are_checked_too(fc, changes, reason):
    now = int(time.time())
    claims = {"sub": SUB, "aud": CLIENT_ID, "iss": fc.issuer, "exp": now + 60, "iat": now, **at_run_time(changes)}
    with pytest.raises(TokenRefused) as caught:
        tokens.verify_userinfo(fc.sign(claims), config(), sub=SUB)
    assert caught.value.reason == reason


def test_userinfo_signed_with_hs256_is_refused(fc):
    claims = {"sub": SUB, "aud": CLIENT_ID, "iss": fc.issuer}
    with pytest.raises(TokenRefused) as caught:
        tokens.verify_userinfo(fc.sign(claims, {"alg": "HS256"}), config(), sub=SUB)
    assert caught.value.reason == "alg"


def test_a_lost_cache_does_not_stop_franceconnect_logins(fc, settings):
    """Redis gone (security.md §7 check 38): the keys are fetched from FranceConnect instead."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    assert verify(fc.sign(id_claims(fc)))["sub"] == SUB
