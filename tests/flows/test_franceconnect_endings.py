"""Where a FranceConnect login ends (issue #17): the first login says the account is activated and goes
on to the service where the login started; "Annuler" at FranceConnect and "Ce n'est pas vous ?" come back
to that service's login page, where a login ends at the service.

The service is a registered OpenID Connect client (its authorization request stays answerable); the
mire remembers it when shown with `next`, as when the Pronote-like sends a family there.
"""

from __future__ import annotations

import html
from io import StringIO
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.federation.conftest import active_guardian
from tests.flows.test_franceconnect_first_login import LEA_BIRTH, children_answers, code_from_outbox, messages_of
from tests.flows.test_franceconnect_first_login import phone as give_phone
from tests.signin import conftest as franceconnect
from tests.signin.conftest import back_from_franceconnect
from tests.signin.fake_op import SUB
from trousseau.core import continuation
from trousseau.flows.models import Flow, FlowState

pytestmark = pytest.mark.django_db

op = franceconnect.op
fc = franceconnect.fc

SERVICE = "Pronote (démonstration)"
HOME = "https://pronote.example/"
CALLBACK = "https://pronote.example/cb"
CANCELLED = "Vous avez annulé la connexion avec FranceConnect. Vous pouvez réessayer ou utiliser vos identifiants."
NOT_ME = "Vous êtes déconnecté de FranceConnect. Vous pouvez vous connecter avec une autre identité."


@pytest.fixture
def lea():
    return factories.pupil(first_name="Léa", birth_date=LEA_BIRTH)


@pytest.fixture
def authorize() -> str:
    """A registered client's authorization request: where the service's login ends."""
    out = StringIO()
    call_command(
        "oidc_client_add", "--name", SERVICE, "--home-url", HOME, "--redirect-uri", CALLBACK, stdout=out
    )  # fmt: skip
    printed = dict(line.split(": ", 1) for line in out.getvalue().splitlines() if ": " in line)
    query = {"client_id": printed["client_id"], "redirect_uri": CALLBACK, "response_type": "code", "scope": "openid"}
    return f"{reverse('oidc:authorize')}?{urlencode(query)}"


def at_the_service(client: Client, authorize: str) -> None:
    """The service sent the family to the mire (which remembers where the login ends)."""
    assert client.get(reverse("flows:login"), {"next": authorize}).status_code == 200
    assert client.session[continuation.SESSION_KEY]["next"] == authorize


def first_login(client: Client, fc, *pupils) -> tuple[str, Any]:
    """The whole first login; returns the step URL and the answer to the birth dates."""
    step = str(back_from_franceconnect(client, fc)["Location"])
    assert give_phone(client, step).status_code == 302
    assert client.post(step, {"code": code_from_outbox()}).status_code == 302
    return step, client.post(step, children_answers(*pupils))


# --- "Vous êtes notifié de l'activation de votre compte" (seed 001 step 6) -------------------------


def test_a_first_login_started_at_a_service_says_so_and_continues_to_it(client, fc, lea, authorize):
    account, _, _ = factories.guardian_account(children=[lea])
    at_the_service(client, authorize)
    step, done = first_login(client, fc, lea)
    assert done["Location"] == step
    flow = Flow.objects.get()
    assert flow.state == FlowState.COMPLETED
    assert flow.context["continuation"]["next"] == authorize  # kept when the journey started
    page = client.get(step)
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Votre compte est activé" in text
    assert f'<strong id="new-identifier">{account.identifier}</strong>' in text
    assert f'href="{authorize}">Continuer vers « {SERVICE} »</a>' in text
    assert "Accéder à mes services" not in text
    # "Continuer vers": the authorization request answers the service at once, logged in.
    answer = client.get(authorize)
    assert answer.status_code == 302
    assert answer["Location"].startswith(f"{CALLBACK}?code=")


def test_a_first_login_without_a_service_offers_my_services(client, fc, lea):
    account, _, _ = factories.guardian_account(children=[lea])
    step, _ = first_login(client, fc, lea)
    text = client.get(step).text
    assert f'<strong id="new-identifier">{account.identifier}</strong>' in text
    assert f'href="{reverse("accounts:services")}">Accéder à mes services</a>' in text
    assert "Continuer vers" not in text


def test_when_the_service_request_is_gone_the_page_offers_its_home_page(client, fc, lea, authorize):
    factories.guardian_account(children=[lea])
    at_the_service(client, authorize)
    step = str(back_from_franceconnect(client, fc)["Location"])
    give_phone(client, step)
    client.post(step, {"code": code_from_outbox()})
    session = client.session
    continuation.forget(session)  # the service was answered in another tab meanwhile
    session.save()
    client.post(step, children_answers(lea))
    text = client.get(step).text
    assert f'href="{HOME}">Aller sur « {SERVICE} »</a>' in text
    assert "Continuer vers" not in text


