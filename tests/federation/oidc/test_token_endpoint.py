"""The token and UserInfo endpoints against the MUSTs of RFC 6749 §2.3, §3.2, §4.1.3, §5, RFC 7636 §4.6,
RFC 6750 §2-3 and OpenID Connect Core §3.1.3, §5.3 (tokens.py, userinfo.py); one test per rule."""

from __future__ import annotations

import base64
from urllib.parse import quote_plus, urlencode

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken

from tests.federation.oidc.conftest import (
    RP,
    TOKEN,
    USERINFO,
    code_for,
    pkce,
    redeem,
    register,
    tokens,
    userinfo,
    verify,
)
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.federation.oidc.metadata import issuer
from trousseau.federation.oidc.services import register_client

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"  # RFC 6750 §2.2: the only body a bearer token may come in


def form(**fields: str) -> str:
    return urlencode(fields)


def basic(client_id: str, secret: str) -> str:
    """RFC 6749 §2.3.1: id and secret form-urlencoded, then base64."""
    return "Basic " + base64.b64encode(f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()).decode()


def code_request(browser, rp: RP) -> tuple[dict[str, str], str]:
    verifier, challenge = pkce()
    data = {
        "grant_type": "authorization_code",
        "code": code_for(browser, rp, challenge),
        "redirect_uri": rp.redirect_uri,
        "code_verifier": verifier,
    }
    return data, verifier


def test_client_secret_basic_is_accepted(browser, rp: RP):
    data, _ = code_request(browser, rp)
    assert rp.secret is not None
    response = Client().post(TOKEN, data, headers={"Authorization": basic(rp.client_id, rp.secret)})
    assert response.status_code == 200, response.content
    assert set(response.json()) >= {"access_token", "refresh_token", "id_token", "expires_in", "token_type"}


def test_basic_credentials_are_form_urldecoded(browser):
    secret = "s3cr3t+with:colon&percent%/and space " + "x" * 40
    rp = register(client_id="client:with+plus", client_secret=secret)
    data, _ = code_request(browser, rp)
    response = Client().post(TOKEN, data, headers={"Authorization": basic(rp.client_id, secret)})
    assert response.status_code == 200, response.content


