"""'Je n'ai pas de compte', the pages around the steps: "Je n'ai pas encore d'identifiant" before the
form, the help for who has no mobile or no SMS, and "Votre compte a été activé avec succès" at the end,
which leads on to the service the person came from (seeds 001, 004 case 2)."""

import re
from datetime import date
from html import unescape
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from oauth2_provider.models import get_application_model

from tests import factories
from trousseau.federation.oidc.models import ClientProfile
from trousseau.flows.models import Flow, FlowState
from trousseau.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db
PHONE = "+33612345678"
IDENTITY = {"last_name": "Dupont", "first_name": "Sophie", "country": "FR", "mobile": "06 12 34 56 78"}
GOOD = {"password": factories.GOOD_PASSWORD, "password_confirm": factories.GOOD_PASSWORD}


@pytest.fixture
def zoe():
    child = factories.pupil(first_name="Zoé", birth_date=date(2012, 5, 6))
    factories.guardian(children=[child], first_name="Sophie", last_name="Dupont", mobile=PHONE)
    return child


@pytest.fixture
def pronote():
    """A registered OpenID Connect client, with its home page."""
    application = get_application_model().objects.create(
        name="Pronote du collège",
        client_id="pronote-demo",
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris="https://pronote.example/cb",
        algorithm="RS256",
    )
    ClientProfile.objects.create(application=application, home_url="https://pronote.example/")
    return application


def authorize_url(client_id: str = "pronote-demo") -> str:
    query = urlencode({"client_id": client_id, "redirect_uri": "https://pronote.example/cb", "scope": "openid"})
    return f"{reverse('oidc:authorize')}?{query}"


def at_the_mire_of(client: Client, next_url: str) -> None:
    """The browser came from a service: the mire was shown with `next`, and remembers it."""
    assert client.get(f"{reverse('flows:login')}?{urlencode({'next': next_url})}").status_code == 200


def code_from_outbox() -> str:
    found = re.search(r"\d{6}", OutboxMessage.objects.filter(to=PHONE).latest("created_at").body)
    assert found is not None
    return found.group(0)


def registered(client: Client, zoe) -> str:
    """Walk the steps up to "Terminer"; return the flow's URL."""
    url = client.post(reverse("flows:self_registration_identity"), IDENTITY)["Location"]
    client.post(url, {"code": code_from_outbox()})
    client.post(url, {f"legal_{zoe.pk}": "oui", f"birth_{zoe.pk}": "2012-05-06"})
    assert client.post(url, GOOD)["Location"] == url
    return url


# --- "Je n'ai pas encore d'identifiant" --------------------------------------------------------------


def test_the_mire_link_opens_the_page_that_says_what_is_needed(client):
    assert f'href="{reverse("flows:self_registration")}"' in client.get(reverse("flows:login")).text
    html = client.get(reverse("flows:self_registration")).text
    for words in [
        "<h1 class=\"fr-h3\">Je n'ai pas encore d'identifiant</h1>",
        "vos nom et prénom, tels que vous les avez communiqués à l'établissement",
        "numéro a été communiqué à l'établissement lors de l'inscription de votre enfant",
        "la date de naissance de chacun de vos enfants",
        "Vous êtes élève",
        "courrier remis par votre établissement",
    ]:
        assert words in html, words
    create = f'<a class="fr-btn" href="{reverse("flows:self_registration_identity")}">Créer mon compte</a>'
    assert create in html
    # The form comes after "Créer mon compte", not before.
    assert 'name="mobile"' not in html
    assert f'href="{reverse("flows:login")}">Retour à la page de connexion' in html


def test_back_to_the_mire_leads_to_the_service_login_when_one_is_pending(client, pronote):
    at_the_mire_of(client, authorize_url())
    for page in ("flows:self_registration", "flows:self_registration_identity"):
        html = unescape(client.get(reverse(page)).text)
        assert f'href="{authorize_url()}">Retour à la page de connexion' in html, page


# --- "Je confirme mon identité" ------------------------------------------------------------------------


