"""'Mon adresse email' on the account page: stored unverified, link sent, verified by the link."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests import factories
from tests.accounts.helpers import active_guardian, active_pupil, logged_in
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent

pytestmark = pytest.mark.django_db
URL = reverse("flows:change_email")
PASSWORD = {"current_password": factories.GOOD_PASSWORD}


def test_adding_an_email_sends_the_link_and_the_page_says_unverified_then_verified():
    account = active_guardian()
    client = logged_in(account)
    assert "Ajouter une adresse email" in client.get(reverse("accounts:home")).text
    html = client.post(URL, {"email": "sophie@example.fr", **PASSWORD}, follow=True).text
    assert "Un email de confirmation a été envoyé à sophie@example.fr." in html
    assert "sophie@example.fr" in html
    assert "non vérifié" in html
    assert "Renvoyer le mail" in html
    assert [m.to for m in mail.outbox] == [["sophie@example.fr"]]
    assert AuditEvent.objects.filter(tag=EventTag.EMAIL_CHANGED, account=account).exists()
    assert AuditEvent.objects.filter(tag=EventTag.EMAIL_VERIFICATION_SENT, account=account).exists()
    path = re.search(r"https?://[^/\s]+(/email/verifier/\S+/)", str(mail.outbox[0].body)).group(1)
    client.post(path)
    html = client.get(reverse("accounts:home")).text
    assert "non vérifié" not in html
    assert "vérifié" in html
    assert "Modifier mon adresse email" in html


def test_changing_an_unverified_email_replaces_it_and_voids_the_old_link():
    account = active_guardian()
    client = logged_in(account)
    client.post(URL, {"email": "old@example.fr", **PASSWORD})
    old_link = re.search(r"https?://[^/\s]+(/email/verifier/\S+/)", str(mail.outbox[-1].body)).group(1)
    client.post(URL, {"email": "new@example.fr", **PASSWORD})
    assert client.post(old_link).status_code == 400
    account.refresh_from_db()
    assert account.email == "new@example.fr"
    assert not account.email_verified


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("pas-une-adresse", "Saisissez une adresse email valide"),
        ("", "Indiquez votre adresse email."),
    ],
)
def test_bad_email_is_refused_and_changes_nothing(email, message):
    account = active_guardian()
    client = logged_in(account)
    response = client.post(URL, {"email": email, **PASSWORD})
    assert response.status_code == 400
    assert message in response.text
    account.refresh_from_db()
    assert account.email == ""
    assert not mail.outbox


def test_the_same_verified_address_is_refused():
    account = active_guardian()
    account.email = "sophie@example.fr"
    account.email_verified_at = account.activated_at
    account.save()
    response = logged_in(account).post(URL, {"email": "Sophie@Example.fr", **PASSWORD})
    assert "C'est déjà votre adresse email vérifiée." in response.text
    account.refresh_from_db()
    assert account.email_verified
    assert not mail.outbox


def test_a_pupil_is_told_the_age_rule():
    assert "moins de 15 ans" in logged_in(active_pupil()).get(URL).text


def test_the_email_page_requires_login(client):
    assert client.get(URL)["Location"].startswith(reverse("flows:login"))


def test_a_new_address_waits_for_its_link_while_the_verified_one_stays():
    account = active_guardian()
    account.email, account.email_verified_at = "sophie@example.fr", account.activated_at
    account.save()
    client = logged_in(account)
    html = client.post(URL, {"email": "nouvelle@example.net", **PASSWORD}, follow=True).text
    assert "votre adresse actuelle reste en place" in html
    assert "Nouvelle adresse en attente de confirmation : nouvelle@example.net" in html
    [notice, link_mail] = mail.outbox
    assert notice.to == ["sophie@example.fr"]
    assert link_mail.to == ["nouvelle@example.net"]
    client.post(reverse("flows:email_verification_resend"))
    assert mail.outbox[-1].to == ["nouvelle@example.net"]
    path = re.search(r"https?://[^/\s]+(/email/verifier/\S+/)", str(mail.outbox[-1].body)).group(1)
    assert client.get(path).status_code == 200
    client.post(path)
    account.refresh_from_db()
    assert (account.email, account.pending_email, account.email_verified) == ("nouvelle@example.net", "", True)


def test_without_the_password_nothing_changes_and_nothing_is_sent():
    account = active_guardian()
    client = logged_in(account)
    response = client.post(URL, {"email": "sophie@example.fr"})
    assert response.status_code == 400
    assert "Saisissez votre mot de passe actuel." in response.text
    response = client.post(URL, {"email": "sophie@example.fr", "current_password": "Pas#leBon1"})
    assert response.status_code == 400
    assert "Le mot de passe actuel est incorrect. Rien n'a été modifié." in response.text
    account.refresh_from_db()
    assert (account.email, account.pending_email) == ("", "")
    assert not mail.outbox
    assert AuditEvent.objects.filter(tag=EventTag.EMAIL_CHANGE_FAILURE, account=account).count() == 1
