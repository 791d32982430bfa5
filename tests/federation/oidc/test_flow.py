"""The authorization code flow with PKCE, as a relying party sees it, checked against the JWKS."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken

from tests import factories
from tests.federation.oidc.conftest import (
    AUTHORIZE,
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
    verify,
)
from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.federation import claims
from trousseau.federation.oidc.metadata import issuer

pytestmark = pytest.mark.django_db
PROTOCOL = {"iss", "aud", "exp", "iat", "auth_time", "jti", "nonce", "at_hash", "sid", "azp"}


def test_discovery_at_the_pinned_path_lists_only_what_is_accepted():
    document = Client().get("/.well-known/openid-configuration").json()
    base = issuer()
    assert document["issuer"] == base
    assert document["authorization_endpoint"] == base + "/idp/profile/oidc/authorize"
    assert document["token_endpoint"] == base + "/idp/profile/oidc/token"
    assert document["userinfo_endpoint"] == base + "/idp/profile/oidc/userinfo"
    assert document["end_session_endpoint"] == base + "/idp/profile/oidc/logout"
    assert document["jwks_uri"] == base + "/idp/profile/oidc/keyset"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["response_types_supported"] == ["code"]
    assert document["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert document["authorization_response_iss_parameter_supported"] is True
    assert document["backchannel_logout_supported"] is True
    assert document["subject_types_supported"] == ["pairwise"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert {"openid", "profile", "ect.scope.cnx", "children"} <= set(document["scopes_supported"])
    assert {"sub", "given_name", "FrEduCtId", "FrEduCtPersonAffiliation"} <= set(document["claims_supported"])


def test_code_flow_with_pkce_gives_verified_tokens_and_the_claims_of_the_mapping(browser, rp: RP, account: Account):
    verifier, challenge = pkce()
    response = authorize(browser, rp, challenge=challenge, scope="openid profile ect.scope.cnx")
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(REDIRECT + "?")
    params = query_of(location)
    assert params["state"] == "st-123"
    assert params["iss"] == issuer()  # RFC 9207

    answer = redeem(rp, params["code"], verifier)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert set(body["scope"].split()) == {"openid", "profile", "ect.scope.cnx"}
    assert answer["Cache-Control"] == "no-store"
    assert AccessToken.objects.get().token == ""  # kept as a digest only

    header, id_claims = verify(body["id_token"])
    assert header["alg"] == "RS256"
    assert id_claims["iss"] == issuer()
    assert id_claims["aud"] == rp.client_id
    assert id_claims["nonce"] == "n-456"
    assert id_claims["sub"] == claims.pairwise_id(account, rp.client_id)
    assert id_claims["sid"]
    at_hash = base64.urlsafe_b64encode(hashlib.sha256(body["access_token"].encode()).digest()[:16]).rstrip(b"=")
    assert id_claims["at_hash"] == at_hash.decode()

    info = userinfo(body["access_token"])
    assert info.status_code == 200, info.content
    released = info.json()
    account.refresh_from_db()
    expected = claims.oidc_claims(account, release=claims.MINIMUM, now=account.last_login)
    assert {k: v for k, v in released.items() if k != "sub"} == expected
    assert released["sub"] == id_claims["sub"]
    assert {k: v for k, v in id_claims.items() if k not in PROTOCOL} == released


def test_scopes_choose_the_claims():
    account, _, _ = factories.pupil_account()
    account.state = "active"
    account.save()
    browser = Client()
    browser.force_login(account, backend="trousseau.accounts.backends.AccountBackend")
    rp = register()
    only_profile = userinfo(tokens(browser, rp, scope="openid profile")["access_token"]).json()
    assert set(only_profile) == {"sub", "given_name", "family_name", "birthdate"}
    only_sub = userinfo(tokens(browser, rp, scope="openid")["access_token"]).json()
    assert set(only_sub) == {"sub"}
    ect = userinfo(tokens(browser, rp, scope="openid ect.scope.cnx")["access_token"]).json()
    assert ect["FrEduCtPersonAffiliation"] == ["eleve2d"]
    assert "given_name" not in ect


def test_sub_is_pairwise_and_a_sector_shares_it(browser, account: Account):
    one, two = register(), register()
    ent_web, ent_app = register(sector="ent.example"), register(sector="ent.example")
    subs = [userinfo(tokens(browser, rp)["access_token"]).json()["sub"] for rp in (one, two, ent_web, ent_app)]
    assert subs[0] != subs[1]
    assert subs[2] == subs[3] == claims.pairwise_id(account, "ent.example")


def test_children_only_for_a_client_registered_to_receive_them(browser, account: Account):
    allowed = register(release_children=True)
    body = tokens(browser, allowed, scope="openid profile children")
    children = userinfo(body["access_token"]).json()["children"]
    assert children == claims.oidc_claims(account, release=claims.Release(children=True))["children"]
    assert verify(body["id_token"])[1]["children"] == children

    without_scope = userinfo(tokens(browser, allowed, scope="openid profile")["access_token"]).json()
    assert "children" not in without_scope

    other = register()
    _, challenge = pkce()
    refused = authorize(browser, other, challenge=challenge, scope="openid children")
    assert refused.status_code == 302
    assert query_of(refused["Location"])["error"] == "invalid_scope"


def test_not_logged_in_goes_to_the_mire_and_comes_back(account: Account, rp: RP):
    browser = Client()
    verifier, challenge = pkce()
    first = authorize(browser, rp, challenge=challenge)
    assert first.status_code == 302
    mire = urlsplit(first["Location"])
    assert mire.path == "/login"
    back_to = parse_qs(mire.query)["next"][0]
    assert back_to.startswith(AUTHORIZE + "?")

    logged = browser.post(
        "/login", {"identifier": account.identifier, "password": factories.GOOD_PASSWORD, "next": back_to}
    )
    assert logged.status_code == 302
    assert logged["Location"] == back_to
    again = browser.get(back_to)
    assert again.status_code == 302
    code = query_of(again["Location"])["code"]
    assert redeem(rp, code, verifier).status_code == 200

    # Single sign-on: another service gets its code without the mire.
    other = register(redirect_uris=["https://ent.example/oidc/callback"])
    other.redirect_uri = "https://ent.example/oidc/callback"
    second = authorize(browser, other, challenge=pkce()[1])
    assert second["Location"].startswith("https://ent.example/oidc/callback?code=")


def test_prompt_none_without_a_session_answers_login_required_with_iss(rp: RP):
    response = authorize(Client(), rp, challenge=pkce()[1], prompt="none")
    params = query_of(response["Location"])
    assert params["error"] == "login_required"
    assert params["state"] == "st-123"
    assert params["iss"] == issuer()


def test_public_client_with_pkce_and_refresh_rotation(browser, account: Account):
    public = register(public=True)
    assert public.secret is None
    body = tokens(browser, public, scope="openid profile")
    assert "refresh_token" in body
    renewed = refresh(public, body["refresh_token"])
    assert renewed.status_code == 200, renewed.content
    fresh = renewed.json()
    assert fresh["refresh_token"] != body["refresh_token"]
    _, claims_after = verify(fresh["id_token"])
    assert claims_after["sub"] == claims.pairwise_id(account, public.client_id)
    assert claims_after["sid"] == verify(body["id_token"])[1]["sid"]
    assert userinfo(fresh["access_token"]).status_code == 200
    assert userinfo(body["access_token"]).status_code == 401  # the old pair ended with the rotation


def test_confidential_client_may_skip_pkce(browser, rp: RP):
    code = code_for(browser, rp, challenge=None)
    assert redeem(rp, code, verifier=None).status_code == 200


def test_client_secret_basic_is_accepted(browser, rp: RP):
    verifier, challenge = pkce()
    code = code_for(browser, rp, challenge)
    credentials = base64.b64encode(f"{rp.client_id}:{rp.secret}".encode()).decode()
    response = Client().post(
        "/idp/profile/oidc/token",
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier},
        headers={"Authorization": f"Basic {credentials}"},
    )
    assert response.status_code == 200, response.content


def test_issued_codes_are_audited(browser, rp: RP, account: Account):
    tokens(browser, rp)
    event = AuditEvent.objects.get(tag=EventTag.OIDC_CODE_ISSUED)
    assert event.account == account
    assert event.data["client"] == rp.client_id
