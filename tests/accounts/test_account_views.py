"""'Gérer mon compte' over HTTP: the page, password change, sessions, history, grouping, the mire after."""

import html
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.accounts.helpers import active_guardian, active_pupil, logged_in, login
from trousseau.accounts.models import Account, AccountSession, AccountState
from trousseau.accounts.sessions import AUTHENTICATED_AT_KEY
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.audit.services import audit

pytestmark = pytest.mark.django_db
NEW = "Trousse#Orange77"
OTHER = "Autre#Compte2024"
HOME = reverse("accounts:home")


@pytest.fixture
def sophie() -> Account:
    school = factories.school(name="Collège Jean-Moulin")
    child = factories.pupil(school=school, first_name="Zoé", last_name="Dupont")
    return active_guardian(children=[child], first_name="Sophie", last_name="Dupont")


def test_the_home_shows_identity_children_logins_and_sessions(sophie):
    client = logged_in(sophie, HTTP_USER_AGENT="Mozilla/5.0 (Android 14; Mobile) Firefox/128.0")
    html = client.get(HOME).text
    for words in [
        "Gérer mon compte",
        sophie.identifier,
        "Zoé DUPONT — Collège Jean-Moulin",
        "Aucune adresse",
        "Aucun numéro vérifié",
        "Modifier mon mot de passe",
        "Ajouter des élèves depuis un autre compte",
        "Mes dernières connexions",
        "Sessions ouvertes",
        "Firefox, Android",
        "cette session",
        "Se déconnecter partout",
        "127.0.0.1",
        "Voir l'historique de sécurité de mon compte",
    ]:
        assert words in html, words


def test_a_pupil_sees_the_school_and_no_grouping_nor_mobile():
    pupil = active_pupil(school=factories.school(name="Lycée Colbert"))
    html = logged_in(pupil).get(HOME).text
    assert "Lycée Colbert" in html
    assert "Ajouter des élèves depuis un autre compte" not in html
    assert "Téléphone portable" not in html


@pytest.mark.parametrize("name", ["password", "history", "grouping"])
def test_account_pages_require_login(client, name):
    response = client.get(reverse(f"accounts:{name}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("flows:login"))


def test_end_sessions_is_post_only(sophie):
    client = logged_in(sophie)
    assert client.get(reverse("accounts:end_sessions")).status_code == 405


# Password


def password_form(**overrides):
    return {"current_password": factories.GOOD_PASSWORD, "password": NEW, "password_confirm": NEW, **overrides}


def test_password_page_has_labels_and_the_live_rules(sophie):
    html = logged_in(sophie).get(reverse("accounts:password")).text
    for words in [
        "Mot de passe actuel",
        "Nouveau mot de passe",
        "Confirmez votre mot de passe",
        "Doit contenir 1 majuscule",
    ]:
        assert words in html, words
    assert "password-policy.js" in html
    assert '<label class="fr-label" for="id_current_password">' in html


def test_password_change_keeps_this_session_and_ends_the_others(sophie):
    client = logged_in(sophie)
    other = logged_in(sophie)
    response = client.post(reverse("accounts:password"), password_form(), follow=True)
    assert "Votre mot de passe a été modifié." in response.text
    assert client.get(HOME).status_code == 200
    assert other.get(HOME).status_code == 302
    assert AccountSession.objects.filter(account=sophie).count() == 1
    assert client.session.session_key == AccountSession.objects.get(account=sophie).session_key
    client.post(reverse("accounts:logout"))
    assert login(client, sophie.identifier, NEW)["Location"] == HOME


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"current_password": "Pas#leBon1"}, "Le mot de passe actuel est incorrect."),
        ({"current_password": ""}, "Saisissez votre mot de passe actuel."),
        ({"password_confirm": "Trousse#Orange78"}, "Les deux mots de passe ne sont pas identiques."),
        ({"password": "faible", "password_confirm": "faible"}, "Doit contenir 1 majuscule"),
        ({"password": "Sophie#Dupont1", "password_confirm": "Sophie#Dupont1"}, "Ne doit contenir ni votre"),
        (
            {"password": factories.GOOD_PASSWORD, "password_confirm": factories.GOOD_PASSWORD},
            "Choisissez un mot de passe différent de l'actuel.",
        ),
    ],
)
def test_bad_password_change_input_changes_nothing(sophie, overrides, message):
    client = logged_in(sophie)
    other = logged_in(sophie)
    response = client.post(reverse("accounts:password"), password_form(**overrides))
    assert response.status_code == 400
    assert message in response.text
    assert NEW not in response.text
    assert factories.GOOD_PASSWORD not in response.text
    sophie.refresh_from_db()
    assert sophie.check_password(factories.GOOD_PASSWORD)
    assert other.get(HOME).status_code == 200


