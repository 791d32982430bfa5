"""'Je n'ai pas de compte' over HTTP: the pages, the refusals, the end."""

import re
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from trousseau.accounts.models import Account, AccountState
from trousseau.flows.models import Flow
from trousseau.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db
PHONE = "+33612345678"


@pytest.fixture
def zoe():
    child = factories.pupil(first_name="Zoé", birth_date=date(2012, 5, 6))
    factories.guardian(children=[child], first_name="Sophie", last_name="Dupont", mobile=PHONE)
    return child


def identity(client, **overrides):
    data = {"last_name": "Dupont", "first_name": "Sophie", "country": "FR", "mobile": "06 12 34 56 78", **overrides}
    return client.post(reverse("flows:self_registration_identity"), data)


def code_from_outbox() -> str:
    found = re.search(r"\d{6}", OutboxMessage.objects.filter(to=PHONE).first().body)
    assert found is not None
    return found.group(0)


def test_identity_page_wording(client):
    html = client.get(reverse("flows:self_registration_identity")).text
    for words in [
        "Je confirme mon identité",
        "Nom",
        "Prénom",
        "N° de téléphone portable",
        "+33 France métropolitaine",
        "+262 La Réunion",
        "Vous êtes élève ?",
    ]:
        assert words in html, words


def test_mire_links_to_registration(client):
    assert reverse("flows:self_registration") in client.get("/").text


@pytest.mark.parametrize(
    "overrides",
    [{"first_name": "Sofia"}, {"mobile": "06 99 99 99 99"}, {"last_name": "Durand"}],
)
def test_no_match_gets_the_seed_message_whatever_was_wrong(client, zoe, overrides):
    html = identity(client, **overrides).text
    assert "vérifiez la saisie ou contactez votre établissement" in html
    assert OutboxMessage.objects.count() == 0
    assert not Flow.objects.exists()


def test_bad_phone_shape_is_a_form_error(client, zoe):
    html = identity(client, mobile="12").text
    assert "n'est pas un numéro de téléphone portable valide" in html
    assert OutboxMessage.objects.count() == 0


def test_overseas_number_with_its_country_code(client):
    child = factories.pupil()
    factories.guardian(children=[child], first_name="Hélène", last_name="Payet", mobile="+262692123456")
    response = identity(client, last_name="payet", first_name="helene", country="RE", mobile="0692 12 34 56")
    assert response.status_code == 302
    assert OutboxMessage.objects.get().to == "+262692123456"


def test_full_journey_over_http(client, zoe):
    url = identity(client)["Location"]
    page = client.get(url).text
    assert "Un code de sécurité a été envoyé" in page
    assert "se terminant par 78" in page
    wrong = client.post(url, {"code": "000000" if code_from_outbox() != "000000" else "111111"})
    assert "Il vous reste 4 essais" in wrong.text
    client.post(url, {"code": code_from_outbox()})
    page = client.get(url).text
    assert "Je confirme mon lien avec les élèves" in page
    assert "Zoé D." in page
    bad = client.post(url, {f"legal_{zoe.pk}": "oui", f"birth_{zoe.pk}": "2012-05-07"})
    assert "Une date de naissance ne correspond pas" in bad.text
    client.post(url, {f"legal_{zoe.pk}": "oui", f"birth_{zoe.pk}": "2012-05-06"})
    page = client.get(url).text
    assert "Notez votre identifiant" in page
    identifier = re.search(r'id="new-identifier">([^<]+)<', page).group(1)
    weak = client.post(url, {"password": "dupont", "password_confirm": "dupont"})
    assert "Doit contenir 1 majuscule" in weak.text
    done = client.post(
        url, {"password": factories.GOOD_PASSWORD, "password_confirm": factories.GOOD_PASSWORD}, follow=True
    )
    assert done.redirect_chain == [(url, 302)]
    assert "Votre compte a été activé avec succès" in done.text
    assert re.search(r'id="new-identifier">([^<]+)<', done.text).group(1) == identifier
    account = Account.objects.get(identifier=identifier)
    assert account.state == AccountState.ACTIVE
    assert int(client.session["_auth_user_id"]) == account.pk
    # No service was waiting: "Accéder à mes services".
    assert f'href="{reverse("accounts:services")}">Accéder à mes services</a>' in done.text


def test_resend_is_refused_inside_the_delay(client, zoe):
    url = identity(client)["Location"]
    refused = client.post(url, {"resend": "1"})
    assert "avant de demander un nouveau code" in refused.text
    # A limit that time lifts: 429, and the header says when, as the page does.
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert OutboxMessage.objects.count() == 1


def test_the_code_page_says_the_lifespan_in_force(client, zoe, settings):
    settings.SMS_CODE_LIFESPAN = timedelta(minutes=10)
    page = client.get(identity(client)["Location"])
    assert "(valable 10 min)" in page.text
    assert "valable 10 minutes" in OutboxMessage.objects.get().body


def test_a_wrong_code_is_a_400_without_retry_after(client, zoe):
    url = identity(client)["Location"]
    wrong = "000000" if code_from_outbox() != "000000" else "111111"
    refused = client.post(url, {"code": wrong})
    assert refused.status_code == 400
    assert "Retry-After" not in refused
    assert "Il vous reste 4 essais" in refused.text


def test_spent_sms_budget_is_a_429_for_an_hour(client, zoe, settings):
    settings.SMS_PER_PHONE_PER_HOUR = 0
    refused = identity(client)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert "Trop de codes ont été envoyés" in refused.text
    assert not OutboxMessage.objects.exists()


def test_repeated_misses_are_a_429_with_the_wait(client, settings):
    settings.SELF_REGISTRATION_IP_FREE_FAILURES = 0
    first = identity(client, last_name="Personne")
    assert first.status_code == 200  # the seed's no-match page
    throttled = identity(client, last_name="Personne")
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) >= 60
    assert "Trop de tentatives" in throttled.text


def test_another_browser_cannot_continue(client, zoe):
    url = identity(client)["Location"]
    assert Client().post(url, {"code": code_from_outbox()}).status_code == 403


def test_the_guardians_own_name_is_refused_in_the_password(client, zoe):
    url = identity(client)["Location"]
    client.post(url, {"code": code_from_outbox()})
    client.post(url, {f"legal_{zoe.pk}": "oui", f"birth_{zoe.pk}": "2012-05-06"})
    html = client.post(url, {"password": "Sophie#Cartable42", "password_confirm": "Sophie#Cartable42"}).text
    assert "Ne doit contenir ni votre identifiant ni votre nom ou prénom" in html
    assert not Account.objects.exists()
