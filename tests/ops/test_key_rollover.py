"""What docs/deployment.md promises of a secret key rollover: sessions survive, service identifiers do not move."""

from __future__ import annotations

import base64

import pytest
from django.conf import settings
from django.test import override_settings

from tests.accounts.helpers import active_guardian, logged_in
from trousseau.core import sealing
from trousseau.federation.claims import account_id, pairwise_id

NEW_KEY = "rolled-over-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG"


@pytest.mark.django_db
def test_sessions_used_while_the_old_key_is_a_fallback_survive_the_rollover():
    account = active_guardian()
    active, idle = logged_in(account), logged_in(account)
    old = settings.SECRET_KEY
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[old]):
        assert active.get("/compte/").status_code == 200  # checked against the fallback, re-signed with the new key
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[]):
        assert active.get("/compte/").status_code == 200
        assert idle.get("/compte/").status_code == 302  # not seen during the window: the login ends


@pytest.mark.django_db
def test_service_provider_identifiers_follow_the_identifier_key_not_the_secret_key():
    account = active_guardian()
    before = (account_id(account), pairwise_id(account, "https://ent.example/sp"))
    with override_settings(SECRET_KEY=NEW_KEY, IDENTIFIER_KEY=settings.SECRET_KEY):
        assert (account_id(account), pairwise_id(account, "https://ent.example/sp")) == before
    with override_settings(IDENTIFIER_KEY=NEW_KEY):
        assert account_id(account) != before[0]


def test_sealed_values_stay_readable_once_the_derived_sealing_key_is_pinned():
    # docs/deployment.md: before the first rollover, TROUSSEAU_SEALING_KEYS gets the key derived so far.
    sealed = sealing.seal("JBSWY3DPEHPK3PXP", purpose="totp_secret")
    derived = base64.urlsafe_b64encode(sealing._keys()[0]).decode().rstrip("=")
    with override_settings(SEALING_KEYS=[derived], SECRET_KEY=NEW_KEY):
        assert sealing.unseal(sealed, purpose="totp_secret") == "JBSWY3DPEHPK3PXP"
    with override_settings(SECRET_KEY=NEW_KEY), pytest.raises(sealing.Unsealable):
        sealing.unseal(sealed, purpose="totp_secret")  # what the pinning step prevents
