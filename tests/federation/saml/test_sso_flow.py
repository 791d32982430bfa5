"""The login path of single sign-on: execution URLs, the mire, the auto-POST page (research/educonnect.md §4)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.urls import reverse

from tests import factories
from tests.federation.saml.helpers import (
    NS,
    Forms,
    credentials,
    first_form,
    guardian,
    log_in,
    login_form,
    login_page,
    saml_xml,
)
from tests.federation.saml.sp import query
from trousseau.accounts import devices
from trousseau.accounts.models import AccountState
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.federation.saml import state

pytestmark = pytest.mark.django_db
SSO_REDIRECT = "/idp/profile/SAML2/Redirect/SSO"
SSO_POST = "/idp/profile/SAML2/POST/SSO"


def test_a_request_without_session_goes_to_the_local_storage_page_then_the_mire(client, pysp, registered):
    _, url = pysp.redirect_request(relay_state="ent-state")
    start = client.get(url)
    assert start.status_code == 302
    assert start["Location"] == f"{SSO_REDIRECT}?execution=e1s1"
    # e1s1: Shibboleth's local-storage read page, sent by a script file, or a button without script.
    storage = client.get(start["Location"])
    assert storage.status_code == 200
    html = storage.content.decode()
    form = first_form(html)
    assert form["action"] == f"{SSO_REDIRECT}?execution=e1s1"
    assert form["fields"]["csrf_token"].startswith("_")
    assert len(form["fields"]["csrf_token"]) == 41
    assert set(form["fields"]) == {
        "csrf_token",
        "shib_idp_ls_exception.shib_idp_session_ss",
        "shib_idp_ls_success.shib_idp_session_ss",
        "shib_idp_ls_value.shib_idp_session_ss",
        "shib_idp_ls_supported",
        "_eventId_proceed",
    }
    assert '<script src="/static/saml/storage.js"' in html
    assert "<noscript>" in html
    assert "j_username" not in html
    assert "SAMLResponse" not in html
    sent = client.post(form["action"], form["fields"])
    assert sent.status_code == 302
    assert sent["Location"] == f"{SSO_REDIRECT}?execution=e1s2"
    # e1s2: the mire, posting to its own URL with the flow's token.
    page = client.get(sent["Location"])
    assert page.status_code == 200
    forms = Forms(page.content.decode())
    assert forms.input("j_username") is not None
    assert forms.input("j_password") is not None
    assert forms.value("csrf_token") == form["fields"]["csrf_token"]
    assert 'action="/idp/profile/SAML2/Redirect/SSO?execution=e1s2"' in page.content.decode()
    assert "SAMLResponse" not in page.content.decode()


def test_a_later_step_cannot_be_reached_before_its_turn(client, pysp, registered):
    _, url = pysp.redirect_request()
    client.get(client.get(url)["Location"])
    assert client.get(f"{SSO_REDIRECT}?execution=e1s2").status_code == 400
    assert client.get(f"{SSO_REDIRECT}?execution=e1s3").status_code == 400


def test_wrong_credentials_show_the_form_again_with_the_error(client, pysp, registered):
    account = guardian()
    _, url = pysp.redirect_request()
    execution = login_form(client, client.get(url)["Location"])
    token = Forms(client.get(execution).content.decode()).value("csrf_token")
    page = client.post(
        execution,
        {"csrf_token": token, "j_username": account.identifier, "j_password": "Faux#Mot2passe", "_eventId_proceed": ""},
    )
    assert page.status_code == 200
    assert "Identifiant ou mot de passe incorrect." in page.text
    assert Forms(page.content.decode()).input("SAMLResponse") is None
    assert client.get(f"{SSO_REDIRECT}?execution=e1s3").status_code == 400  # no way round the password


def test_right_credentials_go_through_the_local_storage_write_page_to_the_auto_post_page(client, pysp, registered):
    account = guardian()
    request_id, url = pysp.redirect_request(relay_state="ent-state")
    execution, token = login_page(client, url)
    logged = client.post(execution, {"csrf_token": token, **credentials(account)})
    assert logged.status_code == 302
    assert logged["Location"] == f"{SSO_REDIRECT}?execution=e1s3"
    # As at the mire, the browser now has its own login budget for the account (issue #15 finding 7).
    assert devices.device_nonce(client.cookies[devices.cookie_name()].value, account.identifier)
    storage = client.get(logged["Location"])
    form = first_form(storage.content.decode())
    assert set(form["fields"]) == {
        "csrf_token",
        "shib_idp_ls_exception.shib_idp_session_ss",
        "shib_idp_ls_success.shib_idp_session_ss",
        "_eventId_proceed",
    }
    assert "SAMLResponse" not in storage.content.decode()
    page = client.post(form["action"], {**form["fields"], "shib_idp_ls_success.shib_idp_session_ss": "true"})
    assert page.status_code == 200
    form = first_form(page.content.decode())
    assert form["action"] == pysp.acs
    assert form["fields"]["RelayState"] == "ent-state"
    assert pysp.read(form["fields"]["SAMLResponse"], request_id).session_info()["name_id"].text
    # No inline script (CSP), a script file submits the form, and a button does without JavaScript.
    assert '<script src="/static/saml/autopost.js"' in page.content.decode()
    assert "<noscript>" in page.content.decode()
    assert "form-action" not in page.get("Content-Security-Policy", "")
    # The SSO session: the flow is over, each of its pages is gone; a new request is answered at once.
    for step in ("e1s1", "e1s2", "e1s3"):
        assert client.get(f"{SSO_REDIRECT}?execution={step}").status_code == 400


def test_older_clients_post_their_credentials_to_e1s1_and_again_to_e1s2_and_get_the_answer_at_once(
    client, pysp, registered
):
    account = guardian()
    request_id, url = pysp.redirect_request(relay_state="ent-state")
    execution = client.get(url)["Location"]
    moved = client.post(execution, credentials(account))
    assert moved.status_code == 302
    assert moved["Location"] == f"{SSO_REDIRECT}?execution=e1s2"
    assert "_auth_user_id" not in client.session  # e1s1 is not a login page: nothing was checked there
    page = client.post(moved["Location"], credentials(account))
    form = first_form(page.content.decode())
    assert form["fields"]["RelayState"] == "ent-state"
    assert pysp.read(form["fields"]["SAMLResponse"], request_id)
    assert devices.device_nonce(client.cookies[devices.cookie_name()].value, account.identifier)


def test_relay_state_is_always_present_even_empty(client, pysp, registered):
    log_in(client, guardian())
    _, url = pysp.redirect_request()
    page = client.get(url)
    assert first_form(page.content.decode())["fields"]["RelayState"] == ""


def test_an_sso_session_answers_without_the_form(client, pysp, registered):
    log_in(client, guardian())
    request_id, url = pysp.redirect_request()
    page = client.get(url)
    assert page.status_code == 200
    assert pysp.read(first_form(page.content.decode())["fields"]["SAMLResponse"], request_id)
    assert [p["entity_id"] for p in client.session[state.PARTICIPATIONS_KEY]] == [pysp.entity_id]
    issued = AuditEvent.objects.get(tag=EventTag.SAML_ASSERTION_ISSUED)
    assert issued.data == {"service": pysp.entity_id}


def test_force_authn_shows_the_form_even_when_logged_in(client, pysp, registered):
    log_in(client, guardian())
    _, url = pysp.redirect_request(force_authn="true")
    start = client.get(url)
    assert start.status_code == 302
    assert "j_username" in client.get(login_form(client, start["Location"])).content.decode()


def test_is_passive_without_session_gets_no_passive(client, pysp, registered):
    _, url = pysp.redirect_request(is_passive="true")
    page = client.get(url)
    status = saml_xml(page.content.decode()).find("samlp:Status/samlp:StatusCode/samlp:StatusCode", NS)
    assert status.get("Value") == "urn:oasis:names:tc:SAML:2.0:status:NoPassive"


def test_post_binding_without_cookie_keeps_the_browser_session(client, pysp, registered):
    """Cross-site POST (no SameSite=Lax cookie): the session is not replaced, the request waits in a signed URL."""
    log_in(client, guardian())
    session_cookie = client.cookies["sessionid"]
    request_id, action, fields = pysp.post_request(relay_state="r")
    del client.cookies["sessionid"]
    handoff = client.post(action, fields)
    assert handoff.status_code == 302
    assert "handoff=" in handoff["Location"]
    assert "sessionid" not in handoff.cookies
    client.cookies["sessionid"] = session_cookie.value
    page = client.get(handoff["Location"])
    assert pysp.read(first_form(page.content.decode())["fields"]["SAMLResponse"], request_id)


def test_a_forged_handoff_is_refused(client, pysp, registered):
    page = client.get(SSO_POST, {"handoff": "bogus"})
    assert page.status_code == 400
    assert "expiré" in page.text


def test_idp_initiated_sso_passes_target_as_relay_state(client, pysp, registered):
    log_in(client, guardian())
    page = client.get("/idp/profile/SAML2/Unsolicited/SSO", {"providerId": pysp.entity_id, "target": "/accueil"})
    form = first_form(page.content.decode())
    assert form["action"] == pysp.acs
    assert form["fields"]["RelayState"] == "/accueil"
    assert pysp.read(form["fields"]["SAMLResponse"], None)


def test_idp_initiated_sso_is_off_unless_allowed(client, pysp, registered):
    registered.allow_idp_initiated = False
    registered.save()
    page = client.get("/idp/profile/SAML2/Unsolicited/SSO", {"providerId": pysp.entity_id})
    assert page.status_code == 400
    assert "SAMLResponse" not in page.content.decode()


def test_idp_initiated_without_session_goes_through_the_mire(client, pysp, registered):
    account = guardian()
    start = client.get("/idp/profile/SAML2/Unsolicited/SSO", {"providerId": pysp.entity_id})
    assert start["Location"] == "/idp/profile/SAML2/Unsolicited/SSO?execution=e1s1"
    execution = login_form(client, start["Location"])
    page = client.post(execution, {"j_username": account.identifier, "j_password": factories.GOOD_PASSWORD})
    assert first_form(page.content.decode())["fields"]["RelayState"] == ""


def test_a_letter_account_activates_then_continues_to_the_service(client, pysp, registered):
    account, _, provisional = factories.guardian_account()
    request_id, url = pysp.redirect_request(relay_state="after-activation")
    execution = login_form(client, client.get(url)["Location"])
    to_activation = client.post(execution, {"j_username": account.identifier, "j_password": provisional})
    assert to_activation.status_code == 302
    assert "/activation/" in to_activation["Location"]
    child = account.pupils().first()
    done = client.post(
        to_activation["Location"],
        {
            "password": factories.GOOD_PASSWORD,
            "password_confirm": factories.GOOD_PASSWORD,
            "birth_date": child.birth_date.isoformat(),
            "email": "",
        },
    )
    assert done.status_code == 302
    assert done["Location"] == execution
    account.refresh_from_db()
    assert account.state == AccountState.ACTIVE
    page = client.get(done["Location"])
    form = first_form(page.content.decode())
    assert form["fields"]["RelayState"] == "after-activation"
    assert pysp.read(form["fields"]["SAMLResponse"], request_id)


def test_two_pending_requests_get_their_own_execution(client, pysp, registered):
    _, first = pysp.redirect_request()
    _, second = pysp.redirect_request()
    assert client.get(first)["Location"].endswith("execution=e1s1")
    assert client.get(second)["Location"].endswith("execution=e2s1")


def test_strict_mode_answers_posts_without_the_page_token_with_400(client, pysp, registered, settings):
    settings.SAML_LOGIN_MODE = "strict"
    account = guardian()
    _, url = pysp.redirect_request()
    first = client.get(url)["Location"]
    old_style = client.post(first, credentials(account))
    assert old_style.status_code == 400
    assert "La page de connexion a expiré" in old_style.text
    assert "_auth_user_id" not in client.session
    execution = login_form(client, first)  # the page's own form goes on
    assert client.post(execution, credentials(account)).status_code == 400
    assert "_auth_user_id" not in client.session
    token = Forms(client.get(execution).content.decode()).value("csrf_token")
    logged = client.post(execution, {"csrf_token": token, **credentials(account)})  # no typeUser: none is needed
    assert logged["Location"].endswith("execution=e1s3")
    assert client.post(logged["Location"], {"_eventId_proceed": ""}).status_code == 400
    form = first_form(client.get(logged["Location"]).content.decode())
    assert Forms(client.post(form["action"], form["fields"]).content.decode()).input("SAMLResponse") is not None


def test_another_pages_token_is_refused_in_every_mode(client, pysp, registered):
    account = guardian()
    _, url = pysp.redirect_request()
    first = client.get(url)["Location"]
    forged = {"csrf_token": "_" + "0" * 40, "_eventId_proceed": ""}
    assert client.post(first, forged).status_code == 400
    execution = login_form(client, first)
    page = client.post(execution, {**forged, "j_username": account.identifier, "j_password": factories.GOOD_PASSWORD})
    assert "La page de connexion a expiré" in page.text
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(("value", "read"), [("faithful", "strict"), ("bogus", "must be compat or strict")])
def test_the_mode_setting_reads_the_older_name_as_strict_and_refuses_others(value, read):
    """Read at start (a fresh interpreter): "faithful", the older mode's name, means strict; a typo stops the start."""
    started = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SAML_LOGIN_MODE)"],
        env={**os.environ, "TROUSSEAU_SAML_LOGIN_MODE": value, "DJANGO_SETTINGS_MODULE": "trousseau.settings_test"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert read in started.stdout + started.stderr


def test_the_plain_mire_still_works_and_says_already_logged_in(client):
    account = guardian()
    log_in(client, account)
    page = client.get(reverse("flows:login"))
    assert "Vous êtes déjà connecté" in page.text


def test_query_helper():
    assert query("https://x/?a=1&b=2") == {"a": "1", "b": "2"}
