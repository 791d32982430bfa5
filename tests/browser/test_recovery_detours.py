"""The recovery detours end at the service where they began (issue #17), walked in Chromium.

A guardian starts at a demo service (the ENT's portal, or the téléservices-like, which has no portal),
reaches Trousseau's login page, takes "Identifiant perdu" or "Mot de passe perdu", and ends on the
service's home page, logged in. SMS are read from the dev outbox, emails from the SMTP mailbox.
"""

from __future__ import annotations

import re
import time
from email.message import EmailMessage
from email.utils import getaddresses

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.fixtures import Settings

from tests.browser.conftest import TIMEOUT_MS, Demo, Phone
from tests.browser.guardians import activate, single_record_guardian
from tests.browser.services import Service, expect_mire, expect_service_home, open_service_login, sign_in
from tests.browser.steps import (
    choose,
    choose_password_watching_the_rules,
    expect_accessible,
    national,
    read_sms_in_dev_outbox,
    type_code,
)
from tests.smtp import Mailbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OLD_PASSWORD = "Ancien#Cahier58"
NEW_PASSWORD = "Trousse!Orange73"
CONTACT = re.compile("^Adresse email ou numéro de téléphone portable")
BACK_TO_LOGIN = "Retour à la page de connexion"
PASSWORD_CHANGED = "Votre mot de passe a été modifié. Connectez-vous avec votre nouveau mot de passe."
GONE = "Votre demande de connexion n'est plus en cours"


# --- The guardians ------------------------------------------------------------------------------------


def _mail(mailbox: Mailbox, to: str, subject: str, timeout: float = 10) -> str:
    """The text of the email with this subject sent to `to`, waiting for it to arrive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in list(mailbox.messages):
            if message["Subject"] == subject and to in {a for _, a in getaddresses(message.get_all("To", []))}:
                assert isinstance(message, EmailMessage)
                return Mailbox.text(message)
        time.sleep(0.05)
    pytest.fail(f"no email {subject!r} to {to} within {timeout}s")


# --- Steps --------------------------------------------------------------------------------------------


def _ask_identifier(page: Page, typed: str, *, check_errors: bool = False) -> None:
    """From the service's login page: "Identifiant perdu", one field for the email or the mobile."""
    page.get_by_role("link", name="Identifiant perdu").click()
    expect(page.get_by_role("heading", name="Identifiant perdu")).to_be_visible()
    if check_errors:  # something that is neither an email address nor a mobile number
        page.get_by_role("textbox", name=CONTACT).fill("Dupont")
        page.get_by_role("button", name="Recevoir mon identifiant").click()
        expect(page.get_by_text("Saisissez une adresse email (par exemple nom@exemple.fr)")).to_be_visible()
        expect(page.get_by_role("textbox", name=CONTACT)).to_have_attribute("aria-invalid", "true")
        expect_accessible(page, "the lost identifier page with an error")
    page.get_by_role("textbox", name=CONTACT).fill(typed)
    page.get_by_role("button", name="Recevoir mon identifiant").click()
    expect(page.get_by_role("heading", name="Demande enregistrée")).to_be_visible()


def _back_to_the_login_page_and_sign_in(page: Page, service: Service, identifier: str, password: str) -> None:
    page.get_by_role("link", name=BACK_TO_LOGIN).click()
    expect_mire(page)
    sign_in(page, identifier, password)


def _ask_new_password(page: Page, identifier: str, channel: str) -> None:
    """From the service's login page: "Mot de passe perdu", the identifier and the channel."""
    page.get_by_role("link", name="Mot de passe perdu").click()
    expect(page.get_by_role("heading", name="Mot de passe perdu")).to_be_visible()
    page.get_by_label("Identifiant").fill(identifier)
    choose(page, channel)
    page.get_by_role("button", name="Continuer").click()


# --- "Identifiant perdu" ------------------------------------------------------------------------------


def test_lost_identifier_by_sms_from_the_ent_portal(
    page: Page, services: dict[str, Service], demo: Demo, phone: Phone, settings: Settings
) -> None:
    settings.DEBUG = True  # the dev outbox page, where the demo's SMS arrive
    ent, guardian = services["ent"], single_record_guardian(demo)
    activate(guardian, password=OLD_PASSWORD)

    open_service_login(page, ent)
    _ask_identifier(page, national(guardian.phone), check_errors=True)
    expect_accessible(page, "the identifier-sent page")
    phone.wait_for(guardian.phone)  # it leaves once the answer is sent
    sms = read_sms_in_dev_outbox(page, guardian.phone)
    assert sms == f"Trousseau : votre identifiant est {guardian.identifier}."
    identifier = sms.rsplit(" ", 1)[1].rstrip(".")

    _back_to_the_login_page_and_sign_in(page, ent, identifier, OLD_PASSWORD)
    expect_service_home(page, ent, guardian.first_name, guardian.last_name)


