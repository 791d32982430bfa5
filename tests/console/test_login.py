"""Staff login: password then TOTP, throttled, audited, with key rotation and an idle timeout."""

from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.codes import other_code
from tests.console import helpers
from trousseau.accounts.models import AccountSession
from trousseau.audit.events import EventTag
from trousseau.console import authentication
from trousseau.console.models import StaffMember, StaffRole

pytestmark = pytest.mark.django_db
LOGIN = reverse("console:login")
CODE = reverse("console:code")
REFUSED = "Adresse email ou mot de passe incorrect."


@pytest.fixture
def member() -> StaffMember:
    return helpers.staff(StaffRole.SECRETARIAT, school=factories.school())


def test_the_console_sends_strangers_to_its_own_login(client):
    response = client.get(reverse("console:home"))
    assert response.status_code == 302
    assert response["Location"] == LOGIN + "?next=%2Fconsole%2F"
    page = client.get(LOGIN).text
    assert "Connexion à la console des établissements" in page
    assert '<label class="fr-label" for="id_email">' in page


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(client, member):
    wrong = client.post(LOGIN, {"email": member.email, "password": "Pas#Le-Bon-1"})
    unknown = client.post(LOGIN, {"email": "inconnu@ac-normandie.fr", "password": "Pas#Le-Bon-1"})
    assert wrong.status_code == unknown.status_code == 400
    assert REFUSED in wrong.text
    assert REFUSED in unknown.text
    assert authentication.PENDING_KEY not in client.session
    assert helpers.events(EventTag.CONSOLE_LOGIN_FAILURE, staff=member.pk)
    assert helpers.events(EventTag.CONSOLE_LOGIN_FAILURE, email="inconnu@ac-normandie.fr")


def test_a_family_account_cannot_log_in_to_the_console(client):
    account, _, password = factories.guardian_account()
    response = client.post(LOGIN, {"email": f"{account.identifier}@x.fr", "password": password})
    assert response.status_code == 400


def test_the_right_password_alone_opens_nothing(client, member):
    response = client.post(LOGIN, {"email": member.email.upper(), "password": helpers.STAFF_PASSWORD})
    assert response["Location"] == CODE
    assert authentication.STAFF_KEY not in client.session
    assert client.get(reverse("console:home")).status_code == 302
    page = client.get(CODE).text
    assert "Code de vérification" in page
    assert "Quitter la console" not in page  # no console navigation before the code


def test_a_wrong_code_is_refused_and_audited(client, member):
    client.post(LOGIN, {"email": member.email, "password": helpers.STAFF_PASSWORD})
    good = helpers.code_for(member)
    wrong = other_code(good, by=500_000)
    response = client.post(CODE, {"code": wrong})
    assert response.status_code == 400
    assert "Code incorrect." in response.text
    assert authentication.STAFF_KEY not in client.session
    assert helpers.events(EventTag.CONSOLE_TOTP_FAILURE, staff=member.pk)


def test_the_right_code_opens_the_console_with_a_new_session_key(client, member):
    client.post(LOGIN, {"email": member.email, "password": helpers.STAFF_PASSWORD})
    before = client.session.session_key
    response = client.post(CODE, {"code": helpers.code_for(member)})
    assert response.status_code == 302
    assert client.session.session_key != before
    assert client.session[authentication.STAFF_KEY] == member.pk
    assert client.get(reverse("console:home"), follow=True).status_code == 200
    [event] = helpers.events(EventTag.CONSOLE_LOGIN_SUCCESS, staff=member.pk)
    assert event.data["school"] == member.school.uai
    assert event.data["staff_email"] == member.email
    member.refresh_from_db()
    assert member.last_login_at is not None


@pytest.mark.parametrize("offset", [-1, 1])
def test_a_code_one_step_off_is_accepted(client, member, offset):
    assert helpers.log_in(client, member, offset_steps=offset).status_code == 302


def test_a_code_two_steps_off_is_refused(client, member):
    assert helpers.log_in(client, member, offset_steps=2).status_code == 400


def test_the_same_code_does_not_open_a_second_session(member):
    first, second = Client(), Client()
    code = helpers.code_for(member)
    for browser in (first, second):
        browser.post(LOGIN, {"email": member.email, "password": helpers.STAFF_PASSWORD})
    assert first.post(CODE, {"code": code}).status_code == 302
    response = second.post(CODE, {"code": code})
    assert response.status_code == 400
    assert "Ce code a déjà servi." in response.text
    assert helpers.events(EventTag.CONSOLE_TOTP_REUSED, staff=member.pk)
    assert authentication.STAFF_KEY not in second.session


