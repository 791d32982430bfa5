"""French first, English alongside: the language follows the browser or the switch, French by default."""

import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests import factories

pytestmark = pytest.mark.django_db
ENGLISH = {"Accept-Language": "en"}
ENGLISH_MIRE = [
    "Access the digital services of your schools",
    "I am",
    "Pupil",
    "Parent or guardian",
    "Sign in with",
    "FranceConnect",
    "Username",
    "Password",
    "Log in",
    "Forgotten username",
    "Forgotten password",
    "I don't have an account",
]


@pytest.fixture(autouse=True)
def _back_to_french():
    """The test client leaves the last request's language active in this thread: later tests get French."""
    yield
    translation.deactivate()


def label(html: str, field: str) -> str:
    """The text a real `<label for=...>` gives the field (its first line, before any hint)."""
    found = re.search(rf'<label[^>]*\bfor="{field}"[^>]*>\s*([^<\n]+)', html)
    assert found is not None, f"no <label for={field}>"
    return found.group(1).strip()


def login(client: Client, identifier: str, password: str, headers: dict[str, str] | None = None):
    data = {"identifier": identifier, "password": password, "profile": "responsable"}
    return client.post(reverse("flows:login"), data, headers=headers)


def activation_data(account, **overrides):
    data = {
        "password": factories.GOOD_PASSWORD,
        "password_confirm": factories.GOOD_PASSWORD,
        "birth_date": account.known_birth_dates()[0].isoformat(),
        "email": "",
    }
    return {**data, **overrides}


def test_french_is_the_default_without_a_language_header(client):
    html = client.get("/").text
    assert '<html lang="fr"' in html
    assert label(html, "id_identifier") == "Identifiant"
    assert label(html, "id_password") == "Mot de passe"
    assert "Se connecter" in html
    assert "Log in" not in html


def test_an_unsupported_browser_language_falls_back_to_french(client):
    html = client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9"}).text
    assert '<html lang="fr"' in html
    assert "Se connecter" in html


