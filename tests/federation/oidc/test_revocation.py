"""A password change or reset ends what the other sessions gave the services: their refresh and access
tokens stop working, and the services hear of it by back-channel (security.md §7 check 22)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.accounts.helpers import logged_in
from tests.federation.oidc.conftest import RP, Receiver, refresh, register, tokens, userinfo
from trousseau.accounts.changes import password_change
from trousseau.accounts.models import Account
from trousseau.accounts.recovery import account_reset_password

pytestmark = [pytest.mark.django_db(transaction=True)]  # the back-channel is sent once the change commits
NEW_PASSWORD = "Trousse#Neuve42"


@pytest.fixture
def ent(receiver: Receiver) -> RP:
    return register(backchannel_logout_uri=receiver.uri)


def test_a_reset_revokes_every_sessions_tokens_and_tells_the_service(account: Account, ent: RP, receiver: Receiver):
    phone, laptop = logged_in(account), logged_in(account)
    on_phone, on_laptop = tokens(phone, ent), tokens(laptop, ent)
    assert userinfo(on_phone["access_token"]).status_code == 200
    account_reset_password(account=account, password=NEW_PASSWORD, ip="203.0.113.9")
    for got in (on_phone, on_laptop):
        assert refresh(ent, got["refresh_token"]).json()["error"] == "invalid_grant"
        assert userinfo(got["access_token"]).status_code == 401
    assert len(receiver.bodies) == 1  # one logout token for the service, sent after the commit


def test_a_change_keeps_this_sessions_tokens_and_ends_the_others(account: Account, ent: RP, receiver: Receiver):
    here, elsewhere = logged_in(account), logged_in(account)
    kept, ended = tokens(here, ent), tokens(elsewhere, ent)
    password_change(
        account=account,
        current=factories.GOOD_PASSWORD,
        new=NEW_PASSWORD,
        ip="203.0.113.9",
        keep_session=here.session.session_key,
    )
    assert refresh(ent, ended["refresh_token"]).json()["error"] == "invalid_grant"
    assert userinfo(ended["access_token"]).status_code == 401
    assert refresh(ent, kept["refresh_token"]).status_code == 200
    assert len(receiver.bodies) == 1