def test_the_activation_page_is_for_the_account_just_logged_in_only(client, fc, lea):
    factories.guardian_account(children=[lea])
    step, _ = first_login(client, fc, lea)
    session = client.session
    for key in ("_auth_user_id", "_auth_user_backend", "_auth_user_hash"):
        del session[key]  # no longer logged in, this browser still the journey's
    session.save()
    response = client.get(step)
    assert response.status_code == 400
    assert "n'est plus en cours" in response.text
    assert "new-identifier" not in response.text


# --- "Annuler et revenir au service" ----------------------------------------------------------------


def test_cancelling_at_franceconnect_comes_back_to_the_service_login(client, fc, authorize):
    at_the_service(client, authorize)
    back = back_from_franceconnect(client, fc, code=None, error="access_denied", error_description="aborted")
    assert back["Location"] == authorize
    assert messages_of(client.get(reverse("flows:login"), {"next": authorize})) == [CANCELLED]
    assert not Flow.objects.exists()


def test_after_cancelling_a_password_login_ends_at_the_service(client, fc, authorize):
    account = active_guardian()
    at_the_service(client, authorize)
    back_from_franceconnect(client, fc, code=None, error="access_denied")
    login = client.post(
        reverse("flows:login"),
        {"profile": "responsable", "identifier": account.identifier, "password": factories.GOOD_PASSWORD},
    )
    assert login["Location"] == authorize  # the pending service, as `safe_next` falls back to it
    assert client.get(authorize)["Location"].startswith(f"{CALLBACK}?code=")


def test_a_refusal_page_leads_back_to_the_service_login(client, fc, authorize):
    at_the_service(client, authorize)
    response = back_from_franceconnect(client, fc, code=None, error="server_error")
    assert response.status_code == 400
    assert f'href="{authorize}">Retour à la page de connexion</a>' in html.unescape(response.text)


def test_a_refusal_page_without_a_service_leads_to_the_mire(client, fc):
    response = back_from_franceconnect(client, fc, code=None, error="server_error")
    assert f'href="{reverse("flows:login")}">Retour à la page de connexion</a>' in response.text


# --- "Ce n'est pas vous ?" --------------------------------------------------------------------------


def test_not_me_comes_back_to_the_service_login(client, fc, lea, authorize):
    factories.guardian(children=[lea])
    at_the_service(client, authorize)
    back_from_franceconnect(client, fc)
    flow = Flow.objects.get()
    logout = client.get(reverse("flows:franceconnect_first_login_not_me", kwargs={"flow_id": flow.pk}))
    state = parse_qs(urlsplit(logout["Location"]).query)["state"][0]
    back = client.get(reverse("flows:franceconnect_logged_out"), {"state": state})
    assert back["Location"] == authorize
    assert messages_of(back) == [NOT_ME]
    flow.refresh_from_db()
    assert flow.state == FlowState.FAILED


def test_not_me_without_a_service_comes_back_to_the_mire(client, fc, lea):
    factories.guardian(children=[lea])
    back_from_franceconnect(client, fc)
    flow = Flow.objects.get()
    logout = client.get(reverse("flows:franceconnect_first_login_not_me", kwargs={"flow_id": flow.pk}))
    state = parse_qs(urlsplit(logout["Location"]).query)["state"][0]
    assert client.get(reverse("flows:franceconnect_logged_out"), {"state": state})["Location"] == reverse("flows:login")


def test_not_me_when_franceconnect_cannot_log_out_still_comes_back_to_the_service(client, fc, lea, authorize):
    factories.guardian(children=[lea])
    at_the_service(client, authorize)
    back_from_franceconnect(client, fc)
    flow = Flow.objects.get()
    session = client.session
    session["franceconnect_first_login"] = {}  # FranceConnect's ID token lost: no logout there
    session.save()
    response = client.get(reverse("flows:franceconnect_first_login_not_me", kwargs={"flow_id": flow.pk}))
    assert response["Location"] == authorize


# --- The button -------------------------------------------------------------------------------------


def test_the_button_remembers_the_service_it_was_given(client, fc, authorize):
    response = client.get(reverse("flows:franceconnect"), {"next": authorize})
    assert response.status_code == 302
    assert client.session[continuation.SESSION_KEY]["next"] == authorize


def test_the_button_without_next_goes_on_to_the_pending_service(client, fc, authorize):
    account = active_guardian(sub=SUB)
    at_the_service(client, authorize)
    response = back_from_franceconnect(client, fc)  # the button pressed with no `next`
    assert response["Location"] == authorize
    assert client.session["_auth_user_id"] == str(account.pk)
