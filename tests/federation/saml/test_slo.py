"""Single logout: the IdP ends every SP session of the browser (front channel) and answers SPs that ask."""

from __future__ import annotations

import pytest
from saml2 import BINDING_HTTP_REDIRECT
from saml2.saml import NameID
from saml2.xmldsig import SIG_RSA_SHA256

from tests.federation.saml.helpers import first_form, guardian, log_in
from tests.federation.saml.sp import query
from trousseau.federation import claims
from trousseau.federation.saml.metadata import PERSISTENT

pytestmark = pytest.mark.django_db
IDP_SLO = "http://testserver/idp/profile/SAML2/Redirect/SLO"
LOGGED_OUT = "Vous avez été déconnecté(e) avec succès"


@pytest.fixture
def account():
    return guardian()


@pytest.fixture
def with_sp_session(client, pysp, registered, account):
    log_in(client, account)
    request_id, url = pysp.redirect_request()
    form = first_form(client.get(url).content.decode())
    pysp.read(form["fields"]["SAMLResponse"], request_id)
    return client


def _follow_to_the_end(client, response):
    while response.status_code == 302 and response["Location"].startswith("/"):
        response = client.get(response["Location"])
    return response


def test_logout_sends_a_signed_logout_request_to_each_sp_then_says_logged_out(with_sp_session, pysp, account):
    client = with_sp_session
    out = client.post("/logout")
    assert out.status_code == 302
    location = out["Location"]
    assert location.startswith(pysp.slo_url)
    params = query(location)
    assert params["SigAlg"] == SIG_RSA_SHA256
    request = pysp.client.parse_logout_request(
        params["SAMLRequest"], BINDING_HTTP_REDIRECT, sigalg=params["SigAlg"], signature=params["Signature"]
    )
    assert request.message.name_id.text == claims.pairwise_id(account, pysp.entity_id)
    assert request.message.session_index
    assert "_auth_user_id" not in client.session
    # The SP answers; the chain ends on the mire with the seed's wording.
    answer = pysp.client.create_logout_response(request.message, [BINDING_HTTP_REDIRECT])
    info = pysp.client.apply_binding(
        BINDING_HTTP_REDIRECT, str(answer), IDP_SLO, sign=True, sigalg=SIG_RSA_SHA256, response=True
    )
    back = client.get(dict(info["headers"])["Location"])
    assert back["Location"] == "/idp/profile/Logout"
    end = _follow_to_the_end(client, back)
    assert end.status_code == 200
    assert LOGGED_OUT in end.text


def test_browser_logout_page_ends_the_session_by_get(with_sp_session, pysp):
    client = with_sp_session
    out = client.get("/idp/profile/Logout")
    assert out["Location"].startswith(pysp.slo_url)
    # The SP never answers: coming back carries on and ends.
    end = _follow_to_the_end(client, client.get("/idp/profile/Logout"))
    assert LOGGED_OUT in end.text
    assert "_auth_user_id" not in client.session


def test_logout_without_sp_goes_to_the_mire(client):
    log_in(client, guardian())
    end = _follow_to_the_end(client, client.post("/logout"))
    assert LOGGED_OUT in end.text


def _sp_logout_request(pysp, account, *, sign: bool):
    name_id = NameID(format=PERSISTENT, text=claims.pairwise_id(account, pysp.entity_id))
    req_id, request = pysp.client.create_logout_request(IDP_SLO, "http://testserver/idp", name_id=name_id, sign=False)
    info = pysp.client.apply_binding(BINDING_HTTP_REDIRECT, str(request), IDP_SLO, sign=sign, sigalg=SIG_RSA_SHA256)
    return req_id, dict(info["headers"])["Location"]


def test_sp_initiated_logout_is_answered_after_the_session_ends(with_sp_session, pysp, account):
    client = with_sp_session
    req_id, url = _sp_logout_request(pysp, account, sign=True)
    first = client.get(url)
    assert first["Location"] == "/idp/profile/Logout"
    answer = client.get("/idp/profile/Logout")
    location = answer["Location"]
    assert location.startswith(pysp.slo_url)
    params = query(location)
    response = pysp.client.parse_logout_request_response(params["SAMLResponse"], BINDING_HTTP_REDIRECT)
    assert response.response.in_response_to == req_id
    assert response.response.status.status_code.value == "urn:oasis:names:tc:SAML:2.0:status:Success"
    assert "_auth_user_id" not in client.session


def test_unsigned_logout_request_must_name_this_session(client, pysp, registered, account):
    log_in(client, account)  # logged in, but this SP got no assertion here
    _, url = _sp_logout_request(pysp, account, sign=False)
    page = client.get(url)
    assert page.status_code == 400
    assert "_auth_user_id" in client.session


def test_unsigned_logout_request_naming_this_session_is_honoured(with_sp_session, pysp, account):
    client = with_sp_session
    _, url = _sp_logout_request(pysp, account, sign=False)
    assert client.get(url)["Location"] == "/idp/profile/Logout"
    client.get("/idp/profile/Logout")
    assert "_auth_user_id" not in client.session


def test_oidc_back_channel_is_called_with_the_account_and_session(client, monkeypatch, account):
    import trousseau.federation.oidc.logout as oidc_logout

    calls: list[dict[str, object]] = []

    def record(**kw: object) -> int:
        calls.append(kw)
        return 0

    monkeypatch.setattr(oidc_logout, "backchannel_logout", record)
    log_in(client, account)
    key = client.session.session_key
    client.post("/logout")
    assert calls == [{"account": account, "session_key": key}]


def test_a_failing_back_channel_does_not_keep_anyone_logged_in(client, monkeypatch, account):
    import trousseau.federation.oidc.logout as oidc_logout

    def broken(**kw):
        raise RuntimeError("relying party down")

    monkeypatch.setattr(oidc_logout, "backchannel_logout", broken)
    log_in(client, account)
    _follow_to_the_end(client, client.post("/logout"))
    assert "_auth_user_id" not in client.session


def test_sp_initiated_logout_over_the_post_binding(with_sp_session, pysp, account):
    import base64

    client = with_sp_session
    name_id = NameID(format=PERSISTENT, text=claims.pairwise_id(account, pysp.entity_id))
    destination = "http://testserver/idp/profile/SAML2/POST/SLO"
    _, request = pysp.client.create_logout_request(
        destination, "http://testserver/idp", name_id=name_id, sign=True, sign_alg=SIG_RSA_SHA256
    )
    posted = client.post(
        "/idp/profile/SAML2/POST/SLO", {"SAMLRequest": base64.b64encode(str(request).encode()).decode()}
    )
    assert posted["Location"] == "/idp/profile/Logout"
    assert client.get("/idp/profile/Logout")["Location"].startswith(pysp.slo_url)
    assert "_auth_user_id" not in client.session
