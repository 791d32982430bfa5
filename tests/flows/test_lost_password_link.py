"""The emailed reset link (security.md §7 checks 20-21): single use, short-lived, voided by a newer link,
never leaked by a Referer, always on the canonical address; every answer the same for any identifier."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests import factories
from trousseau.accounts.models import Account, AccountState
from trousseau.accounts.recovery import reset_tokens
from trousseau.flows.lost_password import transitions as lost_password

pytestmark = pytest.mark.django_db
IP = "203.0.113.8"
NEW = "Trousse#Neuve42"


@pytest.fixture
def account() -> Account:
    account, _, _ = factories.guardian_account()
    account.set_password(factories.GOOD_PASSWORD)
    account.state = AccountState.ACTIVE
    account.email = "sophie.dupont@example.fr"
    account.email_verified_at = timezone.now()
    account.save()
    return account


def _sent_link() -> str:
    found = re.search(r"https?://\S+/mot-de-passe-perdu/lien/\S+/", str(mail.outbox[-1].body))
    assert found, mail.outbox[-1].body
    return found.group(0)


def _path(link: str, public_url: str) -> str:
    assert link.startswith(public_url.rstrip("/") + "/")
    return link[len(public_url.rstrip("/")) :]


def _open(client: Client, path: str):
    """Follow the link as a mail client opens it: the token leaves the address for the session."""
    opened = client.get(path)
    assert opened.status_code == 302
    assert opened["Referrer-Policy"] == "no-referrer"
    assert opened["Location"].endswith("/nouveau/")
    assert path.rstrip("/").rsplit("/", 1)[1] not in opened["Location"]
    return client.get(opened["Location"])


def _use(client: Client, path: str, password: str = NEW):
    page = _open(client, path)
    if page.status_code != 200:
        return page
    return client.post(page.request["PATH_INFO"], {"password": password, "password_confirm": password})


def test_a_link_works_once(account, settings):
    lost_password.by_email(identifier=account.identifier, ip=IP)
    path = _path(_sent_link(), settings.PUBLIC_URL)
    assert _open(Client(), path).status_code == 200
    assert _use(Client(), path).status_code == 302
    account.refresh_from_db()
    assert account.check_password(NEW)
    assert _use(Client(), path, "Autre#Essai77").status_code == 400  # spent: the password changed
    account.refresh_from_db()
    assert account.check_password(NEW)


def test_a_newer_link_voids_the_older_one(account, settings):
    lost_password.by_email(identifier=account.identifier, ip=IP)
    older = _path(_sent_link(), settings.PUBLIC_URL)
    lost_password.by_email(identifier=account.identifier, ip=IP)
    newer = _path(_sent_link(), settings.PUBLIC_URL)
    assert older != newer
    assert _open(Client(), older).status_code == 400
    assert _open(Client(), newer).status_code == 200


def test_a_link_dies_after_its_lifetime(account, settings, monkeypatch):
    lost_password.by_email(identifier=account.identifier, ip=IP)
    path = _path(_sent_link(), settings.PUBLIC_URL)
    later = datetime.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)  # noqa: DTZ005 - Django's clock
    monkeypatch.setattr(reset_tokens, "_now", lambda: later)
    assert _open(Client(), path).status_code == 400


def test_a_link_is_written_with_the_canonical_address_whatever_the_host(account, settings):
    settings.PUBLIC_URL = "https://connexion.trousseau.example"
    settings.ALLOWED_HOSTS = ["testserver", "connexion.trousseau.example"]
    Client().post(
        "/mot-de-passe-perdu/", {"identifier": account.identifier, "channel": "email"}, HTTP_HOST="testserver"
    )
    assert _sent_link().startswith("https://connexion.trousseau.example/")
    assert Client().get("/login", HTTP_HOST="evil.example").status_code == 400  # not a host we serve


def test_every_identifier_gets_the_same_answer(account):
    answers = []
    for identifier in (account.identifier, "personne.inconnue42"):
        answer = Client().post("/mot-de-passe-perdu/", {"identifier": identifier, "channel": "email"})
        answers.append((answer.status_code, _without_csrf(answer.text)))
    assert answers[0] == answers[1]
    assert len(mail.outbox) == 1  # only the real account got a link


def _without_csrf(html: str) -> str:
    """The page without what differs on every answer anyway: the CSRF token and the CSP nonce."""
    return re.sub(r'(name="csrfmiddlewaretoken" value|nonce)="[^"]+"', "", html)