def test_two_authentication_methods_are_refused(browser, rp: RP):
    data, _ = code_request(browser, rp)
    assert rp.secret is not None
    response = Client().post(
        TOKEN, {**data, "client_secret": rp.secret}, headers={"Authorization": basic(rp.client_id, rp.secret)}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_invalid_client_is_401_with_www_authenticate(browser, rp: RP):
    data, _ = code_request(browser, rp)
    response = Client().post(TOKEN, data, headers={"Authorization": basic(rp.client_id, "wrong")})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic")


def test_unknown_client_is_invalid_client(browser, rp: RP):
    data, _ = code_request(browser, rp)
    response = Client().post(TOKEN, {**data, "client_id": "nobody", "client_secret": "x"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_repeated_parameter_is_invalid_request(browser, rp: RP):
    data, _ = code_request(browser, rp)
    body = f"{'&'.join(f'{k}={quote_plus(v)}' for k, v in data.items())}&code=other"
    body += f"&client_id={quote_plus(rp.client_id)}&client_secret={quote_plus(rp.secret or '')}"
    response = Client().post(TOKEN, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_answers_are_json_and_never_cached(browser, rp: RP):
    data, verifier = code_request(browser, rp)
    ok = redeem(rp, data["code"], verifier)
    refused = redeem(rp, data["code"], verifier)
    for response in (ok, refused):
        assert response["Content-Type"] == "application/json"
        assert response["Cache-Control"] == "no-store"  # RFC 6749 §5.1: MUST
        assert response["Pragma"] == "no-cache"
    assert refused.status_code == 400
    assert set(refused.json()) <= {"error", "error_description"}


def test_a_malformed_verifier_is_refused(browser, rp: RP):
    _, challenge = pkce()
    code = code_for(browser, rp, challenge)
    response = redeem(rp, code, "too-short")  # RFC 7636 §4.1: 43 to 128 unreserved characters
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_refused_code_is_spent(browser, rp: RP):
    _, challenge = pkce()
    code = code_for(browser, rp, challenge)
    assert redeem(rp, code, pkce()[0]).json()["error"] == "invalid_grant"
    # The right verifier no longer helps: a code is tried once (an attacker gets one guess).
    assert redeem(rp, code, None).json()["error"] == "invalid_grant"


def test_a_public_client_redeems_with_pkce_and_no_secret(browser):
    public = register(public=True)
    verifier, challenge = pkce()
    response = redeem(public, code_for(browser, public, challenge), verifier)
    assert response.status_code == 200, response.content


def test_a_public_client_presenting_a_secret_is_refused(browser):
    public = register(public=True)
    verifier, challenge = pkce()
    response = redeem(public, code_for(browser, public, challenge), verifier, secret="anything")
    assert response.status_code == 401


def test_the_id_token_carries_what_oidc_core_asks(browser, rp: RP, account):
    body = tokens(browser, rp, nonce="n-789")
    header, claims = verify(body["id_token"])
    assert header["kid"]
    assert claims["iss"] == issuer()
    assert claims["aud"] == rp.client_id
    assert claims["nonce"] == "n-789"
    assert claims["exp"] > claims["iat"]
    assert {"auth_time", "sid", "jti", "at_hash", "sub"} <= set(claims)


def test_another_grant_type_is_unsupported(rp: RP):
    response = Client().post(
        TOKEN, {"grant_type": "client_credentials", "client_id": rp.client_id, "client_secret": rp.secret}
    )
    assert response.status_code in {400, 401}
    assert response.json()["error"] in {"unsupported_grant_type", "unauthorized_client"}


def test_a_new_secret_takes_effect_at_once(browser, rp: RP):
    data, verifier = code_request(browser, rp)
    register_client(
        name="Pronote démo",
        redirect_uris=[rp.redirect_uri],
        client_id=rp.client_id,
        client_secret="the-new-secret-" + "y" * 40,
        update=True,
    )
    old = redeem(rp, data["code"], verifier)
    assert old.status_code == 401  # the process's cached client was forgotten with the change
    assert redeem(rp, data["code"], verifier, secret="the-new-secret-" + "y" * 40).status_code == 200


def test_each_refusal_is_audited_once(browser, rp: RP):
    data, verifier = code_request(browser, rp)
    redeem(rp, data["code"], verifier, redirect_uri="https://rp.example/elsewhere")
    rows = AuditEvent.objects.filter(tag=EventTag.OIDC_REFUSED, data__endpoint="token")
    assert [(row.data["error"], row.data.get("reason")) for row in rows] == [("invalid_grant", "redirect_uri")]


# --- UserInfo -------------------------------------------------------------------------------------


def test_userinfo_takes_the_token_from_a_form_post(browser, rp: RP):
    access = tokens(browser, rp)["access_token"]
    response = Client().post(USERINFO, form(access_token=access), content_type=FORM)
    assert response.status_code == 200
    assert response.json() == userinfo(access).json()
    assert response["Cache-Control"] == "no-store"


def test_userinfo_ignores_a_multipart_body(browser, rp: RP):
    access = tokens(browser, rp)["access_token"]
    assert Client().post(USERINFO, {"access_token": access}).status_code == 401  # multipart: not §2.2


def test_userinfo_refuses_a_token_in_the_query(browser, rp: RP):
    access = tokens(browser, rp)["access_token"]
    response = Client().get(USERINFO, {"access_token": access})
    assert response.status_code == 400
    assert 'error="invalid_request"' in response["WWW-Authenticate"]


def test_userinfo_refuses_two_methods(browser, rp: RP):
    access = tokens(browser, rp)["access_token"]
    response = Client().post(
        USERINFO, form(access_token=access), content_type=FORM, headers={"Authorization": f"Bearer {access}"}
    )
    assert response.status_code == 400


def test_userinfo_without_a_token_asks_for_one(db):
    response = Client().get(USERINFO)
    assert response.status_code == 401
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert "error=" not in challenge  # RFC 6750 §3.1: no error code when no credentials were sent


def test_userinfo_with_a_bad_token_says_invalid_token(db):
    response = userinfo("not-a-token")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_userinfo_with_an_expired_token_says_invalid_token(browser, rp: RP):
    from datetime import timedelta

    from django.utils import timezone

    access = tokens(browser, rp)["access_token"]
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    response = userinfo(access)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_userinfo_needs_the_openid_scope(browser, rp: RP):
    access = tokens(browser, rp)["access_token"]
    AccessToken.objects.update(scope="profile")
    response = userinfo(access)
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_userinfo_answers_the_id_tokens_claims_even_without_the_kept_copy(browser, rp: RP):
    from django.core.cache import cache

    body = tokens(browser, rp)
    _, id_claims = verify(body["id_token"])
    kept = userinfo(body["access_token"]).json()
    cache.clear()  # another process, an eviction: computed again
    assert userinfo(body["access_token"]).json() == kept
    assert kept["sub"] == id_claims["sub"]
    assert {k: id_claims[k] for k in kept} == kept
