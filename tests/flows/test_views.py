"""The mire and the activation pages over HTTP (Django's test client): wording, refusals, statuses."""

from datetime import date

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests import factories
from trousseau.accounts.models import AccountState
from trousseau.flows.models import Flow

pytestmark = pytest.mark.django_db
SEED_WORDS = [
    "J'accède aux services numériques des établissements scolaires",
    "Identifiant",
    "Mot de passe",
    "Se connecter",
    "Identifiant perdu",
    "Mot de passe perdu",
    "Je n'ai pas de compte",
    "FranceConnect",
    "Élève",
    "Responsable d'élève",
]


def login(client: Client, identifier: str, password: str, profile: str = "responsable"):
    return client.post(reverse("flows:login"), {"identifier": identifier, "password": password, "profile": profile})


@pytest.mark.parametrize("path", ["/", "/login"])
def test_the_mire_shows_the_seed_wording_with_real_labels(client, path):
    html = client.get(path).text
    for words in SEED_WORDS:
        assert words in html, words
    assert '<label class="fr-label" for="id_identifier">' in html
    assert '<label class="fr-label" for="id_password">' in html


def test_security_headers_are_set(client):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    assert "script-src 'self' 'nonce-" in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_bad_credentials_get_one_generic_message(client):
    account, _, _ = factories.guardian_account()
    unknown = login(client, "nobody.here99", "Whatever#123").text
    wrong = login(client, account.identifier, "Whatever#123").text
    assert "Identifiant ou mot de passe incorrect." in unknown
    assert "Identifiant ou mot de passe incorrect." in wrong
    strip = lambda html: html.replace(account.identifier, "X").replace("nobody.here99", "X")  # noqa: E731
    assert strip(unknown).split("csrfmiddlewaretoken")[0] == strip(wrong).split("csrfmiddlewaretoken")[0]


def test_a_throttled_login_answers_429_with_retry_after(client, settings):
    """Scripts slow down too (security.md §7 checks 7 and 12); a person reads how long to wait."""
    settings.THROTTLE_ACCOUNT_FREE_FAILURES = 1
    for _ in range(2):
        assert login(client, "nobody.here99", "Whatever#123").status_code == 200
    throttled = login(client, "nobody.here99", "Whatever#123")
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) == 60  # the second failure past the allowance: 1 minute
    assert "Trop de tentatives. Patientez 1 minute avant de réessayer." in throttled.text
    other = login(Client(), "someone.else42", "Whatever#123")  # another identifier is not slowed down
    assert other.status_code == 200
    assert "Retry-After" not in other


def test_empty_form_is_refused_in_french(client):
    html = client.post(reverse("flows:login"), {}).text
    assert "Saisissez votre identifiant." in html
    assert "Saisissez votre mot de passe." in html


def test_missing_csrf_is_a_french_403():
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("flows:login"), {"identifier": "a", "password": "b"})
    assert response.status_code == 403
    assert "Accès refusé" in response.text


def test_letter_login_leads_to_activation_page(client):
    account, _, password = factories.guardian_account()
    response = login(client, account.identifier, password)
    flow = Flow.objects.get(account=account)
    assert response.status_code == 302
    assert response["Location"] == reverse("flows:activation_by_letter", args=[flow.pk])
    page = client.get(response["Location"]).text
    for words in [
        "Activation du compte",
        "Nouveau mot de passe",
        "Confirmez votre mot de passe",
        "Votre date de naissance",
        "Email (facultatif)",
        "Activer votre compte",
        "date de naissance de votre enfant",
    ]:
        assert words in page, words
    assert "_auth_user_id" not in client.session


def test_pupil_page_states_the_age_rule_for_email(client):
    account, _, password = factories.pupil_account(birth_date=date(2013, 1, 1))
    page = client.get(login(client, account.identifier, password, "eleve")["Location"]).text
    assert "Renseignez votre date de naissance" in page
    assert "moins de 15 ans" in page


