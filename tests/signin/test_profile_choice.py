"""The mire's "Je suis : Élève / Responsable d'élève": what it hides, and what it refuses (signin/mire.py)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.federation.conftest import active_guardian
from trousseau.accounts.models import Account, AccountState
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.flows.models import Flow

pytestmark = pytest.mark.django_db

GUARDIAN_PROFILE = "Ce compte est un compte de responsable d'élève : choisissez « Responsable d'élève »."
PUPIL_PROFILE = "Ce compte est un compte d'élève : choisissez « Élève »."
FAILED = "Identifiant ou mot de passe incorrect."


def active_pupil() -> Account:
    account, _, _ = factories.pupil_account()
    account.state = AccountState.ACTIVE
    account.activated_at = timezone.now()
    account.set_password(factories.GOOD_PASSWORD)
    account.save()
    return account


def post_mire(client: Client, identifier: str, password: str, profile: str | None):
    data = {"identifier": identifier, "password": password}
    if profile is not None:
        data["profile"] = profile
    return client.post(reverse("flows:login"), data)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def login_tags(account: Account) -> list[str]:
    found = AuditEvent.objects.filter(account=account, tag__startswith="account:login:")
    return list(found.values_list("tag", flat=True))


def test_a_guardian_who_chose_eleve_is_told_their_profile_and_not_logged_in(client):
    account = active_guardian()
    page = post_mire(client, account.identifier, factories.GOOD_PASSWORD, "eleve")
    assert page.status_code == 200
    assert GUARDIAN_PROFILE in page.text
    assert not logged_in(client)
    # Not a login in "Mes dernières connexions", and the right password does not count as a failure.
    assert login_tags(account) == [EventTag.LOGIN_WRONG_PROFILE]
    assert post_mire(client, account.identifier, factories.GOOD_PASSWORD, "responsable").status_code == 302
    assert logged_in(client)


def test_a_pupil_who_chose_responsable_is_told_their_profile(client):
    account = active_pupil()
    page = post_mire(client, account.identifier, factories.GOOD_PASSWORD, "responsable")
    assert PUPIL_PROFILE in page.text
    assert not logged_in(client)
    assert post_mire(client, account.identifier, factories.GOOD_PASSWORD, "eleve")["Location"] == reverse(
        "accounts:home"
    )


def test_the_profile_is_never_said_before_the_password_was_right(client):
    account = active_guardian()
    wrong = post_mire(client, account.identifier, "Pas#LeBon12", "eleve").text
    unknown = post_mire(client, "personne.ici99", "Pas#LeBon12", "eleve").text
    for page in (wrong, unknown):
        assert FAILED in page
        assert "Ce compte est un compte" not in page
    assert not logged_in(client)


def test_a_letter_under_the_wrong_profile_starts_no_activation(client):
    account, _, letter_password = factories.pupil_account()
    page = post_mire(client, account.identifier, letter_password, "responsable")
    assert PUPIL_PROFILE in page.text
    assert not Flow.objects.exists()
    started = post_mire(client, account.identifier, letter_password, "eleve")
    assert re.fullmatch(r"/activation/[0-9a-f-]{36}/", started["Location"])


@pytest.mark.parametrize("make", [active_guardian, active_pupil])
def test_no_profile_at_all_still_logs_in_whoever_it_is(client, make):
    """Clients written for ÉduConnect before `typeUser`, and scripts, post no profile."""
    account = make()
    assert post_mire(client, account.identifier, factories.GOOD_PASSWORD, None).status_code == 302
    assert logged_in(client)
    assert login_tags(account) == [EventTag.LOGIN_SUCCESS]


def test_the_mire_wraps_what_pupils_do_not_use(client):
    html = client.get(reverse("flows:login")).text
    guardians_parts = re.findall(r'<div class="tr-for-guardians">(.*?)\n  </div>', html, re.DOTALL)
    assert len(guardians_parts) == 2
    assert "FranceConnect" in guardians_parts[0]
    assert "Je n'ai pas de compte" in guardians_parts[1]
    assert 'class="tr-card tr-mire"' in html
    assert 'value="eleve"' in html
    assert "tr-for-pupils" in html
