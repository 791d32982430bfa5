"""The recovery journeys walked in Chromium against the live server (seeds 001, 004): "Identifiant perdu"
by SMS and "Mot de passe perdu" by email and by SMS.

SMS are read from the dev outbox, as the phone they were sent to would show them; emails come through a
real SMTP server. axe-core checks every page type passed through.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.hashers import check_password
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import Demo, Letter, Phone
from tests.browser.guardians import account_of, activate, single_record_guardian
from tests.browser.steps import (
    COUNTRY_FRANCE,
    MIRE_TITLE,
    choose,
    choose_password_watching_the_rules,
    expect_accessible,
    expect_account_home,
    fill_activation,
    log_in,
    log_out,
    national,
    refuse_personal_password,
    submit_activation,
    type_code,
    unaccented,
    wrong_code,
)
from tests.smtp import Mailbox
from trousseau.accounts.models import AccountState
from trousseau.directory.models import Guardian

pytestmark = pytest.mark.browser

PASSWORD = "Cartable#Violet42"
NEW_PASSWORD = "Trousse!Orange73"
OLD_PASSWORD = "Ancien#Cahier58"
INVALID_MOBILE = "Ce numéro n'est pas un numéro de téléphone portable valide pour l'indicatif choisi."
BY_SMS = "Par SMS (numéro enregistré par l'établissement, ou votre numéro vérifié)"
BY_EMAIL = "Par email (adresse vérifiée)"
CONTACT = re.compile("^Adresse email ou numéro de téléphone portable")
IDENTIFIER_ANSWER = (
    "Si ces informations correspondent à un compte, votre identifiant vient de vous être envoyé. "
    "Pensez à vérifier vos courriers indésirables."
)
LINK_ANSWER = (
    "Si cet identifiant correspond à un compte dont l'adresse email a été vérifiée, un lien pour changer "
    "votre mot de passe vient d'y être envoyé. Il est valable 1 heure."
)
CODE_ANSWER = (
    "Si cet identifiant correspond à un compte et qu'un numéro de téléphone portable a été enregistré par "
    "l'établissement, un code de sécurité (valable 30 min) vient d'y être envoyé."
)
PASSWORD_CHANGED = "Votre mot de passe a été modifié. Connectez-vous avec votre nouveau mot de passe."
LOGIN_FAILED = "Identifiant ou mot de passe incorrect."
# Numbers no demo record carries: one in metropolitan France, one in La Réunion.
UNKNOWN_MOBILE = "+33699999999"
REUNION_MOBILE = "+262692123456"
COUNTRY_REUNION = "+262 La Réunion, Mayotte"


# --- 2. "Identifiant perdu" by SMS ------------------------------------------------------------------------


def _ask_identifier_by_sms(page: Page, mobile: str, *, country: str = COUNTRY_FRANCE) -> None:
    page.goto("/")
    page.get_by_role("link", name="Identifiant perdu").click()
    expect(page.get_by_role("heading", name="Identifiant perdu")).to_be_visible()
    page.get_by_role("combobox", name=re.compile("^Indicatif")).select_option(label=country)
    page.get_by_role("textbox", name=CONTACT).fill(mobile)
    page.get_by_role("button", name="Recevoir mon identifiant").click()


def _expect_identifier_answer(page: Page) -> str:
    expect(page.get_by_role("heading", name="Demande enregistrée")).to_be_visible()
    expect(page.locator("#recovery-answer")).to_have_text(IDENTIFIER_ANSWER)
    return page.get_by_role("main").inner_text()


def test_lost_identifier_by_sms(page: Page, demo: Demo, phone: Phone) -> None:
    guardian = single_record_guardian(demo)
    # The account is activated with its letter, as the family did at the start of the year.
    log_in(page, guardian.identifier, guardian.provisional_password)
    fill_activation(page, password=PASSWORD, birth_date=guardian.birth_date)
    submit_activation(page)
    expect_account_home(page, guardian.identifier)
    log_out(page)

    page.goto("/")
    page.get_by_role("link", name="Identifiant perdu").click()
    expect(page.get_by_role("heading", name="Identifiant perdu")).to_be_visible()
    expect_accessible(page, "the lost identifier page")
    page.get_by_role("button", name="Recevoir mon identifiant").click()
    expect(page.get_by_text("Indiquez votre adresse email ou votre numéro de téléphone portable.")).to_be_visible()
    expect(page.get_by_role("textbox", name=CONTACT)).to_have_attribute("aria-invalid", "true")
    expect_accessible(page, "the lost identifier page with errors")

    _ask_identifier_by_sms(page, national(guardian.phone))
    answer = _expect_identifier_answer(page)
    expect_accessible(page, "the identifier-sent page")
    # The SMS leaves once the answer is sent (issue #15 finding 10): wait for it.
    assert phone.wait_for(guardian.phone) == f"Trousseau : votre identifiant est {guardian.identifier}."
    assert len(phone.messages(guardian.phone)) == 1

    # A number no school recorded, and a parent who has not activated: the same page, no SMS.
    provisional = next(
        letter
        for letter in demo.guardians
        if letter.phone and account_of(letter.identifier).state == AccountState.PROVISIONAL
    )
    for mobile in (UNKNOWN_MOBILE, provisional.phone):
        _ask_identifier_by_sms(page, national(mobile))
        assert _expect_identifier_answer(page) == answer
        assert phone.messages(mobile) == []
    assert phone.total() == 1

    # The school now records a number in La Réunion: it must be typed with its country code.
    Guardian.objects.filter(account_link__account__identifier=guardian.identifier).update(mobile=REUNION_MOBILE)
    _ask_identifier_by_sms(page, national(REUNION_MOBILE))
    expect(page.get_by_text(INVALID_MOBILE)).to_be_visible()
    expect_accessible(page, "the lost identifier page with a number from another country")
    _ask_identifier_by_sms(page, national(REUNION_MOBILE), country=COUNTRY_REUNION)
    assert _expect_identifier_answer(page) == answer
    assert phone.wait_for(REUNION_MOBILE) == f"Trousseau : votre identifiant est {guardian.identifier}."


# --- 3. "Mot de passe perdu" -----------------------------------------------------------------------------


def _ask_new_password(page: Page, identifier: str, channel: str) -> None:
    page.goto("/")
    page.get_by_role("link", name="Mot de passe perdu").click()
    expect(page.get_by_role("heading", name="Mot de passe perdu")).to_be_visible()
    page.get_by_label("Identifiant").fill(identifier)
    choose(page, channel)
    page.get_by_role("button", name="Continuer").click()


def _expect_link_answer(page: Page) -> str:
    expect(page.get_by_role("heading", name="Demande enregistrée")).to_be_visible()
    expect(page.locator("#recovery-answer")).to_have_text(LINK_ANSWER)
    return page.get_by_role("main").inner_text()


def _expect_code_page(page: Page) -> str:
    expect(page.get_by_role("heading", name="Je saisis le code de sécurité")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/mot-de-passe-perdu/[0-9a-f-]{36}/$"))
    expect(page.locator("#recovery-answer")).to_have_text(CODE_ANSWER)
    return page.locator("#recovery-answer").inner_text()


def _expect_password_changed(page: Page) -> None:
    expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(PASSWORD_CHANGED)


def _lost_password_form_refuses_empty_answers(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Mot de passe perdu").click()
    expect(page.get_by_role("heading", name="Mot de passe perdu")).to_be_visible()
    expect_accessible(page, "the lost password page")
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_text("Saisissez votre identifiant.")).to_be_visible()
    expect(page.get_by_label("Identifiant")).to_have_attribute("aria-invalid", "true")
    # The choice's error is part of the group's name, so it is heard on the radio buttons too.
    expect(
        page.get_by_role("group", name=re.compile("Choisissez comment recevoir le code ou le lien."))
    ).to_be_visible()
    expect_accessible(page, "the lost password page with errors")


def _reset_link(mailbox: Mailbox, address: str, live_server: LiveServer) -> str:
    """The link in the email that went through SMTP."""
    message = mailbox.wait_for(address)
    assert message["Subject"] == "Changer votre mot de passe Trousseau"
    body = Mailbox.text(message)
    found = re.search(r"https?://\S+/mot-de-passe-perdu/lien/\S+/\S+/", body)
    assert found, body
    link = found.group(0)
    assert link.startswith(f"{live_server.url}/mot-de-passe-perdu/lien/")
    return link


def _refuse_a_password_with_the_name(page: Page, guardian: Letter) -> None:
    refused = f"{unaccented(guardian.last_name).replace(' ', '')}#Cartable42"
    refuse_personal_password(
        page, refused, submit="Changer mon mot de passe", where="the new password page with a refused password"
    )


def test_lost_password_by_email(
    page: Page, browser: Browser, demo: Demo, mailbox: Mailbox, live_server: LiveServer
) -> None:
    guardian, unverified = demo.guardians[0], demo.guardians[1]
    address = f"{guardian.identifier}@famille.example.fr"
    account = activate(guardian, password=OLD_PASSWORD, email=address, verified=True)
    activate(unverified, password=OLD_PASSWORD, email=f"{unverified.identifier}@famille.example.fr")

    # A session opened elsewhere with the old password, before the request.
    laptop = browser.new_context(base_url=live_server.url, locale="fr-FR")
    elsewhere = laptop.new_page()
    log_in(elsewhere, guardian.identifier, OLD_PASSWORD)
    expect_account_home(elsewhere, guardian.identifier)

    _lost_password_form_refuses_empty_answers(page)

    _ask_new_password(page, guardian.identifier.upper(), BY_EMAIL)
    answer = _expect_link_answer(page)
    expect_accessible(page, "the link-sent page")
    link = _reset_link(mailbox, address, live_server)

    # An unknown identifier and an account whose email is not verified: the same page, no email.
    for identifier in ("x.personne99", unverified.identifier):
        _ask_new_password(page, identifier, BY_EMAIL)
        assert _expect_link_answer(page) == answer
    assert len(mailbox.messages) == 1

    # The link opens "Choisissez un nouveau mot de passe"; the name is refused, then a good password.
    page.goto(link)
    expect(page.get_by_role("heading", name="Choisissez un nouveau mot de passe")).to_be_visible()
    expect_accessible(page, "the new password page")
    _refuse_a_password_with_the_name(page, guardian)
    choose_password_watching_the_rules(page, NEW_PASSWORD, submit="Changer mon mot de passe")
    _expect_password_changed(page)
    account.refresh_from_db()
    assert check_password(NEW_PASSWORD, account.password)

    # The other session was closed with the old password.
    elsewhere.goto("/compte/")
    expect(elsewhere.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
    laptop.close()

    log_in(page, guardian.identifier, OLD_PASSWORD)
    expect(page.get_by_role("alert")).to_have_text(LOGIN_FAILED)
    log_in(page, guardian.identifier, NEW_PASSWORD)
    expect_account_home(page, guardian.identifier)
    log_out(page)

    page.goto(link)
    expect(page.get_by_role("heading", name="Ce lien n'est plus valide")).to_be_visible()
    expect_accessible(page, "the invalid link page")


def test_lost_password_by_sms(page: Page, demo: Demo, phone: Phone) -> None:
    guardian = single_record_guardian(demo)
    account = activate(guardian, password=OLD_PASSWORD)

    # An unknown identifier gets the same code page, and any code is refused the same way.
    _ask_new_password(page, "x.personne99", BY_SMS)
    answer = _expect_code_page(page)
    type_code(page, "123456")
    expect(page.get_by_role("alert")).to_have_text("Ce code n'est pas le bon. Il vous reste 4 essais.")
    assert phone.total() == 0

    _ask_new_password(page, guardian.identifier, BY_SMS)
    assert _expect_code_page(page) == answer
    expect_accessible(page, "the lost password code page")
    code = Phone.code(phone.wait_for(guardian.phone))
    assert phone.total() == 1
    type_code(page, "12 34")
    expect(page.get_by_text("Le code de sécurité contient 6 chiffres.")).to_be_visible()
    type_code(page, wrong_code(code))
    expect(page.get_by_role("alert")).to_have_text("Ce code n'est pas le bon. Il vous reste 4 essais.")
    expect_accessible(page, "the lost password code page after a wrong code")
    type_code(page, code)

    expect(page.get_by_role("heading", name="Choisissez un nouveau mot de passe")).to_be_visible()
    choose_password_watching_the_rules(page, NEW_PASSWORD, submit="Changer mon mot de passe")
    _expect_password_changed(page)
    account.refresh_from_db()
    assert check_password(NEW_PASSWORD, account.password)

    log_in(page, guardian.identifier, OLD_PASSWORD)
    expect(page.get_by_role("alert")).to_have_text(LOGIN_FAILED)
    log_in(page, guardian.identifier, NEW_PASSWORD)
    expect_account_home(page, guardian.identifier)