def test_lost_identifier_by_email_from_the_teleservices(
    page: Page, services: dict[str, Service], demo: Demo, mailbox: Mailbox
) -> None:
    teleservices, guardian = services["teleservices"], demo.guardians[0]
    address = f"{guardian.identifier}@famille.example.fr"
    activate(guardian, password=OLD_PASSWORD, email=address, verified=True)

    open_service_login(page, teleservices)
    _ask_identifier(page, address)
    body = _mail(mailbox, address, "Votre identifiant Trousseau")
    found = re.search(r"^\s+- (\S+) \(", body, re.MULTILINE)
    assert found, body
    assert found.group(1) == guardian.identifier

    _back_to_the_login_page_and_sign_in(page, teleservices, found.group(1), OLD_PASSWORD)
    expect_service_home(page, teleservices, guardian.first_name, guardian.last_name)


# --- "Mot de passe perdu" -----------------------------------------------------------------------------


def test_lost_password_by_sms_from_the_teleservices(
    page: Page, services: dict[str, Service], demo: Demo, phone: Phone, settings: Settings
) -> None:
    settings.DEBUG = True
    teleservices, guardian = services["teleservices"], single_record_guardian(demo)
    activate(guardian, password=OLD_PASSWORD)

    open_service_login(page, teleservices)
    _ask_new_password(
        page, guardian.identifier, "Par SMS (numéro enregistré par l'établissement, ou votre numéro vérifié)"
    )
    expect(page.get_by_role("heading", name="Je saisis le code de sécurité")).to_be_visible()
    phone.wait_for(guardian.phone)
    type_code(page, Phone.code(read_sms_in_dev_outbox(page, guardian.phone)))
    expect(page.get_by_role("heading", name="Choisissez un nouveau mot de passe")).to_be_visible()
    choose_password_watching_the_rules(page, NEW_PASSWORD, submit="Changer mon mot de passe")

    # Back on the téléservices' login page (the SAML one), which says what happened.
    expect(page).to_have_url(re.compile(r"/idp/profile/SAML2/.+[?&]execution="))
    expect_mire(page)
    expect(page.get_by_role("status")).to_have_text(PASSWORD_CHANGED)
    expect_accessible(page, "the service's login page after a new password")
    sign_in(page, guardian.identifier, NEW_PASSWORD)
    expect_service_home(page, teleservices, guardian.first_name, guardian.last_name)


def test_lost_password_by_email_opened_in_another_browser_from_the_ent_portal(
    page: Page, browser: Browser, services: dict[str, Service], demo: Demo, mailbox: Mailbox
) -> None:
    ent, guardian = services["ent"], demo.guardians[0]
    address = f"{guardian.identifier}@famille.example.fr"
    activate(guardian, password=OLD_PASSWORD, email=address, verified=True)

    open_service_login(page, ent)
    _ask_new_password(page, guardian.identifier, "Par email (adresse vérifiée)")
    expect(page.get_by_role("heading", name="Demande enregistrée")).to_be_visible()
    body = _mail(mailbox, address, "Changer votre mot de passe Trousseau")
    found = re.search(r"https?://\S+/mot-de-passe-perdu/lien/\S+", body)
    assert found, body

    # The email is read on a phone: another browser, where no login is pending.
    other = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")  # the link is a full address
    other.set_default_timeout(TIMEOUT_MS)
    try:
        mobile = other.new_page()
        mobile.goto(found.group(0))
        expect(mobile.get_by_role("heading", name="Choisissez un nouveau mot de passe")).to_be_visible()
        choose_password_watching_the_rules(mobile, NEW_PASSWORD, submit="Changer mon mot de passe")

        # The request is gone there: the page says what happened, names the ENT and offers its home page.
        expect(mobile.get_by_role("heading", name=GONE)).to_be_visible()
        expect(mobile.get_by_role("status")).to_have_text(PASSWORD_CHANGED)
        expect(mobile.get_by_role("main")).to_contain_text(f"La connexion à « {ent.brand} » a expiré")
        expect_accessible(mobile, "the request-gone page after a new password")
        mobile.get_by_role("link", name=f"Aller sur « {ent.brand} »").click()
        expect(mobile).to_have_url(f"{ent.url}/")
        open_service_login(mobile, ent)
        sign_in(mobile, guardian.identifier, NEW_PASSWORD)
        expect_service_home(mobile, ent, guardian.first_name, guardian.last_name)
    finally:
        other.close()