@pytest.mark.parametrize("path", ["/", "/login"])
def test_the_mire_speaks_english_to_an_english_browser_with_real_labels(client, path):
    html = client.get(path, headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"}).text
    assert '<html lang="en"' in html
    for words in ENGLISH_MIRE:
        assert words in html, words
    assert label(html, "id_identifier") == "Username"
    assert label(html, "id_password") == "Password"
    for french in ["Se connecter", "Identifiant perdu", "Mot de passe perdu", "Je n'ai pas de compte"]:
        assert french not in html, french


def test_the_language_switch_sticks_and_switches_back(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").text  # no header: the choice is remembered
    assert '<html lang="en"' in html
    assert label(html, "id_identifier") == "Username"
    assert 'name="language" value="fr"' in html  # the switch now offers French
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    html = client.get("/").text
    assert label(html, "id_identifier") == "Identifiant"
    assert 'name="language" value="en"' in html


def test_login_refusals_are_in_english(client):
    account, _, _ = factories.guardian_account()
    assert "Incorrect username or password." in login(client, account.identifier, "Whatever#123", headers=ENGLISH).text
    html = client.post(reverse("flows:login"), {}, headers=ENGLISH).text
    assert "Enter your username." in html
    assert "Enter your password." in html


@pytest.mark.parametrize(
    ("base_delay", "english", "french"),
    [
        (timedelta(seconds=30), "Please wait 1 minute before", "Patientez 1 minute avant"),
        (timedelta(minutes=5), "Please wait 5 minutes before", "Patientez 5 minutes avant"),
    ],
)
def test_the_throttling_wait_is_a_real_plural_in_both_languages(client, settings, base_delay, english, french):
    settings.THROTTLE_ACCOUNT_FREE_FAILURES = 0
    settings.THROTTLE_BASE_DELAY = base_delay
    account, _, _ = factories.guardian_account()
    login(client, account.identifier, "Whatever#123")
    assert english in login(client, account.identifier, "Whatever#123", headers=ENGLISH).text
    assert french in login(client, account.identifier, "Whatever#123").text


def test_the_activation_page_and_its_password_policy_speak_english(client):
    account, _, password = factories.guardian_account()
    url = login(client, account.identifier, password, headers=ENGLISH)["Location"]
    page = client.get(url, headers=ENGLISH).text
    for words in [
        "Account activation",
        "Activate your account",
        "Password strength:",
        "Must contain 1 uppercase letter",
    ]:
        assert words in page, words
    assert label(page, "id_password") == "New password"
    assert label(page, "id_password_confirm") == "Confirm your password"
    assert label(page, "id_birth_date") == "Your date of birth"
    assert label(page, "id_email") == "Email (optional)"
    html = client.post(
        url, activation_data(account, password="Password1!", password_confirm="Password1!"), headers=ENGLISH
    ).text
    errors = re.search(r'<div id="password-errors">(.*?)</div>', html, re.DOTALL)
    assert errors is not None
    assert "This password is too common" in errors.group(1)
    assert "Doit contenir" not in html
    assert "trop courant" not in html


def test_the_same_policy_error_stays_french_by_default(client):
    account, _, password = factories.guardian_account()
    url = login(client, account.identifier, password)["Location"]
    html = client.post(url, activation_data(account, password="Password1!", password_confirm="Password1!")).text
    assert "Ce mot de passe est trop courant" in html
    assert "This password is too common" not in html


def test_wrong_birth_dates_count_down_in_english(client):
    account, _, password = factories.guardian_account()
    url = login(client, account.identifier, password, headers=ENGLISH)["Location"]
    html = client.post(url, activation_data(account, birth_date="1999-01-01"), headers=ENGLISH).text
    assert "The date of birth does not match. You have 4 attempts left." in html


def test_an_english_activation_gets_english_messages_and_email(client):
    account, _, password = factories.guardian_account()
    url = login(client, account.identifier, password, headers=ENGLISH)["Location"]
    response = client.post(url, activation_data(account, email="sophie@example.fr"), follow=True, headers=ENGLISH)
    # "Votre compte est activé", with the email to confirm, then "Continuer" (to the account page here).
    assert f"Your username: <strong>{account.identifier}</strong>" in response.text
    assert "sophie@example.fr" in response.text
    assert "Manage my account" in client.get(reverse("accounts:home"), headers=ENGLISH).text
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Confirm your email address"
    assert f"Hello {account.first_name}," in mail.outbox[0].body
    assert "valid for 24 hours" in mail.outbox[0].body


@dataclass
class Entry:
    msgid: str = ""
    context: str | None = None
    plural: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    obsolete: bool = False


def unquote(text: str) -> str:
    return text.strip()[1:-1].encode().decode("unicode_escape").encode("latin-1").decode()


FIELD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$')


def po_entry(block: str) -> Entry | None:
    """One blank-line-separated block of a .po file (gettext's own format, read without a dependency)."""
    entry, fields, key = Entry(), {}, ""
    for line in block.strip().splitlines():
        if line.startswith("#,"):
            entry.flags = [flag.strip() for flag in line[2:].split(",")]
        entry.obsolete |= line.startswith("#~")
        found = FIELD.match(line)
        if found:
            key = found.group(1)
            fields[key] = unquote(found.group(2))
        elif line.startswith('"') and key:
            fields[key] += unquote(line)
    if "msgid" not in fields and not entry.obsolete:
        return None
    entry.msgid = fields.get("msgid", "")
    entry.plural = fields.get("msgid_plural")
    entry.context = fields.get("msgctxt")
    entry.msgstrs = [text for name, text in fields.items() if name.startswith("msgstr")]
    return entry


def po_entries(po: Path) -> list[Entry]:
    blocks = po.read_text(encoding="utf-8").split("\n\n")
    return [entry for entry in map(po_entry, blocks) if entry is not None]


def placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\(\w+\)s|\{\w+\}", text))


TROUSSEAU = Path(django_settings.BASE_DIR) / "trousseau"
FAMILY_CATALOGUE = TROUSSEAU / "locale"
STAFF_CATALOGUES = [
    TROUSSEAU / "console" / "locale",
    TROUSSEAU / "provisioning" / "locale",
    TROUSSEAU / "directory" / "importers" / "locale",
]
SHIPPED = [(FAMILY_CATALOGUE, "en"), *((FAMILY_CATALOGUE, lang) for lang in django_settings.FAMILY_LANGUAGES)] + [
    (catalogue, "en") for catalogue in STAFF_CATALOGUES
]


def test_every_language_offered_has_its_catalogue_and_nothing_else_ships():
    offered = {code for code, _name in django_settings.LANGUAGES} - {"fr"}
    assert {lang for catalogue, lang in SHIPPED if catalogue == FAMILY_CATALOGUE} == offered
    found = {(po.parents[2], po.parents[1].name) for po in TROUSSEAU.glob("**/locale/*/LC_MESSAGES/django.po")}
    assert found == set(SHIPPED)


def nplurals(header: Entry) -> int:
    found = re.search(r"nplurals=(\d+)", header.msgstrs[0])
    assert found is not None
    return int(found.group(1))


@pytest.mark.parametrize(("catalogue", "lang"), SHIPPED, ids=[f"{c.parent.name}_{lang}" for c, lang in SHIPPED])
def test_each_shipped_catalogue_is_complete_and_compiled(catalogue: Path, lang: str):
    """No message missing, untranslated or fuzzy, placeholders kept, and django.mo compiled from it."""
    folder = catalogue / lang / "LC_MESSAGES"
    header, *messages = po_entries(folder / "django.po")
    assert header.msgid == ""
    assert "fuzzy" not in header.flags
    assert f"Language: {lang}" in header.msgstrs[0]
    assert messages
    with (folder / "django.mo").open("rb") as compiled:
        mo = gettext.GNUTranslations(compiled)
    forms = nplurals(header)
    for entry in messages:
        assert not entry.obsolete, entry.msgid
        assert "fuzzy" not in entry.flags, f"fuzzy in {lang}: {entry.msgid!r}"
        assert entry.msgstrs, entry.msgid
        assert all(entry.msgstrs), f"untranslated in {lang}: {entry.msgid!r}"
        if entry.plural is None:
            assert placeholders(entry.msgstrs[0]) == placeholders(entry.msgid), f"{lang}: {entry.msgid!r}"
            compiled = mo.pgettext(entry.context, entry.msgid) if entry.context else mo.gettext(entry.msgid)
            assert compiled == entry.msgstrs[0], f"django.mo is stale: {entry.msgid!r}"
        else:
            assert len(entry.msgstrs) == forms, entry.msgid
            for text in entry.msgstrs:  # a form may drop the count ("un seul essai"), never invent a name
                assert set(placeholders(text)) <= set(placeholders(entry.plural)), f"{lang}: {entry.msgid!r}"
            assert mo.ngettext(entry.msgid, entry.plural, 1) in entry.msgstrs, entry.msgid


def test_every_message_of_the_code_is_in_the_catalogues(tmp_path: Path):
    """`make messages` was run: extracting the code's messages afresh finds none the catalogues lack."""
    copy = tmp_path / "trousseau"
    shutil.copytree(TROUSSEAU, copy, ignore=shutil.ignore_patterns("*.mo", "__pycache__", "static"))
    shutil.copy(Path(django_settings.BASE_DIR) / "manage.py", tmp_path)
    for po in copy.glob("**/locale/*/LC_MESSAGES/django.po"):
        po.write_text(po.read_text(encoding="utf-8").split("\n\n", 1)[0] + "\n", encoding="utf-8")  # header only
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-wrap"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env={**os.environ, "TROUSSEAU_SECRET_KEY": "catalogue-check"},
    )
    for catalogue in [FAMILY_CATALOGUE, *STAFF_CATALOGUES]:
        fresh = {
            entry.msgid for entry in po_entries(copy / catalogue.relative_to(TROUSSEAU) / "en/LC_MESSAGES/django.po")
        }
        kept = {entry.msgid for entry in po_entries(catalogue / "en" / "LC_MESSAGES" / "django.po")}
        assert fresh - kept == set(), f"run `make messages`: {sorted(fresh - kept)[:5]}"
