"""The button and the callback through the views, against the fake provider: every refusal is a clear
page, links nothing, opens no session and is audited with the broken rule."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from tests.federation.conftest import active_guardian
from tests.signin.conftest import back_from_franceconnect
from tests.signin.fake_op import SUB, unsigned
from trousseau.accounts.models import Account
from trousseau.accounts.sessions import LOGOUT_REDIRECT_KEY
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.flows.models import Flow, FlowKind, FlowState

pytestmark = pytest.mark.django_db
NOT_VERIFIED = "La réponse de FranceConnect n'a pas pu être vérifiée"


def refusal(tag: EventTag) -> AuditEvent:
    event = AuditEvent.objects.filter(tag=tag).first()
    assert event is not None, f"no {tag} audited"
    return event


def assert_nothing_happened(client) -> None:
    assert not Flow.objects.exists()
    assert not Account.objects.exclude(franceconnect_sub=None).exists()
    assert "_auth_user_id" not in client.session


def test_the_button_sends_a_franceconnect_v2_authorization_request(client, fc):
    response = client.get(reverse("flows:franceconnect"))
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{fc.issuer}/authorize"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["response_type"] == "code"
    assert query["acr_values"] == "eidas1"
    assert query["prompt"] == "login consent"
    assert query["redirect_uri"] == "http://testserver/franceconnect/retour/"
    assert query["scope"].split()[0] == "openid"
    assert {"given_name", "family_name"} <= set(query["scope"].split())
    assert len(query["nonce"]) >= 22
    assert len(query["state"]) >= 22
    assert query["nonce"] != query["state"]


def test_a_new_identity_starts_the_first_login(client, fc):
    response = back_from_franceconnect(client, fc)
    flow = Flow.objects.get()
    assert flow.kind == FlowKind.FRANCECONNECT_FIRST_LOGIN
    assert flow.state == FlowState.AWAITING_PHONE
    assert response["Location"] == reverse("flows:franceconnect_first_login_step", kwargs={"flow_id": flow.pk})
    assert flow.context["sub"] == SUB
    assert flow.context["family_name"] == "DUPONT"
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"]).text
    assert "Vous allez vous connecter en tant que :" in page
    assert "Sophie Marie DUPONT" in page
    assert "Ce n'est pas vous ? Retournez à la page d'accueil" in page


def test_a_linked_identity_logs_straight_in(client, fc):
    account = active_guardian(sub=SUB)
    response = back_from_franceconnect(client, fc)
    assert response["Location"] == reverse("accounts:home")
    assert client.session["_auth_user_id"] == str(account.pk)
    assert client.session["franceconnect_id_token"].count(".") == 2
    logout = urlsplit(client.session[LOGOUT_REDIRECT_KEY])
    assert f"{logout.scheme}://{logout.netloc}{logout.path}" == f"{fc.issuer}/session/end"
    event = refusal(EventTag.LOGIN_SUCCESS)
    assert event.account == account
    assert event.data["method"] == "franceconnect"
    assert not Flow.objects.exists()


def test_a_wrong_state_is_refused(client, fc):
    response = back_from_franceconnect(client, fc, state="forged-state-0123456789abcdef")
    assert response.status_code == 400
    assert NOT_VERIFIED in response.text
    assert refusal(EventTag.FRANCECONNECT_REFUSED).data["reason"] == "state"
    assert_nothing_happened(client)


def test_a_replayed_callback_is_refused(client, fc):
    start = client.get(reverse("flows:franceconnect"))
    params = fc.authorize(start["Location"])
    client.get(reverse("flows:franceconnect_callback"), params)
    Flow.objects.all().delete()
    again = client.get(reverse("flows:franceconnect_callback"), params)
    assert again.status_code == 400
    assert refusal(EventTag.FRANCECONNECT_REFUSED).data["reason"] == "state"
    assert not Flow.objects.exists()


def test_a_replayed_code_is_refused(client, fc):
    first = client.get(reverse("flows:franceconnect"))
    used = fc.authorize(first["Location"])
    client.get(reverse("flows:franceconnect_callback"), used)
    Flow.objects.all().delete()
    second = client.get(reverse("flows:franceconnect"))
    params = {**fc.authorize(second["Location"]), "code": used["code"]}
    response = client.get(reverse("flows:franceconnect_callback"), params)
    assert response.status_code == 400
    assert refusal(EventTag.FRANCECONNECT_REFUSED).data["reason"] == "code"
    assert_nothing_happened(client)


@pytest.mark.parametrize("iss", ["https://evil.example/api/v2", None])
def test_the_callback_iss_must_be_franceconnect(client, fc, iss):
    response = back_from_franceconnect(client, fc, iss=iss)
    assert response.status_code == 400
    assert refusal(EventTag.FRANCECONNECT_REFUSED).data["reason"] == "iss"
    assert_nothing_happened(client)


def test_a_cancelled_login_comes_back_to_the_login_page_and_says_so(client, fc):
    response = back_from_franceconnect(
        client, fc, code=None, error="access_denied", error_description="User auth aborted"
    )
    assert response["Location"] == reverse("flows:login")  # no service pending: the mire
    assert "Vous avez annulé la connexion avec FranceConnect." in client.get(response["Location"]).text
    assert refusal(EventTag.FRANCECONNECT_CANCELLED).data["description"] == "User auth aborted"
    assert_nothing_happened(client)


def test_another_error_callback_gets_a_clear_page(client, fc):
    response = back_from_franceconnect(client, fc, code=None, error="server_error")
    assert response.status_code == 400
    assert "FranceConnect n'a pas pu vous identifier" in response.text
    assert refusal(EventTag.FRANCECONNECT_PROVIDER_ERROR).data["error"] == "server_error"
    assert_nothing_happened(client)


def _expired(fc):
    fc.id_token_claims = {"exp": int(time.time()) - 300, "iat": int(time.time()) - 360}


def _none(fc):
    fc.id_token_signer = lambda header, claims: unsigned({**header, "alg": "none"}, claims)


@pytest.mark.parametrize(
    ("knob", "reason"),
    [
        (lambda fc: fc.id_token_claims.update(nonce="a-nonce-from-another-request-0123"), "nonce"),
        (lambda fc: fc.id_token_claims.update(acr="eidas0"), "acr"),
        (lambda fc: fc.id_token_header.update(alg="HS256"), "alg"),
        (_none, "alg"),
        (lambda fc: fc.id_token_header.update(kid="pkcs11:ES256:unknown"), "kid"),
        (_expired, "exp"),
        (lambda fc: fc.id_token_claims.update(aud="someone-else"), "aud"),
        (lambda fc: fc.id_token_claims.update(iss="https://evil.example/api/v2"), "iss"),
        (lambda fc: fc.userinfo_claims.update(sub="0" * 64 + "v1"), "sub_mismatch"),
        (lambda fc: setattr(fc, "userinfo_content_type", "application/json"), "userinfo_not_jwt"),
    ],
    ids=["nonce", "acr", "hs256", "none", "kid", "expired", "aud", "iss", "sub", "json-userinfo"],
)
def test_a_token_breaking_one_rule_is_refused_through_the_callback(client, fc, knob, reason):
    knob(fc)
    response = back_from_franceconnect(client, fc)
    assert response.status_code == 400
    assert NOT_VERIFIED in response.text
    assert refusal(EventTag.FRANCECONNECT_REFUSED).data["reason"] == reason
    assert_nothing_happened(client)


def test_a_linked_account_is_not_opened_by_a_refused_token(client, fc):
    active_guardian(sub=SUB)
    fc.id_token_claims = {"acr": "eidas0"}
    assert back_from_franceconnect(client, fc).status_code == 400
    assert "_auth_user_id" not in client.session


def test_franceconnect_down_gets_a_clear_page(client, fc):
    start = client.get(reverse("flows:franceconnect"))
    params = fc.authorize(start["Location"])
    fc.token_status = 500
    response = client.get(reverse("flows:franceconnect_callback"), params)
    assert response.status_code == 503
    assert "FranceConnect est momentanément indisponible" in response.text
    assert refusal(EventTag.FRANCECONNECT_PROVIDER_ERROR).data["reason"] == "token"
    assert_nothing_happened(client)


def test_the_button_when_franceconnect_cannot_be_reached(client, fc):
    fc.stop()
    response = client.get(reverse("flows:franceconnect"))
    assert response.status_code == 503
    assert "FranceConnect est momentanément indisponible" in response.text


def test_the_button_when_franceconnect_is_off(client, settings):
    settings.FRANCECONNECT_ENABLED = False
    response = client.get(reverse("flows:franceconnect"))
    assert response.status_code == 404
    assert "FranceConnect n'est pas proposé sur ce service." in response.text


def test_the_mire_button_leads_to_franceconnect(client):
    html = client.get("/").text
    assert f'href="{reverse("flows:franceconnect")}"' in html
    assert html.index("S'identifier avec") < html.index('class="tr-separator"') < html.index('id="id_identifier"')
    assert "Qu'est-ce que FranceConnect ?" in html