def test_wrong_current_passwords_end_in_the_login_throttle(sophie, settings):
    client = logged_in(sophie)
    for _ in range(settings.THROTTLE_ACCOUNT_FREE_FAILURES + 1):
        client.post(reverse("accounts:password"), password_form(current_password="Pas#leBon1"))
    html = client.post(reverse("accounts:password"), password_form()).text
    assert "Trop de tentatives. Patientez" in html
    sophie.refresh_from_db()
    assert sophie.check_password(factories.GOOD_PASSWORD)
    assert AuditEvent.objects.filter(tag=EventTag.PASSWORD_CHANGE_FAILURE, account=sophie).count() == (
        settings.THROTTLE_ACCOUNT_FREE_FAILURES + 2
    )


# Sessions and history


def test_logout_everywhere_keeps_only_this_session(sophie):
    client = logged_in(sophie)
    others = [logged_in(sophie) for _ in range(2)]
    response = client.post(reverse("accounts:end_sessions"), follow=True)
    assert "2 autres sessions ont été fermées." in response.text
    assert all(o.get(HOME).status_code == 302 for o in others)
    assert client.get(HOME).status_code == 200
    again = client.post(reverse("accounts:end_sessions"), follow=True)
    assert "Aucune autre session n'était ouverte." in again.text
    assert AuditEvent.objects.filter(tag=EventTag.SESSIONS_ENDED, account=sophie).count() == 2


def test_history_lists_the_account_events_in_french(sophie):
    client = logged_in(sophie)
    client.post(reverse("accounts:password"), password_form(current_password="Pas#leBon1"))
    client.post(reverse("accounts:end_sessions"))
    html = client.get(reverse("accounts:history")).text
    for words in [
        "Historique de sécurité",
        "Connexion réussie",
        "Changement de mot de passe refusé (mot de passe actuel incorrect)",
        "Déconnexion de toutes les autres sessions",
    ]:
        assert words in html, words
    # The tags are only markup: the holder reads the labels.
    assert html.count("account:login:success") == html.count('data-tag="account:login:success"')


def test_history_shows_only_my_events(sophie):
    stranger = active_guardian(first_name="Marc")
    logged_in(stranger)
    stranger_events = AuditEvent.objects.filter(account=stranger).count()
    html = logged_in(sophie).get(reverse("accounts:history")).text
    assert html.count("<tr data-tag=") == AuditEvent.objects.filter(account=sophie).count()
    assert stranger_events


# Grouping


def grouping_post(client, identifier, password, birth_date=""):
    data = {"identifier": identifier, "password": password, "birth_date": birth_date}
    return client.post(reverse("accounts:grouping"), data)


def test_grouping_page_wording(sophie):
    html = logged_in(sophie).get(reverse("accounts:grouping")).text
    for words in [
        "Ajouter des élèves depuis un autre compte",
        "Identifiant de l'autre compte",
        "Regrouper les comptes",
    ]:
        assert words in html, words


def test_grouping_with_a_letter_adds_the_children_and_the_mire_tells_the_old_identifier(sophie):
    hugo = factories.pupil(first_name="Hugo", last_name="Dupont", school=factories.school(name="École Prévert"))
    other, _, password = factories.guardian_account(children=[hugo], first_name="Sophie", last_name="DUPONT")
    client = logged_in(sophie)
    response = grouping_post(client, other.identifier, password, hugo.birth_date.isoformat())
    assert response["Location"] == HOME
    html = client.get(HOME).text
    assert f"Le compte {other.identifier} est regroupé avec le vôtre" in html
    assert "Hugo DUPONT — École Prévert" in html
    assert "Zoé DUPONT — Collège Jean-Moulin" in html
    other.refresh_from_db()
    assert other.merged_into == sophie
    mire = login(Client(), other.identifier, password).text
    assert f"Ce compte a été regroupé avec le compte {sophie.identifier}" in mire


def test_grouping_an_active_account_then_logging_in_with_its_old_password(sophie):
    other = active_guardian(OTHER, first_name="Sophie", last_name="Dupont")
    client = logged_in(sophie)
    assert grouping_post(client, other.identifier, OTHER).status_code == 302
    response = login(Client(), other.identifier, OTHER)
    assert response.status_code == 200
    assert f"connectez-vous avec l'identifiant {sophie.identifier}" in response.text
    assert "Identifiant ou mot de passe incorrect." in login(Client(), other.identifier, "Whatever#123").text


