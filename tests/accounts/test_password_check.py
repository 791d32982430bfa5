"""The live password help's server side: the same verdict as the form, from a sealed context (issue #17)."""

from __future__ import annotations

import re
import time
from datetime import date
from html import unescape

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests import factories
from tests.accounts.helpers import active_guardian, logged_in
from trousseau.accounts import passwords
from trousseau.accounts.passwords import CheckContext, check_token

pytestmark = pytest.mark.django_db
CHECK = reverse("accounts:password_check")
LAST_NAME = "Bernardin"
CONTEXT = CheckContext(identifier="s.bernardin4", names=("Sophie", LAST_NAME), birth_dates=(date(2012, 3, 14),))


def ask(client: Client, password: str, context: CheckContext = CONTEXT, **extra: str):
    return client.post(CHECK, {"password": password, "context": check_token(context), **extra})


@pytest.mark.parametrize(
    ("password", "unmet", "other"),
    [
        (factories.GOOD_PASSWORD, [], None),
        ("cartable", ["upper", "digit", "special"], None),
        (f"{LAST_NAME}#2024", [], "Ne doit contenir ni votre identifiant ni votre nom ou prénom"),
        ("S.bernardin4!", [], "Ne doit contenir ni votre identifiant ni votre nom ou prénom"),
        ("Password1!", [], "Ce mot de passe est trop courant"),
        ("Cartable#14032012", [], "Ne doit pas contenir de date de naissance"),
        ("Cartable#2012-03-14", [], "Ne doit pas contenir de date de naissance"),
    ],
)
def test_the_verdict_is_the_forms(client, password, unmet, other):
    answer = ask(client, password).json()
    assert answer["unmet"] == unmet
    assert answer["others"] == ([other] if other else [])
    assert answer["accepted"] is (not unmet and not other)
    expected = passwords.password_problems(
        password, identifier=CONTEXT.identifier, names=CONTEXT.names, birth_dates=CONTEXT.birth_dates
    )
    assert answer["accepted"] is (not expected)


def test_the_date_typed_on_the_page_counts_too(client):
    context = CheckContext(identifier="s.bernardin4")
    assert ask(client, "Cartable#06052011", context).json()["accepted"]
    answer = ask(client, "Cartable#06052011", context, birth_date="2011-05-06").json()
    assert answer["others"] == ["Ne doit pas contenir de date de naissance"]
    assert ask(client, "Cartable#06052011", context, birth_date="pas une date").json()["accepted"]


def test_the_context_is_sealed_and_dated(client, monkeypatch):
    token = check_token(CONTEXT)
    assert LAST_NAME not in token
    assert "2012" not in token
    assert client.post(CHECK, {"password": "x", "context": token[:-4] + "AAAA"}).status_code == 400
    assert client.post(CHECK, {"password": "x"}).status_code == 400
    later = time.time() + passwords.CHECK_LIFESPAN + 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.post(CHECK, {"password": "x", "context": token}).status_code == 400


def test_the_check_is_post_only_and_throttled_per_address(client, monkeypatch):
    assert client.get(CHECK).status_code == 405
    cache.clear()
    monkeypatch.setattr(passwords, "CHECKS_PER_WINDOW", 2)
    assert ask(client, "x").status_code == 200
    assert ask(client, "x").status_code == 200
    assert ask(client, "x").status_code == 429
    assert ask(Client(REMOTE_ADDR="198.51.100.9"), "x").status_code == 200  # another address


def test_the_letters_password_is_refused_live_on_the_activation_page(client):
    account, _, password = factories.guardian_account()
    url = client.post(
        reverse("flows:login"), {"identifier": account.identifier, "password": password, "profile": "responsable"}
    )["Location"]
    page = client.get(url).text
    token = unescape(re.search(r'data-check-context="([^"]+)"', page).group(1))
    answer = client.post(CHECK, {"password": password, "context": token}).json()
    assert answer["others"] == ["Choisissez un mot de passe différent de celui du courrier."]
    assert client.post(CHECK, {"password": factories.GOOD_PASSWORD, "context": token}).json()["accepted"]
    # Before the birth date is proven, the page's context holds none of the account's dates.
    birth = account.known_birth_dates()[0].strftime("%d%m%Y")
    assert client.post(CHECK, {"password": f"Cartable#{birth}", "context": token}).json()["accepted"]


def test_the_pages_carry_the_check_and_translated_strength_words():
    account = active_guardian(last_name=LAST_NAME)
    client = logged_in(account)
    page = client.get(reverse("accounts:password")).text
    assert f'data-check-url="{CHECK}"' in page
    assert 'data-weak="Faible" data-medium="Moyen" data-strong="Fort"' in page
    token = unescape(re.search(r'data-check-context="([^"]+)"', page).group(1))
    assert client.post(CHECK, {"password": f"{LAST_NAME}#2024", "context": token}).json()["accepted"] is False
    with translation.override("fr"):  # the request switches this thread to English: back to French after
        english = client.get(reverse("accounts:password"), headers={"accept-language": "en"}).text
    # The words come from the catalogue ("Moyen" and "Fort" are new messages: the lead translates them).
    assert 'data-weak="Weak"' in english
