"""The activation page over HTTP: every problem at once, "Votre compte est activé", the way on (issue #17)."""

from __future__ import annotations

from datetime import date
from html import unescape
from urllib.parse import unquote, urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.federation.oidc.conftest import authorize, register
from trousseau.accounts.models import Account, AccountState, ActivationLetter
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.flows.models import Flow

pytestmark = pytest.mark.django_db
WRONG_DAY = date(1999, 1, 1)


def login(client: Client, account: Account, password: str, **extra: str):
    data = {"identifier": account.identifier, "password": password, "profile": "responsable", **extra}
    return client.post(reverse("flows:login"), data)


def letter_failures(account: Account) -> int:
    return ActivationLetter.objects.get(account=account).birth_date_failures


def test_one_submit_reports_every_problem_and_counts_the_wrong_birth_date_once(client):
    account, _, password = factories.guardian_account(last_name="Bernardin")
    url = login(client, account, password)["Location"]
    response = client.post(
        url,
        factories.activation_form(
            account,
            password="Bernardin#2024",  # the last name: a policy violation
            password_confirm="Bernardin#2025",  # and not the same
            birth_date=WRONG_DAY.isoformat(),
        ),
    )
    assert response.status_code == 400
    html = response.text
    assert "Ne doit contenir ni votre identifiant ni votre nom ou prénom" in html
    assert "Les deux mots de passe ne sont pas identiques." in html
    assert "La date de naissance ne correspond pas. Il vous reste 4 essai(s)." in html
    assert letter_failures(account) == 1
    assert Flow.objects.get(account=account).failed_attempts == 1
    assert AuditEvent.objects.filter(account=account, tag=EventTag.ACTIVATION_BY_LETTER_FAILURE).count() == 1
    account.refresh_from_db()
    assert account.state == AccountState.PROVISIONAL


def test_a_right_birth_date_with_a_bad_password_counts_nothing(client):
    account, _, password = factories.guardian_account()
    url = login(client, account, password)["Location"]
    html = client.post(url, factories.activation_form(account, password="faible", password_confirm="faible")).text
    assert "Doit contenir 1 majuscule" in html
    assert "La date de naissance ne correspond pas" not in html
    assert letter_failures(account) == 0


def test_an_unreadable_birth_date_is_a_form_error_and_counts_nothing(client):
    account, _, password = factories.guardian_account()
    url = login(client, account, password)["Location"]
    html = client.post(
        url, factories.activation_form(account, birth_date="31/02/2012", password_confirm="Autre#Chose42")
    ).text
    assert "Saisissez une date valide" in html
    assert "Les deux mots de passe ne sont pas identiques." in html
    assert letter_failures(account) == 0


def test_the_password_rule_does_not_give_the_childs_birth_date_away(client):
    """Before the birth date is proven, "no birth date in the password" judges only the date typed:
    otherwise a letter's thief would try passwords until the rule named the child's birth date."""
    child = factories.pupil(birth_date=date(2012, 3, 14))
    account, _, password = factories.guardian_account(children=[child])
    url = login(client, account, password)["Location"]
    guess = "Cartable#14032012"
    html = client.post(
        url, factories.activation_form(account, password=guess, password_confirm=guess, birth_date="2011-05-06")
    ).text
    assert "Ne doit pas contenir de date de naissance" not in html
    assert "La date de naissance ne correspond pas" in html
    # The date typed is judged at once: it is no secret to the person typing it.
    html = client.post(
        url, factories.activation_form(account, password=guess, password_confirm=guess, birth_date="2012-03-14")
    ).text
    assert "Ne doit pas contenir de date de naissance" in html


def test_a_siblings_birth_date_is_refused_once_the_birth_date_is_proven(client):
    elder, younger = factories.pupil(birth_date=date(2010, 9, 1)), factories.pupil(birth_date=date(2013, 2, 3))
    account, _, password = factories.guardian_account(children=[elder, younger])
    url = login(client, account, password)["Location"]
    sibling = "Cartable#03022013"
    response = client.post(
        url, factories.activation_form(account, password=sibling, password_confirm=sibling, birth_date="2010-09-01")
    )
    assert response.status_code == 400
    assert "Ne doit pas contenir de date de naissance" in response.text
    account.refresh_from_db()
    assert account.state == AccountState.PROVISIONAL
    assert letter_failures(account) == 0
    # The page stays open: a good password now activates.
    assert client.post(url, factories.activation_form(account, birth_date="2010-09-01")).status_code == 302


def test_with_an_email_the_activated_page_says_so_and_leads_on(client):
    account, _, password = factories.guardian_account()
    url = login(client, account, password)["Location"]
    response = client.post(url, factories.activation_form(account, email="sophie@example.fr"))
    assert response.status_code == 302
    assert response["Location"] == url  # the same page, now "Votre compte est activé" (reloadable)
    html = client.get(url).text
    assert "Votre compte est activé" in html
    assert "Un email de confirmation a été envoyé à sophie@example.fr, cliquez sur le lien qu'il contient." in html
    assert f'href="{reverse("accounts:home")}">Continuer</a>' in html
    assert len(mail.outbox) == 1
    # Another browser sees nothing of it.
    assert Client().get(url).status_code == 403


def test_without_an_email_activation_goes_straight_on(client):
    account, _, password = factories.guardian_account()
    url = login(client, account, password)["Location"]
    response = client.post(url, factories.activation_form(account))
    assert response["Location"] == reverse("accounts:home")
    assert "Votre compte est activé." in client.get(response["Location"]).text
    assert not mail.outbox


def test_the_activated_page_continues_to_the_service_that_asked_for_the_login(client):
    rp = register(name="Pronote démo")
    to_mire = authorize(client, rp, challenge=None)
    assert to_mire.status_code == 302
    mire = to_mire["Location"]
    client.get(mire)  # the mire remembers where the login leads
    account, _, password = factories.guardian_account()
    next_url = dict(part.split("=", 1) for part in urlsplit(mire).query.split("&"))["next"]
    url = login(client, account, password, next=unquote(next_url))["Location"]
    assert client.post(url, factories.activation_form(account, email="sophie@example.fr"))["Location"] == url
    html = client.get(url).text
    assert "Continuer vers « Pronote démo »" in html
    assert f'href="{unquote(next_url)}"' in unescape(html)
