"""Bad requests are refused, nothing is issued, and the refusal is audited (research/security.md §7, 32-35)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from tests.federation.oidc.conftest import (
    REDIRECT,
    RP,
    authorize,
    code_for,
    pkce,
    query_of,
    redeem,
    refresh,
    register,
    tokens,
    userinfo,
)
from trousseau.accounts.models import Account, AccountState
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.federation.oidc import tokens as tokens_module
from trousseau.federation.oidc.metadata import issuer
from trousseau.federation.oidc.models import Authorization

pytestmark = pytest.mark.django_db


def refusals(endpoint: str) -> list[str]:
    rows = AuditEvent.objects.filter(tag=EventTag.OIDC_REFUSED, data__endpoint=endpoint)
    return [row.data["error"] for row in rows]


def test_plain_pkce_is_refused_with_iss_and_state(browser, rp: RP):
    verifier, _ = pkce()
    response = authorize(browser, rp, challenge=verifier, code_challenge_method="plain")
    params = query_of(response["Location"])
    assert params["error"] == "invalid_request"
    assert params["state"] == "st-123"
    assert params["iss"] == issuer()
    assert "code" not in params
    assert not Authorization.objects.exists()  # no code was issued
    assert refusals("authorize") == ["invalid_request"]


def test_a_challenge_without_method_is_plain_hence_refused(browser, rp: RP):
    response = authorize(browser, rp, challenge=None, code_challenge=pkce()[1])
    assert query_of(response["Location"])["error"] == "invalid_request"
    assert not Authorization.objects.exists()  # no code was issued


def test_public_client_without_pkce_is_refused(browser):
    public = register(public=True)
    response = authorize(browser, public, challenge=None)
    params = query_of(response["Location"])
    assert params["error"] == "invalid_request"
    assert params["iss"] == issuer()
    assert not Authorization.objects.exists()  # no code was issued


@pytest.mark.parametrize(
    "uri",
    [
        REDIRECT + "/",
        "https://RP.example/cb",
        REDIRECT + "?x=1",
        REDIRECT + "#frag",
        "http://rp.example/cb",
        "https://rp.example@evil.example/cb",
        "https://evil.example/cb",
        "https://sub.rp.example/cb",
        "https://rp.example/cb/..;/evil",
        "https://rp.example/%2e%2e/cb",
        "javascript:alert(1)",
    ],
)
def test_redirect_uri_must_be_exactly_the_registered_one(browser, rp: RP, uri: str):
    rp.redirect_uri = uri
    response = authorize(browser, rp, challenge=pkce()[1])
    assert response.status_code == 400  # an error page here, never a redirect to that URI
    assert "Connexion au service impossible" in response.text
    assert not Authorization.objects.exists()  # no code was issued
    assert refusals("authorize")


def test_unknown_client_gets_the_error_page(browser, rp: RP):
    rp.registration.application.client_id = "nobody"
    response = authorize(browser, rp, challenge=pkce()[1])
    assert response.status_code == 400
    assert "Connexion au service impossible" in response.text


def test_only_the_code_response_type(browser, rp: RP):
    for response_type in ("token", "id_token", "code id_token"):
        response = authorize(browser, rp, challenge=pkce()[1], response_type=response_type)
        assert response.status_code in {302, 400}
        if response.status_code == 302:
            params = query_of(response["Location"].replace("#", "?"))
            assert "error" in params
            assert "access_token" not in params
            assert "id_token" not in params
    assert not Authorization.objects.exists()  # no code was issued
    assert not AccessToken.objects.exists()


def test_code_replay_is_refused_and_revokes_the_first_tokens(browser, rp: RP, account: Account):
    verifier, challenge = pkce()
    code = code_for(browser, rp, challenge)
    first = redeem(rp, code, verifier).json()
    assert userinfo(first["access_token"]).status_code == 200
    again = redeem(rp, code, verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert userinfo(first["access_token"]).status_code == 401
    assert refresh(rp, first["refresh_token"]).status_code == 400
    assert AuditEvent.objects.filter(tag=EventTag.OIDC_CODE_REPLAYED, account=account).exists()
    assert "invalid_grant" in refusals("token")


def test_a_replay_during_the_exchange_leaves_no_live_tokens(browser, rp: RP, account: Account, monkeypatch):
    # An attacker holding a copy of the code replays it while the first exchange runs, after the claim.
    # PostgreSQL: the claim and the rows are one statement, so the replay finds the rows and revokes
    # them. Elsewhere the claim commits before the rows (token_rows.store): the rows must not follow.
    verifier, challenge = pkce()
    code = code_for(browser, rp, challenge)
    replays: list[Any] = []
    check = tokens_module._check

    def check_after_a_replay(*args, **kw):
        if not replays:
            replays.append(redeem(rp, code, verifier))
        return check(*args, **kw)

    monkeypatch.setattr(tokens_module, "_check", check_after_a_replay)
    first = redeem(rp, code, verifier)
    assert [r.status_code for r in replays] == [400]
    if first.status_code == 200:
        assert connection.vendor == "postgresql"
        assert userinfo(first.json()["access_token"]).status_code == 401
        assert refresh(rp, first.json()["refresh_token"]).status_code == 400
    else:
        assert first.json()["error"] == "invalid_grant"
        assert not RefreshToken.objects.exists()
    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.filter(revoked=None).exists()
    assert AuditEvent.objects.filter(tag=EventTag.OIDC_CODE_REPLAYED, account=account).exists()


def test_wrong_client_secret_is_refused_and_keeps_the_code_unused(browser, rp: RP):
    verifier, challenge = pkce()
    code = code_for(browser, rp, challenge)
    wrong = redeem(rp, code, verifier, secret="not-the-secret")
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert not AccessToken.objects.exists()
    assert refusals("token") == ["invalid_client"]
    assert AuditEvent.objects.get(tag=EventTag.OIDC_REFUSED).data["client"] == rp.client_id
    assert redeem(rp, code, verifier).status_code == 200


def test_confidential_client_without_secret_is_refused(browser, rp: RP):
    verifier, challenge = pkce()
    code = code_for(browser, rp, challenge)
    rp.registration = rp.registration.__class__(application=rp.registration.application, client_secret=None)
    response = redeem(rp, code, verifier)
    assert response.status_code == 401
    assert not AccessToken.objects.exists()


def test_expired_code_is_refused(browser, rp: RP):
    verifier, challenge = pkce()
    code = code_for(browser, rp, challenge)
    Authorization.objects.update(created_at=timezone.now() - timedelta(seconds=61))  # codes live 60 s
    response = redeem(rp, code, verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_wrong_verifier_is_refused(browser, rp: RP):
    _, challenge = pkce()
    code = code_for(browser, rp, challenge)
    response = redeem(rp, code, pkce()[0])
    assert response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_missing_verifier_is_refused(browser, rp: RP):
    code = code_for(browser, rp, pkce()[1])
    response = redeem(rp, code, verifier=None)
    assert response.status_code == 400
    assert not AccessToken.objects.exists()


def test_a_verifier_for_a_code_issued_without_challenge_is_refused(browser, rp: RP):
    code = code_for(browser, rp, challenge=None)
    response = redeem(rp, code, pkce()[0])
    assert response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_code_is_bound_to_its_redirect_uri_and_client(browser, rp: RP):
    other_uri = "https://rp.example/other"
    rp_two = register(redirect_uris=[REDIRECT, other_uri])
    verifier, challenge = pkce()
    code = code_for(browser, rp_two, challenge)
    rp_two.redirect_uri = other_uri
    mismatch = redeem(rp_two, code, verifier)
    assert mismatch.status_code == 400
    assert mismatch.json()["error"] == "invalid_grant"  # RFC 6749 §5.2 (finding 11 of issue #15)
    assert refusals("token") == ["invalid_grant"]
    code = code_for(browser, rp_two.__class__(rp_two.registration), challenge)
    assert redeem(rp, code, verifier).json()["error"] == "invalid_grant"  # another client's code
    assert not AccessToken.objects.exists()


def test_refresh_token_reuse_revokes_the_family(browser, rp: RP, account: Account):
    first = tokens(browser, rp)
    second = refresh(rp, first["refresh_token"]).json()
    assert userinfo(second["access_token"]).status_code == 200
    replay = refresh(rp, first["refresh_token"])
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert userinfo(second["access_token"]).status_code == 401
    assert refresh(rp, second["refresh_token"]).status_code == 400
    assert AuditEvent.objects.filter(tag=EventTag.OIDC_REFRESH_REUSED, account=account).exists()


def test_refresh_stops_when_the_login_session_would_have_ended(browser, rp: RP, settings):
    body = tokens(browser, rp)
    settings.SESSION_COOKIE_AGE = 0
    assert refresh(rp, body["refresh_token"]).status_code == 400
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()


def test_a_disabled_account_gets_nothing_more(browser, rp: RP, account: Account):
    body = tokens(browser, rp)
    verifier, challenge = pkce()
    code = code_for(browser, rp, challenge)
    Account.objects.filter(pk=account.pk).update(state=AccountState.DISABLED)
    assert userinfo(body["access_token"]).status_code == 401
    assert refresh(rp, body["refresh_token"]).status_code == 400
    assert redeem(rp, code, verifier).status_code == 400


def test_implicit_and_password_grants_are_refused(account: Account, rp: RP):
    response = Client().post(
        "/idp/profile/oidc/token",
        {
            "grant_type": "password",
            "username": account.identifier,
            "password": "x",
            "client_id": rp.client_id,
            "client_secret": rp.secret,
        },
    )
    assert response.status_code in {400, 401}
    assert not AccessToken.objects.exists()


def test_state_is_returned_as_sent(browser, rp: RP):
    state = '"><script>alert(1)</script>'
    response = authorize(browser, rp, challenge=pkce()[1], state=state)
    assert query_of(response["Location"])["state"] == state