def test_password_failures_are_throttled_like_the_mire(client, member, settings):
    settings.THROTTLE_ACCOUNT_FREE_FAILURES = 2
    for _ in range(3):
        client.post(LOGIN, {"email": member.email, "password": "Pas#Le-Bon-1"})
    response = client.post(LOGIN, {"email": member.email, "password": helpers.STAFF_PASSWORD})
    assert response.status_code == 400
    assert "Trop de tentatives." in response.text
    assert helpers.events(EventTag.CONSOLE_LOGIN_THROTTLED, email=member.email)


def test_code_failures_are_throttled_too(client, member, settings):
    settings.THROTTLE_ACCOUNT_FREE_FAILURES = 1
    client.post(LOGIN, {"email": member.email, "password": helpers.STAFF_PASSWORD})
    for _ in range(2):
        client.post(CODE, {"code": "000000" if helpers.code_for(member) != "000000" else "111111"})
    response = client.post(CODE, {"code": helpers.code_for(member)})
    assert response.status_code == 400
    assert "Trop de tentatives." in response.text


def test_the_pending_login_expires(client, member, settings):
    settings.CONSOLE_PENDING_LOGIN_LIFESPAN = timedelta(seconds=0)
    client.post(LOGIN, {"email": member.email, "password": helpers.STAFF_PASSWORD})
    response = client.post(CODE, {"code": helpers.code_for(member)}, follow=True)
    assert "Votre connexion a expiré." in response.text
    assert authentication.STAFF_KEY not in client.session


def test_an_idle_session_is_closed_and_audited(member, settings):
    browser = helpers.console(member)
    session = browser.session
    session[authentication.SEEN_KEY] = (timezone.now() - timedelta(minutes=16)).isoformat()
    session.save()
    response = browser.get(reverse("console:school", args=[member.school.uai]), follow=True)
    assert "Votre session a été fermée après une période d'inactivité." in response.text
    assert response.redirect_chain[0][0].startswith(LOGIN)
    assert helpers.events(EventTag.CONSOLE_SESSION_EXPIRED, staff=member.pk)
    assert authentication.STAFF_KEY not in browser.session


def test_activity_keeps_the_session_alive(member):
    browser = helpers.console(member)
    session = browser.session
    session[authentication.SEEN_KEY] = (timezone.now() - timedelta(minutes=14)).isoformat()
    session.save()
    assert browser.get(reverse("console:school", args=[member.school.uai])).status_code == 200
    seen = browser.session[authentication.SEEN_KEY]
    assert timezone.now() - datetime.fromisoformat(seen) < timedelta(seconds=5)


def test_a_withdrawn_access_or_a_new_password_ends_the_session(member):
    browser = helpers.console(member)
    url = reverse("console:school", args=[member.school.uai])
    member.set_password("Autre#MotDePasse-2025")
    member.save()
    assert browser.get(url).status_code == 302
    other = helpers.staff(StaffRole.SECRETARIAT, school=member.school)
    browser = helpers.console(other)
    StaffMember.objects.filter(pk=other.pk).update(is_active=False)
    assert browser.get(url).status_code == 302


def test_logout_ends_the_staff_session_but_not_a_family_login(member):
    from tests.accounts.helpers import active_guardian, logged_in

    account = active_guardian()
    browser = logged_in(account)
    helpers.log_in(browser, member)
    assert browser.get(reverse("console:school", args=[member.school.uai])).status_code == 200
    # The key rotated, and the family's list of sessions followed it.
    assert AccountSession.objects.get(account=account).session_key == browser.session.session_key
    response = browser.post(reverse("console:logout"), follow=True)
    assert "Vous êtes déconnecté(e) de la console." in response.text
    assert browser.get(reverse("console:school", args=[member.school.uai])).status_code == 302
    assert browser.get(reverse("accounts:home")).status_code == 200
    assert helpers.events(EventTag.CONSOLE_LOGOUT, staff=member.pk)


def test_the_family_login_does_not_open_the_console(member):
    from tests.accounts.helpers import active_guardian, logged_in

    browser = logged_in(active_guardian())
    assert browser.get(reverse("console:home")).status_code == 302


def test_next_is_kept_through_both_steps_and_only_inside_the_console(client, member):
    target = reverse("console:search", args=[member.school.uai])
    client.post(LOGIN, {"email": member.email, "password": helpers.STAFF_PASSWORD, "next": target})
    assert client.post(CODE, {"code": helpers.code_for(member)})["Location"] == target
    other = Client()
    other.post(LOGIN, {"email": member.email, "password": helpers.STAFF_PASSWORD, "next": "https://evil.example/"})
    assert other.post(CODE, {"code": helpers.code_for(member, offset_steps=1)})["Location"] == reverse("console:home")