def test_the_identity_form_says_what_to_do_without_a_mobile(client):
    html = client.get(reverse("flows:self_registration_identity")).text
    assert "Je confirme mon identité" in html
    assert 'name="mobile"' in html
    assert 'aria-controls="no-mobile">Je ne souhaite pas utiliser de téléphone portable</button>' in html
    help_text = html.split('id="no-mobile"', 1)[1].split("</section>", 1)[0]
    assert "courrier remis par l'établissement (identifiant et mot de passe provisoire)" in help_text
    assert "Contactez le secrétariat" in help_text


def test_the_identity_form_posted_to_the_old_address_still_starts_the_journey(client, zoe):
    response = client.post(reverse("flows:self_registration"), IDENTITY)
    assert response.status_code == 302
    assert Flow.objects.get().state == FlowState.AWAITING_CODE
    refused = client.post(reverse("flows:self_registration"), {**IDENTITY, "first_name": "Sofia"})
    assert "vérifiez la saisie ou contactez votre établissement" in refused.text


def test_the_flow_keeps_the_pending_service(client, zoe, pronote):
    at_the_mire_of(client, authorize_url())
    client.post(reverse("flows:self_registration_identity"), IDENTITY)
    kept = Flow.objects.get().context["continuation"]
    assert kept == {"next": authorize_url(), "service": f"oidc:{pronote.pk}"}


def test_without_a_pending_service_the_flow_keeps_nothing(client, zoe):
    client.post(reverse("flows:self_registration_identity"), IDENTITY)
    assert "continuation" not in Flow.objects.get().context


# --- The SMS code ----------------------------------------------------------------------------------------


def test_the_code_page_says_what_to_do_without_an_sms(client, zoe):
    html = client.get(client.post(reverse("flows:self_registration_identity"), IDENTITY)["Location"]).text
    assert "aria-controls=\"no-code\">Je n'ai pas reçu de code d'activation par SMS</button>" in html
    help_text = html.split('id="no-code"', 1)[1].split("</section>", 1)[0]
    for words in ["quelques minutes", "il finit par 78", "renvoyer un code", "Contactez le secrétariat"]:
        assert words in help_text, words
    assert 'name="resend"' in html


# --- "Votre compte a été activé avec succès" ------------------------------------------------------------


def test_the_end_names_the_pending_service_and_leads_there_logged_in(client, zoe, pronote):
    at_the_mire_of(client, authorize_url())
    url = registered(client, zoe)
    html = unescape(client.get(url).text)
    flow = Flow.objects.get()
    assert flow.state == FlowState.COMPLETED
    assert "Votre compte a été activé avec succès" in html
    assert (
        "Notez votre identifiant EduConnect : vous en aurez besoin pour vous connecter aux services de vos enfants."
        in html
    )
    assert f'id="new-identifier">{flow.account.identifier}</p>' in html
    assert f'href="{authorize_url()}">Continuer vers « Pronote du collège »</a>' in html
    assert "Accéder à mes services" not in html
    assert int(client.session["_auth_user_id"]) == flow.account.pk


def test_a_service_removed_meanwhile_leaves_my_services(client, zoe, pronote):
    at_the_mire_of(client, authorize_url())
    url = registered(client, zoe)
    pronote.delete()  # its request can no longer be answered, and there is no service to name
    html = client.get(url).text
    assert "Votre compte a été activé avec succès" in html
    assert f'href="{reverse("accounts:services")}">Accéder à mes services</a>' in html


def test_an_expired_pending_login_is_said_with_the_service_home_page(client, zoe, pronote):
    at_the_mire_of(client, authorize_url())
    url = registered(client, zoe)
    session = client.session
    session["continuation"]["at"] -= 2 * 3600  # the service's login request is too old to resume
    session.save()
    html = client.get(url).text
    assert "La connexion à « Pronote du collège » a expiré" in html
    assert '<a class="fr-btn" href="https://pronote.example/">Aller sur « Pronote du collège »</a>' in html
    assert "Accéder à mes services" in html
    assert "Continuer vers" not in html


def test_the_end_is_shown_only_to_the_new_account_in_its_browser(client, zoe):
    url = registered(client, zoe)
    assert Client().get(url).status_code == 403  # another browser
    # A session that carries the flow's browser binding but not the new account's login.
    other = Client()
    session = other.session
    session["flow_browser"] = client.session["flow_browser"]
    session.save()
    response = other.get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("flows:self_registration")
    assert client.get(url).status_code == 200