def test_grouping_wrong_credentials_do_not_tell_whether_the_identifier_exists(sophie):
    other, _, _ = factories.guardian_account(first_name="Sophie", last_name="Dupont")
    client = logged_in(sophie)
    unknown = grouping_post(client, "nobody.here99", "Whatever#123")
    wrong = grouping_post(client, other.identifier, "Whatever#123")
    assert unknown.status_code == wrong.status_code == 400
    assert "Identifiant ou mot de passe incorrect." in wrong.text

    def strip(html):
        return html.replace(other.identifier, "X").replace("nobody.here99", "X").split("csrfmiddlewaretoken")[0]

    assert strip(unknown.text) == strip(wrong.text)
    other.refresh_from_db()
    assert other.state == AccountState.PROVISIONAL


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("names", "n'est pas au même nom et prénom que le vôtre"),
        ("pupil", "Seuls les comptes de responsable peuvent être regroupés."),
        ("same", "C'est l'identifiant du compte avec lequel vous êtes connecté"),
        ("empty", "Saisissez l'identifiant de l'autre compte."),
    ],
)
def test_grouping_refusals_are_clear_and_change_nothing(sophie, case, message):
    client = logged_in(sophie)
    if case == "names":
        other, _, password = factories.guardian_account(first_name="Marc", last_name="Dupont")
    elif case == "pupil":
        other, _, password = factories.pupil_account(first_name="Sophie", last_name="Dupont")
    elif case == "same":
        other, password = sophie, factories.GOOD_PASSWORD
    else:
        other, password = sophie, ""
    data = {"identifier": "" if case == "empty" else other.identifier, "password": password}
    response = client.post(reverse("accounts:grouping"), data)
    assert response.status_code == 400
    assert message in response.text
    assert sophie.pupils().count() == 1
    assert not Account.objects.exclude(merged_into=None).exists()


def test_grouping_is_for_guardians_only():
    client = logged_in(active_pupil())
    response = client.get(reverse("accounts:grouping"), follow=True)
    assert "réservé aux responsables d'élèves" in response.text


def test_grouping_a_letter_without_the_childs_birth_date_is_refused_in_french(sophie):
    other, _, password = factories.guardian_account(first_name="Sophie", last_name="Dupont")
    client = logged_in(sophie)
    response = grouping_post(client, other.identifier, password)
    assert response.status_code == 400
    assert "saisissez aussi la date de naissance d'un de ses enfants" in html.unescape(response.text)
    response = grouping_post(client, other.identifier, password, "1999-01-01")
    assert response.status_code == 400
    assert "La date de naissance ne correspond à aucun enfant de l'autre compte." in html.unescape(response.text)
    response = grouping_post(client, other.identifier, password, "pas une date")
    assert response.status_code == 400
    assert "Saisissez une date valide" in response.text
    other.refresh_from_db()
    assert other.merged_into is None


def _franceconnect_only_browser(*, minutes_since_login: int) -> tuple[Account, Client]:
    """An account without a password, its session's FranceConnect login `minutes_since_login` ago."""
    account = active_guardian()
    account.set_unusable_password()
    account.save()
    client = Client()
    client.force_login(account)
    session = client.session
    session[AUTHENTICATED_AT_KEY] = (timezone.now() - timedelta(minutes=minutes_since_login)).isoformat()
    session.save()
    return account, client


def test_an_account_without_a_password_chooses_one_after_a_fresh_franceconnect_login():
    account, client = _franceconnect_only_browser(minutes_since_login=1)
    url = reverse("accounts:password")
    html = client.get(url).text
    assert "Mot de passe actuel" not in html
    assert "Me reconnecter avec FranceConnect" in html
    new = "Trousse#Orange77"
    response = client.post(url, {"password": new, "password_confirm": new})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.check_password(new)


def test_an_account_without_a_password_and_a_stale_login_is_sent_to_franceconnect():
    account, client = _franceconnect_only_browser(minutes_since_login=30)
    new = "Trousse#Orange77"
    response = client.post(reverse("accounts:password"), {"password": new, "password_confirm": new})
    assert response.status_code == 400
    assert "reconnectez-vous avec FranceConnect" in response.text
    account.refresh_from_db()
    assert not account.has_usable_password()
    assert AuditEvent.objects.get(tag=EventTag.PASSWORD_CHANGE_FAILURE, account=account).data == {
        "reason": "stale_login"
    }


def test_the_home_lists_letter_and_franceconnect_logins_and_links_to_my_services(sophie):
    audit(EventTag.LOGIN_PROVISIONAL, account=sophie, ip="198.51.100.20")
    audit(EventTag.LOGIN_SUCCESS, account=sophie, ip="198.51.100.21", method="franceconnect")
    page = html.unescape(logged_in(sophie).get(HOME).text)
    logins = page[page.index('id="my-logins"') : page.index("</table>", page.index('id="my-logins"'))]
    for words in ["avec le courrier", "avec FranceConnect", "identifiant et mot de passe", "198.51.100.20"]:
        assert words in logins, words
    assert f'href="{reverse("accounts:services")}">Mes services</a>' in page
