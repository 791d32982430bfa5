"""Activation with the letter on the way to a service says what happened, then goes on there (issue #17).

From the ENT's portal: the letter's login -> "Activation du compte", whose first submit has several
mistakes and shows them all, while the live help never calls "Fort" a password the server refuses ->
"Votre compte est activé" with the email to confirm -> "Continuer vers « ENT »" -> the ENT's home,
logged in. Then the email's link -> "Accéder à mes services en ligne" -> "Mes services". The same at the
téléservices-like, which has no portal.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import Demo, Letter
from tests.browser.services import Service, expect_service_home, open_ent_login, open_service_login, sign_in
from tests.browser.steps import expect_accessible, expect_activation_page, fill_activation, submit_activation
from tests.smtp import Mailbox
from trousseau.accounts.models import Account, AccountState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Cartable#Violet42"
WRONG_DAY = date(1990, 1, 1)
CHECK = "/mot-de-passe/verifier/"


def _type_password(page: Page, password: str) -> None:
    """Type the new password and wait for the server's verdict on exactly this value."""
    field = page.get_by_label("Nouveau mot de passe")
    field.clear()
    sent = urlencode({"password": password}) + "&"
    with page.expect_response(lambda r: r.url.endswith(CHECK) and sent in (r.request.post_data or "")) as answer:
        field.press_sequentially(password)
    assert answer.value.status == 200


def _several_mistakes_at_once(page: Page, letter: Letter) -> None:
    """A password with the last name, a confirmation that differs and a wrong birth date: one submit."""
    refused = f"{letter.last_name.capitalize()}#2024"
    _type_password(page, refused)
    # Every composition rule is met, yet the server refuses it: the help says why and never "Fort".
    expect(page.locator("#password-problems")).to_have_text(
        "Ne doit contenir ni votre identifiant ni votre nom ou prénom"
    )
    expect(page.locator("#password-strength")).to_have_text("Faible")
    expect(page.locator("#password-meter")).not_to_have_js_property("value", 5)
    page.get_by_label("Confirmez votre mot de passe").fill(refused + "x")
    page.get_by_label("Votre date de naissance").fill(WRONG_DAY.isoformat())
    with page.expect_response(lambda r: r.request.method == "POST" and "/activation/" in r.url) as answer:
        submit_activation(page)
    assert answer.value.status == 400
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("La date de naissance ne correspond pas. Il vous reste 4 essai(s).")
    expect(alert).to_contain_text("Corrigez les champs signalés ci-dessous.")
    expect(page.locator("#password-errors")).to_contain_text(
        "Ne doit contenir ni votre identifiant ni votre nom ou prénom"
    )
    expect(page.locator("#confirm-error")).to_have_text("Les deux mots de passe ne sont pas identiques.")
    expect(page.locator("#birth-error")).to_contain_text("La date de naissance ne correspond pas")
    expect_accessible(page, "activation, every mistake at once")


def _activate_with_an_email(page: Page, letter: Letter, address: str, service: Service) -> None:
    expect_activation_page(page, letter.identifier)
    expect_accessible(page, "activation")
    _several_mistakes_at_once(page, letter)
    _type_password(page, PASSWORD)
    expect(page.locator("#password-strength")).to_have_text("Fort")
    expect(page.locator("#password-problems")).to_have_text("")
    fill_activation(page, password=PASSWORD, birth_date=letter.birth_date, email=address)
    submit_activation(page)

    expect(page.get_by_role("heading", name="Votre compte est activé", level=1)).to_be_visible()
    expect(
        page.get_by_text(f"Un email de confirmation a été envoyé à {address}, cliquez sur le lien qu'il contient.")
    ).to_be_visible()
    expect_accessible(page, "Votre compte est activé")
    page.get_by_role("link", name=f"Continuer vers « {service.brand} »").click()
    expect_service_home(page, service, letter.first_name, letter.last_name)
    assert Account.objects.get(identifier=letter.identifier).state == AccountState.ACTIVE


def _email_link_to_my_services(page: Page, mailbox: Mailbox, address: str, services: dict[str, Service]) -> None:
    found = re.search(r"https?://\S+/email/verifier/\S+/", Mailbox.text(mailbox.wait_for(address)))
    assert found
    page.goto(found.group(0))
    page.get_by_role("button", name="Confirmer mon adresse").click()
    expect(page.get_by_role("heading", name="Votre adresse email est confirmée")).to_be_visible()
    page.get_by_role("link", name="Accéder à mes services en ligne").click()
    expect(page.get_by_role("heading", name="Mes services", level=1)).to_be_visible()
    tiles = page.locator(".tr-services .fr-tile__title a")
    expect(tiles).to_have_count(3)
    for service in services.values():
        expect(page.get_by_role("link", name=service.brand, exact=True)).to_have_attribute("href", f"{service.url}/")
    expect_accessible(page, "Mes services")


def test_letter_activation_from_the_ent_says_what_happened_and_lands_there(
    page: Page, demo: Demo, trousseau: LiveServer, services: dict[str, Service], mailbox: Mailbox
) -> None:
    ent, letter = services["ent"], demo.guardians[0]
    address = f"{letter.identifier}@famille.example.fr"
    open_ent_login(page, ent)
    sign_in(page, letter.identifier, letter.provisional_password)
    _activate_with_an_email(page, letter, address, ent)
    _email_link_to_my_services(page, mailbox, address, services)


def test_letter_activation_at_the_teleservices_lands_there(
    page: Page, demo: Demo, trousseau: LiveServer, services: dict[str, Service], mailbox: Mailbox
) -> None:
    teleservices, letter = services["teleservices"], demo.guardians[1]
    open_service_login(page, teleservices)
    sign_in(page, letter.identifier, letter.provisional_password)
    expect_activation_page(page, letter.identifier)
    fill_activation(page, password=PASSWORD, birth_date=letter.birth_date, email=f"{letter.identifier}@exemple.fr")
    submit_activation(page)
    expect(page.get_by_role("heading", name="Votre compte est activé", level=1)).to_be_visible()
    page.get_by_role("link", name=f"Continuer vers « {teleservices.brand} »").click()
    expect_service_home(page, teleservices, letter.first_name, letter.last_name)
