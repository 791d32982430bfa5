"""French first, English alongside: the language follows the browser or the switch, French by default."""

import re
from datetime import timedelta

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
        url, factories.activation_form(account, password="Password1!", password_confirm="Password1!"), headers=ENGLISH
    ).text
    errors = re.search(r'<div id="password-errors">(.*?)</div>', html, re.DOTALL)
    assert errors is not None
    assert "This password is too common" in errors.group(1)
    assert "Doit contenir" not in html
    assert "trop courant" not in html


def test_the_same_policy_error_stays_french_by_default(client):
    account, _, password = factories.guardian_account()
    url = login(client, account.identifier, password)["Location"]
    html = client.post(
        url, factories.activation_form(account, password="Password1!", password_confirm="Password1!")
    ).text
    assert "Ce mot de passe est trop courant" in html
    assert "This password is too common" not in html


def test_wrong_birth_dates_count_down_in_english(client):
    account, _, password = factories.guardian_account()
    url = login(client, account.identifier, password, headers=ENGLISH)["Location"]
    html = client.post(url, factories.activation_form(account, birth_date="1999-01-01"), headers=ENGLISH).text
    assert "The date of birth does not match. You have 4 attempts left." in html


def test_an_english_activation_gets_english_messages_and_email(client):
    account, _, password = factories.guardian_account()
    url = login(client, account.identifier, password, headers=ENGLISH)["Location"]
    response = client.post(
        url, factories.activation_form(account, email="sophie@example.fr"), follow=True, headers=ENGLISH
    )
    # "Votre compte est activé", with the email to confirm, then "Continuer" (to the account page here).
    assert f"Your username: <strong>{account.identifier}</strong>" in response.text
    assert "sophie@example.fr" in response.text
    assert "Manage my account" in client.get(reverse("accounts:home"), headers=ENGLISH).text
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Confirm your email address"
    assert f"Hello {account.first_name}," in mail.outbox[0].body
    assert "valid for 24 hours" in mail.outbox[0].body


# --- Six languages: the switch, the direction, the words (issue #17) -----------------------------------------

# The words each catalogue gives "Se connecter" and "Je n'ai pas de compte": the mire speaks the visitor's language.
MIRE_WORDS = {
    "fr": ("Se connecter", "Je n'ai pas de compte"),
    "en": ("Log in", "I don't have an account"),
    "ar": ("تسجيل الدخول", "ليس لدي حساب"),
    "es": ("Iniciar sesión", "No tengo cuenta"),
    "pt": ("Iniciar sessão", "Não tenho conta"),
    "tr": ("Giriş yap", "Hesabım yok"),
}
LANGUAGE_CODES = [code for code, _name in django_settings.LANGUAGES]
# The switch's buttons: `value` is the language set, `lang` the language of the button's own words.
SWITCH_BUTTON = re.compile(
    r'<button class="fr-translate__language[^"]*" name="language" value="(\w+)" lang="(\w+)"[^>]*>\s*([^<]+?)\s*</button>'
)


def offered(html: str) -> list[tuple[str, str, str]]:
    """The languages the header's switch offers (once: base.html has it in the header and in the phone menu)."""
    buttons = SWITCH_BUTTON.findall(html)
    half = len(buttons) // 2
    assert buttons[:half] == buttons[half:], "the phone menu offers what the header offers"
    return buttons[:half]


def test_the_languages_offered_are_the_six_of_the_settings():
    assert LANGUAGE_CODES == ["fr", "en", "ar", "es", "pt", "tr"]
    assert set(MIRE_WORDS) == set(LANGUAGE_CODES)


@pytest.mark.parametrize("lang", LANGUAGE_CODES)
def test_the_mire_speaks_each_language_in_its_direction(client, lang):
    html = client.get("/", headers={"Accept-Language": lang}).text
    direction = "rtl" if lang == "ar" else "ltr"
    assert f'<html lang="{lang}" dir="{direction}"' in html
    log_in, no_account = MIRE_WORDS[lang]
    assert f">{log_in}</button>" in html
    assert no_account in html
    for other, (words, _) in MIRE_WORDS.items():
        if other != lang:
            assert f">{words}</button>" not in html, other


