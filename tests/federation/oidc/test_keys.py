"""Signing keys: the next key is published ahead, a retired key keeps verifying until it is pruned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from tests.federation.oidc.conftest import AFTER_LOGOUT, JWKS, LOGOUT, RP, follow_local, tokens, verify
from trousseau.federation.oidc import keyfiles
from trousseau.federation.oidc.provider_settings import oauth2_provider_settings

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


def use(settings, directory: Path) -> None:
    """Point the provider at the keys in `directory`, as a restart after a rotation does."""
    ring = keyfiles.load(directory, create=False)
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_RSA_PRIVATE_KEY": ring.current,
        "OIDC_RSA_PRIVATE_KEYS_INACTIVE": ring.published_only,
    }


def published_kids() -> list[str]:
    response = Client().get(JWKS)
    assert response["Cache-Control"].startswith("public, max-age=")
    keys = response.json()["keys"]
    assert all(key["kty"] == "RSA" and key["use"] == "sig" and key["alg"] == "RS256" for key in keys)
    assert all("d" not in key and "p" not in key for key in keys)  # public parts only
    return [key["kid"] for key in keys]


def test_rotation_keeps_old_tokens_verifiable_while_their_key_is_published(settings, tmp_path, browser, rp: RP):
    keyfiles.load(tmp_path, create=True)
    use(settings, tmp_path)
    first, upcoming = published_kids()
    old = tokens(browser, rp)
    assert verify(old["id_token"])[0]["kid"] == first

    keyfiles.rotate(tmp_path, keep_retired=timedelta(hours=9), now=T0)
    use(settings, tmp_path)
    current, newest, retired = published_kids()
    assert (current, retired) == (upcoming, first)  # the announced key signs now
    assert newest not in {first, upcoming}
    assert verify(old["id_token"])[1]["aud"] == rp.client_id  # still verifies against the JWKS
    new = tokens(browser, rp)
    assert verify(new["id_token"])[0]["kid"] == upcoming

    # A token signed by the retired key is still a valid logout hint.
    query = {"id_token_hint": old["id_token"], "post_logout_redirect_uri": AFTER_LOGOUT}
    hint = follow_local(browser, browser.get(LOGOUT, query))
    assert hint.status_code == 302
    assert hint["Location"] == AFTER_LOGOUT

    removed = keyfiles.rotate(tmp_path, keep_retired=timedelta(hours=9), now=T0 + timedelta(hours=10))
    assert [path.stem for path in removed] == [T0.strftime(keyfiles.STAMP)]
    use(settings, tmp_path)
    assert first not in published_kids()
    with pytest.raises(JoseError):
        jwt.decode(old["id_token"], KeySet.import_key_set(Client().get(JWKS).json()), algorithms=["RS256"])


def test_missing_keys_stop_the_start_outside_development(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="TROUSSEAU_OIDC_KEYS_DIR"):
        oauth2_provider_settings(issuer="https://idp.example", keys_dir=tmp_path, dev_keys=False, session_age=60)
    built = oauth2_provider_settings(issuer="https://idp.example/", keys_dir=tmp_path, dev_keys=True, session_age=60)
    assert built["OIDC_ISS_ENDPOINT"] == "https://idp.example"
    assert (tmp_path / "current.pem").read_text() == built["OIDC_RSA_PRIVATE_KEY"]
    assert built["OIDC_RSA_PRIVATE_KEYS_INACTIVE"] == [(tmp_path / "next.pem").read_text()]
    assert (tmp_path / "current.pem").stat().st_mode & 0o077 == 0
    again = oauth2_provider_settings(issuer="https://idp.example", keys_dir=tmp_path, dev_keys=True, session_age=60)
    assert again["OIDC_RSA_PRIVATE_KEY"] == built["OIDC_RSA_PRIVATE_KEY"]  # generated once


def test_rotate_command(settings, tmp_path):
    settings.OIDC_KEYS_DIR = tmp_path
    keyfiles.load(tmp_path, create=True)
    before = keyfiles.load(tmp_path, create=False)
    call_command("oidc_rotate_keys")
    after = keyfiles.load(tmp_path, create=False)
    assert after.current == before.next
    assert after.retired == (before.current,)
    assert after.next not in {before.current, before.next}