def test_a_flow_from_another_browser_is_forbidden(client):
    account, _, password = factories.guardian_account()
    url = login(client, account.identifier, password)["Location"]
    other = Client()
    assert other.get(url).status_code == 403
    assert other.post(url, {"password": factories.GOOD_PASSWORD}).status_code == 403


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"password_confirm": "Cartable#Violet43"}, "Les deux mots de passe ne sont pas identiques."),
        ({"password": "faible", "password_confirm": "faible"}, "Doit contenir 1 majuscule"),
        ({"email": "pas-une-adresse"}, "Saisissez une adresse email valide"),
        ({"birth_date": "31/02/2012"}, "Saisissez une date valide"),
        ({"birth_date": "1999-01-01"}, "La date de naissance ne correspond pas. Il vous reste 4 essai(s)."),
    ],
)
def test_bad_activation_input_changes_nothing(client, overrides, message):
    account, _, password = factories.guardian_account()
    url = login(client, account.identifier, password)["Location"]
    response = client.post(url, factories.activation_form(account, **overrides))
    assert message in response.text
    account.refresh_from_db()
    assert account.state == AccountState.PROVISIONAL
    assert not account.has_usable_password()


def test_password_containing_the_identifier_is_refused(client):
    account, _, password = factories.guardian_account()
    url = login(client, account.identifier, password)["Location"]
    weak = account.identifier.capitalize() + "#A1"
    html = client.post(url, factories.activation_form(account, password=weak, password_confirm=weak)).text
    assert "Ne doit contenir ni votre identifiant" in html


def test_the_letters_password_cannot_become_the_new_one(client):
    """The provisional password dies with the activation (security.md §7 check 19)."""
    account, _, password = factories.guardian_account()
    url = login(client, account.identifier, password)["Location"]
    response = client.post(url, factories.activation_form(account, password=password, password_confirm=password))
    assert response.status_code == 400
    assert "Choisissez un mot de passe différent de celui du courrier." in response.text
    account.refresh_from_db()
    assert account.state == AccountState.PROVISIONAL


def test_activation_logs_in_and_shows_the_account_home(client):
    school = factories.school(name="Collège Jean-Moulin")
    child = factories.pupil(school=school, first_name="Zoé", last_name="Dupont")
    account, _, password = factories.guardian_account(children=[child])
    url = login(client, account.identifier, password)["Location"]
    response = client.post(url, factories.activation_form(account, email="sophie@example.fr"), follow=True)
    assert "Votre compte est activé" in response.text  # then "Continuer", here to the account page
    html = client.get(reverse("accounts:home")).text
    assert "Gérer mon compte" in html
    assert account.identifier in html
    assert "Zoé DUPONT — Collège Jean-Moulin" in html
    assert "non vérifié" in html
    account.refresh_from_db()
    assert account.state == AccountState.ACTIVE
    assert len(mail.outbox) == 1
    # The letter is spent: logging in with it again says so.
    client.post(reverse("accounts:logout"))
    assert "déjà servi" in login(client, account.identifier, password).text
    assert login(client, account.identifier, factories.GOOD_PASSWORD)["Location"] == reverse("accounts:home")


def test_expired_or_failed_flow_sends_back_to_the_mire(client, settings):
    account, _, password = factories.guardian_account()
    url = login(client, account.identifier, password)["Location"]
    for _ in range(settings.ACTIVATION_MAX_ATTEMPTS):
        response = client.post(url, factories.activation_form(account, birth_date="1999-01-01"))
    assert response.status_code == 302
    assert response["Location"] == reverse("flows:login")
    assert client.get(url)["Location"] == reverse("flows:login")


def test_open_redirects_are_refused(client):
    account, _, password = factories.guardian_account()
    url = login(client, account.identifier, password)["Location"]
    client.post(url, factories.activation_form(account))
    client.post(reverse("accounts:logout"))
    response = client.post(
        reverse("flows:login"),
        {"identifier": account.identifier, "password": factories.GOOD_PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("accounts:home")


def test_logged_in_visitor_sees_already_connected(client):
    account, _, password = factories.guardian_account()
    client.post(login(client, account.identifier, password)["Location"], factories.activation_form(account))
    assert "Vous êtes déjà connecté" in client.get("/").text


def test_home_requires_login(client):
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("flows:login"))


def test_outbox_page_exists_only_in_debug(client, settings):
    settings.DEBUG = False
    assert client.get("/dev/outbox/").status_code == 404
    settings.DEBUG = True
    assert "Boîte d'envoi" in client.get("/dev/outbox/").text