@pytest.mark.parametrize("lang", LANGUAGE_CODES)
def test_the_switch_offers_the_six_languages_each_in_its_own_words(client, lang):
    html = client.get("/", headers={"Accept-Language": lang}).text
    assert offered(html) == [
        ("fr", "fr", "FR - Français"),
        ("en", "en", "EN - English"),
        ("ar", "ar", "AR - العربيّة"),
        ("es", "es", "ES - Español"),
        ("pt", "pt", "PT - Português"),
        ("tr", "tr", "TR - Türkçe"),
    ]
    # The current language is marked, and the switch posts to Django's set_language with the page to come back to.
    assert re.search(rf'value="{lang}" lang="{lang}" aria-current="true"', html)
    assert html.count('aria-current="true"') == 2  # the header's switch and the phone menu's
    assert f'action="{reverse("set_language")}" method="post"' in html
    assert html.count('<nav role="navigation" class="fr-translate fr-nav') == 2


@pytest.mark.parametrize("lang", ["ar", "tr"])
def test_choosing_a_language_sticks_and_arabic_turns_the_page_right_to_left(client, lang):
    response = client.post(reverse("set_language"), {"language": lang, "next": "/identifiant-perdu/"})
    assert response.status_code == 302
    assert response["Location"] == "/identifiant-perdu/"
    html = client.get("/identifiant-perdu/").text  # no header: the choice is remembered
    assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}"' in html
    assert MIRE_WORDS["fr"][1] not in html


def test_the_console_offers_french_and_english_only(client):
    html = client.get(reverse("console:login")).text
    assert [code for code, _lang, _words in offered(html)] == ["fr", "en"]


def test_country_names_follow_the_language_and_the_dialling_codes_stay(client):
    french = client.get(reverse("flows:self_registration_identity")).text
    for option in ["+33 France métropolitaine", "+49 Allemagne", "+351 Portugal", "+90 Turquie", "+212 Maroc"]:
        assert f">{option}</option>" in french, option
    english = client.get(reverse("flows:self_registration_identity"), headers=ENGLISH).text
    for option in ["+49 Germany", "+41 Switzerland", "+34 Spain", "+212 Morocco", "+213 Algeria"]:
        assert f">{option}</option>" in english, option
    assert "Allemagne" not in english
    # Right to left, a left-to-right mark keeps "+33" from showing as "33+".
    arabic = client.get(reverse("flows:self_registration_identity"), headers={"Accept-Language": "ar"}).text
    assert re.search(r'<option value="FR" selected>\u200e\+33 ', arabic)
    assert "\u200e" not in french


def test_nom_is_the_surname_on_the_identity_form_and_the_full_name_on_the_account_page(client):
    html = client.get(reverse("flows:self_registration_identity"), headers=ENGLISH).text
    assert label(html, "id_last_name") == "Last name"
    assert label(html, "id_first_name") == "First name"
    account, _, password = factories.guardian_account()
    url = login(client, account.identifier, password, headers=ENGLISH)["Location"]
    home = client.post(url, factories.activation_form(account), follow=True, headers=ENGLISH).text
    assert re.search(rf"<dt>Name</dt><dd>{account.first_name} {account.last_name.upper()}</dd>", home)


@pytest.mark.parametrize(
    ("headers", "moment"),
    [
        # Django's localized formats: 06/12/2026 14:35 in French, 12/06/2026 2:35 p.m. in English.
        ({}, r"\d\d/\d\d/\d{4} \d\d:\d\d</td>"),
        (ENGLISH, r"\d\d/\d\d/\d{4} \d{1,2}(:\d\d)? [ap]\.m\.</td>"),
    ],
)
def test_the_account_page_shows_dates_and_times_in_the_locale(client, headers, moment):
    account, _, password = factories.guardian_account()
    url = login(client, account.identifier, password, headers=headers)["Location"]
    home = client.post(url, factories.activation_form(account), follow=True, headers=headers).text
    sessions = re.search(r'aria-labelledby="sessions-title".*?</table>', home, re.DOTALL)
    assert sessions is not None
    assert re.search(moment, sessions.group(0)), sessions.group(0)
