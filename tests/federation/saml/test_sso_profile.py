"""The SAML login page and the mire: the profile choice (`typeUser`: only a contradicting one refuses),
the way back to the service, and the page shown when its request is gone."""

from __future__ import annotations

import pytest
from django.test import Client

from tests import factories
from tests.federation.saml.helpers import Forms, guardian, login_form
from trousseau.core import continuation
from trousseau.federation.saml.models import ServiceProvider

pytestmark = pytest.mark.django_db

GUARDIAN_PROFILE = "Ce compte est un compte de responsable d'élève : choisissez « Responsable d'élève »."


def _post(client, execution: str, account, **extra: str):
    data = {"j_username": account.identifier, "j_password": factories.GOOD_PASSWORD, "_eventId_proceed": "", **extra}
    return client.post(execution, data)


def test_a_guardian_posting_type_user_eleve_gets_no_assertion_but_their_profile(client, pysp, registered):
    account = guardian()
    _, url = pysp.redirect_request()
    execution = login_form(client, client.get(url)["Location"])
    page = _post(client, execution, account, typeUser="eleve")
    assert page.status_code == 200
    assert GUARDIAN_PROFILE in page.text
    assert Forms(page.content.decode()).input("SAMLResponse") is None
    assert "_auth_user_id" not in client.session
    # The same page, the right profile: the assertion.
    answered = _post(client, execution, account, typeUser="responsable")
    assert Forms(answered.content.decode()).input("SAMLResponse") is not None


def test_pronotepy_style_clients_without_type_user_still_get_their_assertion(client, pysp, registered):
    account = guardian()
    _, url = pysp.redirect_request()
    execution = login_form(client, client.get(url)["Location"])
    page = _post(client, execution, account)
    assert Forms(page.content.decode()).input("SAMLResponse") is not None


def test_the_page_posts_type_user_from_the_radio_buttons(client, pysp, registered):
    _, url = pysp.redirect_request()
    html = client.get(login_form(client, client.get(url)["Location"])).content.decode()
    assert 'name="typeUser" value="eleve"' in html
    assert 'name="typeUser" value="responsable" checked' in html


# --- The login page as the way back to its service, and the page when its request is gone ----------


def test_the_login_page_remembers_itself_for_after_a_detour(client, pysp, registered):
    _, url = pysp.redirect_request()
    execution = login_form(client, client.get(url)["Location"])
    client.get(execution)
    pending = continuation.current(client.session)
    assert pending is not None
    assert pending.next_url == execution
    assert pending.service is not None
    assert pending.service.name == "ENT de test"


def test_a_reopened_login_page_says_its_request_is_gone_and_names_the_service_in_this_browser_only(
    client, pysp, registered
):
    ServiceProvider.objects.filter(pk=registered.pk).update(home_url="https://ent.example/")
    account = guardian()
    _, url = pysp.redirect_request()
    execution = login_form(client, client.get(url)["Location"])
    client.get(execution)
    elsewhere = Client()  # the login URL copied into another browser
    gone = elsewhere.get(execution)
    assert gone.status_code == 400
    assert "Votre demande de connexion n'est plus en cours" in gone.text
    assert "ENT de test" not in gone.text
    assert 'href="/compte/services/"' in gone.content.decode()
    _post(client, execution, account)  # answered
    again = client.get(execution)
    assert again.status_code == 400
    assert "La connexion à « ENT de test » a expiré" in again.text
    assert 'href="https://ent.example/">Aller sur « ENT de test »' in again.text
    # An older login page of this browser is not named after the last service.
    assert "ENT de test" not in client.get(f"{execution[:-4]}e9s1").text
