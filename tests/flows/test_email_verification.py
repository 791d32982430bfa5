import re
import time

import pytest
from django.core import mail, signing
from django.urls import reverse

from tests import factories
from trousseau.accounts.models import AccountState
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.flows.email_verification import transitions as email_verification

pytestmark = pytest.mark.django_db


def active_account(email="sophie@example.fr"):
    account, _, _ = factories.guardian_account()
    account.state = AccountState.ACTIVE
    account.email = email
    account.save()
    return account


def link_path(account) -> str:
    email_verification.send(account)
    found = re.search(r"https?://[^/\s]+(/email/verifier/\S+/)", str(mail.outbox[-1].body))
    assert found is not None
    return found.group(1)


def test_the_link_verifies_once(client):
    account = active_account()
    path = link_path(account)
    assert "Confirmer mon adresse" in client.get(path).text
    account.refresh_from_db()
    assert account.email_verified_at is None  # a GET (mail scanners) verifies nothing
    html = client.post(path).text
    # Seed 004, step 4: on to the services ("Mes services"), not to "Gérer mon compte".
    assert f'<a class="fr-btn" href="{reverse("accounts:services")}">Accéder à mes services en ligne</a>' in html
    account.refresh_from_db()
    assert account.email_verified
    assert AuditEvent.objects.filter(tag=EventTag.EMAIL_VERIFICATION_SUCCESS, account=account).exists()
    replay = client.post(path)
    assert replay.status_code == 400
    assert "Ce lien n'est plus valide" in replay.text


def test_a_tampered_link_is_refused(client):
    path = link_path(active_account())
    tampered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    assert client.post(tampered).status_code == 400
    assert client.get(tampered).status_code == 400


def test_a_link_for_a_replaced_email_is_stale(client):
    account = active_account()
    path = link_path(account)
    account.email = "autre@example.fr"
    account.save()
    assert client.post(path).status_code == 400
    account.refresh_from_db()
    assert account.email_verified_at is None


def test_an_expired_link_is_refused(client, settings):
    path = link_path(active_account())
    settings.EMAIL_VERIFICATION_LIFESPAN = -1
    assert client.post(path).status_code == 400


@pytest.mark.parametrize(("hours", "status"), [(23.9, 200), (24.1, 400)])
def test_a_link_lives_24_hours(client, monkeypatch, hours, status):
    """ASVS: at most a day (security.md §7 check 23); the email says so."""
    account = active_account()
    path = link_path(account)
    assert "valable 24 heures" in mail.outbox[-1].body
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + hours * 3600)  # the clock signing reads
    assert client.post(path).status_code == status


def test_a_forged_token_with_another_key_is_refused(client):
    account = active_account()
    forged = signing.dumps({"a": account.pk, "e": account.email}, key="not-the-key", salt=email_verification.SALT)
    assert client.post(reverse("flows:email_verification", args=[forged])).status_code == 400
    assert AuditEvent.objects.filter(tag=EventTag.EMAIL_VERIFICATION_FAILURE).exists()


def test_resend_from_the_account_home(client):
    account = active_account()
    client.force_login(account)
    client.post(reverse("flows:email_verification_resend"))
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["sophie@example.fr"]
    assert mail.outbox[0].subject == "Confirmez votre adresse email"
