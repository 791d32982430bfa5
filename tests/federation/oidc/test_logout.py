"""RP-initiated logout and back-channel logout (logout tokens checked against the JWKS)."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from tests.federation.oidc.conftest import (
    AFTER_LOGOUT,
    LOGOUT,
    RP,
    Receiver,
    code_for,
    follow_local,
    pkce,
    query_of,
    refresh,
    register,
    tokens,
    userinfo,
    verify,
)
from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.federation import claims
from trousseau.federation.oidc.logout import EVENT, backchannel_logout
from trousseau.federation.oidc.metadata import issuer
from trousseau.federation.oidc.models import Authorization

pytestmark = pytest.mark.django_db


def logged_in(browser: Client) -> bool:
    return "_auth_user_id" in browser.session


def test_logout_with_id_token_hint_returns_to_the_registered_uri(browser, rp: RP, account: Account):
    body = tokens(browser, rp)
    query = {"id_token_hint": body["id_token"], "post_logout_redirect_uri": AFTER_LOGOUT, "state": "s1"}
    response = follow_local(browser, browser.get(LOGOUT + "?" + urlencode(query)))
    assert response.status_code == 302
    assert response["Location"] == AFTER_LOGOUT + "?state=s1"
    assert not logged_in(browser)
    assert userinfo(body["access_token"]).status_code == 401  # the session's tokens end with it
    assert refresh(rp, body["refresh_token"]).status_code == 400
    assert AuditEvent.objects.filter(tag=EventTag.LOGOUT, account=account).exists()


def test_an_unregistered_post_logout_uri_is_refused_and_keeps_the_session(browser, rp: RP):
    body = tokens(browser, rp)
    for uri in ("https://evil.example/bye", AFTER_LOGOUT + "/"):
        response = browser.get(LOGOUT, {"id_token_hint": body["id_token"], "post_logout_redirect_uri": uri})
        assert response.status_code == 400
        assert "Déconnexion impossible" in response.text
    assert logged_in(browser)
    assert AuditEvent.objects.filter(tag=EventTag.OIDC_REFUSED, data__endpoint="logout").count() == 2


def test_a_forged_id_token_hint_is_refused(browser, rp: RP):
    body = tokens(browser, rp)
    head, payload, _ = body["id_token"].split(".")
    response = browser.get(
        LOGOUT, {"id_token_hint": f"{head}.{payload}.AAAA", "post_logout_redirect_uri": AFTER_LOGOUT}
    )
    assert response.status_code == 400
    assert logged_in(browser)


def test_without_hint_the_user_confirms(browser, rp: RP):
    tokens(browser, rp)
    page = browser.get(LOGOUT, {"client_id": rp.client_id, "post_logout_redirect_uri": AFTER_LOGOUT, "state": "s2"})
    assert page.status_code == 200
    assert "Voulez-vous vous déconnecter ?" in page.text
    assert "https://rp.example" in page["Content-Security-Policy"]  # the form's answer redirects there
    assert logged_in(browser)
    form = {"client_id": rp.client_id, "post_logout_redirect_uri": AFTER_LOGOUT, "state": "s2", "allow": "on"}
    answer = follow_local(browser, browser.post(LOGOUT, form))
    assert answer.status_code == 302
    assert answer["Location"] == AFTER_LOGOUT + "?state=s2"
    assert not logged_in(browser)


def test_educonnect_clients_may_send_the_id_token_as_bearer(browser, rp: RP):
    body = tokens(browser, rp)
    response = browser.get(LOGOUT, headers={"Authorization": f"Bearer {body['id_token']}"})
    assert response.status_code == 302
    assert follow_local(browser, response).status_code == 200  # the mire
    assert not logged_in(browser)
    assert userinfo(body["access_token"]).status_code == 401


def test_backchannel_logout_token_is_signed_and_complete(browser, account: Account, receiver: Receiver):
    ent = register(backchannel_logout_uri=receiver.uri)
    quiet = register()  # no back-channel URI: nothing to send
    ent_tokens = tokens(browser, ent)
    quiet_tokens = tokens(browser, quiet)
    session_key = browser.session.session_key
    sid = verify(ent_tokens["id_token"])[1]["sid"]

    before = int(time.time())
    assert backchannel_logout(account=account, session_key=session_key) == 1
    assert len(receiver.bodies) == 1
    header, logout_claims = verify(receiver.bodies[0]["logout_token"][0], typ="logout+jwt")
    assert header["alg"] == "RS256"
    assert header["kid"]
    assert logout_claims["iss"] == issuer()
    assert logout_claims["aud"] == ent.client_id
    assert logout_claims["sub"] == claims.pairwise_id(account, ent.client_id)
    assert logout_claims["sid"] == sid
    assert before - 1 <= logout_claims["iat"] <= int(time.time()) + 1
    assert logout_claims["exp"] > logout_claims["iat"]
    assert logout_claims["jti"]
    assert logout_claims["events"] == {EVENT: {}}
    assert "nonce" not in logout_claims
    # The session's tokens are revoked at every client, notified or not.
    assert userinfo(ent_tokens["access_token"]).status_code == 401
    assert userinfo(quiet_tokens["access_token"]).status_code == 401
    assert not Authorization.objects.filter(session_key=session_key).exists()
    event = AuditEvent.objects.get(tag=EventTag.OIDC_BACKCHANNEL_LOGOUT)
    assert event.data == {"notified": 1, "failed": []}


def test_backchannel_without_sid_when_the_client_does_not_want_it(browser, account: Account, receiver: Receiver):
    ent = register(backchannel_logout_uri=receiver.uri, backchannel_logout_session_required=False)
    tokens(browser, ent)
    assert backchannel_logout(account=account, session_key=browser.session.session_key) == 1
    _, logout_claims = verify(receiver.bodies[0]["logout_token"][0], typ="logout+jwt")
    assert "sid" not in logout_claims
    assert logout_claims["sub"] == claims.pairwise_id(account, ent.client_id)


def test_only_clients_that_got_tokens_in_that_session_are_notified(account: Account, receiver: Receiver):
    ent = register(backchannel_logout_uri=receiver.uri)
    here, elsewhere = Client(), Client()
    for browser in (here, elsewhere):
        browser.force_login(account, backend="trousseau.accounts.backends.AccountBackend")
    tokens(elsewhere, ent)
    unredeemed = register(backchannel_logout_uri=receiver.uri)
    code_for(here, unredeemed, pkce()[1])  # a code, never exchanged: no tokens, no notice
    assert backchannel_logout(account=account, session_key=str(here.session.session_key)) == 0
    assert receiver.bodies == []
    assert backchannel_logout(account=account, session_key=str(elsewhere.session.session_key)) == 1


def test_a_client_that_fails_is_not_counted(browser, account: Account, receiver: Receiver):
    receiver.status = 500
    ent = register(backchannel_logout_uri=receiver.uri)
    tokens(browser, ent)
    down = register(backchannel_logout_uri="http://127.0.0.1:9/nothing-listens-here")
    tokens(browser, down)
    assert backchannel_logout(account=account, session_key=browser.session.session_key) == 0
    event = AuditEvent.objects.get(tag=EventTag.OIDC_BACKCHANNEL_LOGOUT)
    assert sorted(event.data["failed"]) == sorted([ent.client_id, down.client_id])


def test_rp_initiated_logout_notifies_the_other_clients(browser, rp: RP, receiver: Receiver):
    ent = register(backchannel_logout_uri=receiver.uri)
    tokens(browser, ent)
    body = tokens(browser, rp)
    hint = {"id_token_hint": body["id_token"], "post_logout_redirect_uri": AFTER_LOGOUT}
    response = follow_local(browser, browser.get(LOGOUT, hint))
    assert response.status_code == 302
    assert len(receiver.bodies) == 1
    assert verify(receiver.bodies[0]["logout_token"][0])[1]["aud"] == ent.client_id
    assert query_of(response["Location"]) == {}


def test_the_session_is_found_after_its_key_changed(browser, account: Account, receiver: Receiver):
    """A password change gives the session a new key (update_session_auth_hash): its clients are still found."""
    ent = register(backchannel_logout_uri=receiver.uri)
    body = tokens(browser, ent)
    old_key = browser.session.session_key
    store = SessionStore(session_key=old_key)
    data = store.load()
    renewed = SessionStore()
    renewed.update(data)
    renewed.create()
    store.delete()
    assert backchannel_logout(account=account, session_key=str(renewed.session_key)) == 1
    assert verify(receiver.bodies[0]["logout_token"][0])[1]["sid"] == verify(body["id_token"])[1]["sid"]
