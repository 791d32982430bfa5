""" "Gérer mon compte", the mobile number, walked in Chromium against the live server (seed 004's follow-ups).

Adding, then changing, the mobile number with an SMS code sent to the NEW number, and the number used at
once to recover an identifier. SMS are read from the dev outbox, as the phone they were sent to would show
them. axe-core checks every page type passed through. Grouping, the password, the sessions and the history
are in test_account_page.py.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Demo, Letter, Phone
from tests.browser.guardians import account_of, activate, single_record_guardian
from tests.browser.steps import (
    COUNTRY_FRANCE,
    expect_accessible,
    expect_account_home,
    log_in,
    log_out,
    national,
    security_history,
    wrong_code,
)
from trousseau.audit.events import EventTag
from trousseau.core.phones import format_mobile

# The live password help posts its checks too: the form's answer is the other POST.
CHECK = "/mot-de-passe/verifier/"
pytestmark = pytest.mark.browser

PASSWORD = "Cartable#Violet42"
FIX_FIELDS = "Corrigez les champs signalés ci-dessous."
MOBILE_PAGE = "Mon numéro de téléphone portable"
CODE_PAGE = "Un code de sécurité a été envoyé"
INVALID_MOBILE = "Ce numéro n'est pas un numéro de téléphone portable valide pour l'indicatif choisi."
MOBILE_SAVED = "Votre numéro de téléphone portable est enregistré et vérifié."
COUNTRY_REUNION = "+262 La Réunion, Mayotte"
# Numbers no demo record carries (the demo's mobiles are +3361…): one in La Réunion, one in France.
REUNION_MOBILE = "+262692123456"
FRENCH_MOBILE = "+33755501234"
IDENTIFIER_ANSWER = (
    "Si ces informations correspondent à un compte, votre identifiant vient de vous être envoyé. "
    "Pensez à vérifier vos courriers indésirables."
)


# --- 2. Adding, then changing, the mobile number ---------------------------------------------------------


def _fill_mobile(page: Page, mobile: str, *, country: str = COUNTRY_FRANCE) -> None:
    """ "Mon nouveau numéro": country code and number, then "Recevoir un code par SMS"."""
    page.get_by_label("Indicatif", exact=True).select_option(label=country)
    page.get_by_role("textbox", name=re.compile("^Nouveau numéro de téléphone portable")).fill(mobile)
    page.get_by_label("Mot de passe actuel").fill(PASSWORD)  # the holder proves it is them (issue #15, finding 5)
    page.get_by_role("button", name="Recevoir un code par SMS").click()


def _expect_code_page(page: Page, mobile: str) -> None:
    expect(page.get_by_role("heading", name=CODE_PAGE, level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/compte/mobile/[0-9a-f-]{36}/$"))
    expect(page.get_by_text(f"au nouveau numéro se terminant par {mobile[-2:]}")).to_be_visible()


def _type_mobile_code(page: Page, code: str) -> None:
    page.get_by_label("Code de sécurité").fill(code)
    page.get_by_role("button", name="Valider mon numéro").click()


def _expect_verified_mobile(page: Page, identifier: str, mobile: str) -> None:
    expect_account_home(page, identifier)
    expect(page.get_by_role("status")).to_have_text(MOBILE_SAVED)
    # Shown the way people read it: "+262 692 12 34 56".
    expect(page.locator("#my-mobile")).to_contain_text(format_mobile(mobile))
    expect(page.locator("#my-mobile").get_by_text("vérifié", exact=True)).to_be_visible()


def _ask_identifier_by_sms(page: Page, mobile: str, *, country: str = COUNTRY_FRANCE) -> None:
    page.goto("/")
    page.get_by_role("link", name="Identifiant perdu").click()
    expect(page.get_by_role("heading", name="Identifiant perdu")).to_be_visible()
    # One field: a phone number is read as one (issue #17), the country code chosen beside it.
    page.get_by_role("combobox", name=re.compile("^Indicatif")).select_option(label=country)
    page.get_by_role("textbox", name=re.compile("^Adresse email ou numéro de téléphone portable")).fill(
        national(mobile)
    )
    page.get_by_role("button", name="Recevoir mon identifiant").click()
    expect(page.get_by_role("heading", name="Demande enregistrée")).to_be_visible()
    expect(page.locator("#recovery-answer")).to_have_text(IDENTIFIER_ANSWER)


def _mobile_form_refuses_bad_numbers(page: Page) -> None:
    """Nothing typed, then a number from La Réunion typed without its country code."""
    page.get_by_role("button", name="Recevoir un code par SMS").click()
    expect(page.get_by_text("Indiquez votre numéro de téléphone portable.")).to_be_visible()
    _fill_mobile(page, national(REUNION_MOBILE))
    expect(page.get_by_role("alert")).to_have_text(FIX_FIELDS)
    expect(page.get_by_text(INVALID_MOBILE)).to_be_visible()
    number = page.get_by_role("textbox", name=re.compile("^Nouveau numéro de téléphone portable"))
    expect(number).to_have_attribute("aria-invalid", "true")
    expect_accessible(page, "the mobile page with a number from another country")


def _add_mobile(page: Page, phone: Phone, guardian: Letter) -> None:
    """ "Ajouter mon numéro": the code goes to the NEW number; a wrong code first, then the right one."""
    expect(page.locator("#my-mobile")).to_contain_text("Aucun numéro vérifié")
    page.locator("#my-mobile").get_by_role("link", name="Ajouter mon numéro").click()
    expect(page.get_by_role("heading", name=MOBILE_PAGE, level=1)).to_be_visible()
    expect_accessible(page, "the mobile page")
    _mobile_form_refuses_bad_numbers(page)
    assert phone.total() == 0

    _fill_mobile(page, national(REUNION_MOBILE), country=COUNTRY_REUNION)
    _expect_code_page(page, REUNION_MOBILE)
    expect_accessible(page, "the mobile code page")
    sms = phone.wait_for(REUNION_MOBILE)
    assert "valable 30 minutes" in sms
    assert phone.messages(guardian.phone) == []  # not the number the school recorded
    code = Phone.code(sms)

    with page.expect_response(lambda r: r.request.method == "POST" and not r.url.endswith(CHECK)) as answer:
        _type_mobile_code(page, wrong_code(code))
    assert answer.value.status == 400
    expect(page.get_by_role("alert")).to_have_text("Ce code n'est pas le bon. Il vous reste 4 essais.")
    expect_accessible(page, "the mobile code page after a wrong code")
    assert not account_of(guardian.identifier).phone_verified

    _type_mobile_code(page, code)
    _expect_verified_mobile(page, guardian.identifier, REUNION_MOBILE)
    account = account_of(guardian.identifier)
    assert (account.phone, account.phone_verified) == (REUNION_MOBILE, True)
    # The number the school recorded is told, with a "Ce n'était pas moi" link.
    notice = phone.wait_for(guardian.phone)
    assert "vient d'être changé" in notice
    assert "/compte/signalement/" in notice


def _change_mobile(page: Page, phone: Phone, guardian: Letter) -> None:
    """ "Changer mon numéro": the page shows the current number; the code goes to the new one only."""
    page.locator("#my-mobile").get_by_role("link", name="Changer mon numéro").click()
    expect(page.get_by_role("heading", name=MOBILE_PAGE, level=1)).to_be_visible()
    expect(page.get_by_text(f"Numéro actuel : {REUNION_MOBILE}")).to_be_visible()
    _fill_mobile(page, national(FRENCH_MOBILE))
    _expect_code_page(page, FRENCH_MOBILE)
    code = Phone.code(phone.wait_for(FRENCH_MOBILE))
    # Asking for another code at once: the resend delay is told, nothing is sent.
    page.get_by_role("button", name="Je n'ai pas reçu de code : renvoyer un code").click()
    expect(page.get_by_role("alert")).to_have_text(
        re.compile(r"^Patientez \d+ secondes? avant de demander un nouveau code\.$")
    )
    expect_accessible(page, "the mobile code page after an early resend")
    assert len(phone.messages(FRENCH_MOBILE)) == 1
    _type_mobile_code(page, code)
    _expect_verified_mobile(page, guardian.identifier, FRENCH_MOBILE)
    expect(page.locator("#my-mobile")).not_to_contain_text(REUNION_MOBILE)
    assert "vient d'être changé" in phone.wait_for(REUNION_MOBILE, count=2)  # its code, then the notice
    assert len(phone.messages(REUNION_MOBILE)) == 2
    assert phone.total() == 4


def test_adding_then_changing_the_mobile_number(page: Page, demo: Demo, phone: Phone) -> None:
    guardian = single_record_guardian(demo)
    activate(guardian, password=PASSWORD)
    log_in(page, guardian.identifier, PASSWORD)
    expect_account_home(page, guardian.identifier)

    _add_mobile(page, phone, guardian)
    _change_mobile(page, phone, guardian)

    history = security_history(page)
    assert history[:5] == [
        (EventTag.CHANGE_NOTICE_SENT, "Ancienne adresse ou ancien numéro prévenu d'un changement"),
        (EventTag.CHANGE_MOBILE_SUCCESS, "Téléphone portable modifié"),
        (EventTag.CODE_VERIFIED, "Code de sécurité accepté"),
        (EventTag.CODE_SENT, "Code de sécurité envoyé par SMS"),
        (EventTag.CHANGE_MOBILE_STARTED, "Changement de téléphone portable demandé"),
    ]
    assert (EventTag.CODE_FAILURE, "Code de sécurité refusé") in history

    # "Identifiant perdu" by SMS: the new number receives the identifier, the replaced one nothing.
    page.get_by_role("link", name="Retour à mon compte").click()
    log_out(page)
    _ask_identifier_by_sms(page, FRENCH_MOBILE)
    assert phone.wait_for(FRENCH_MOBILE, count=2) == f"Trousseau : votre identifiant est {guardian.identifier}."
    _ask_identifier_by_sms(page, REUNION_MOBILE, country=COUNTRY_REUNION)
    assert len(phone.messages(REUNION_MOBILE)) == 2
    assert phone.total() == 5
