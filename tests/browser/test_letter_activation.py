"""Activation with the school's letter, walked in Chromium against the live server (seeds 002-004).

The letters come from the demo's credentials.csv, the verification email from a real SMTP server.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.contrib.auth.hashers import check_password
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import Demo, Letter
from tests.browser.steps import (
    expect_account_home,
    expect_activation_page,
    fill_activation,
    log_in,
    log_out,
    submit_activation,
)
from tests.smtp import Mailbox
from trousseau.accounts.models import Account, AccountState
from trousseau.directory.models import School

# The live password help posts its checks too: the form's answer is the other POST.
CHECK = "/mot-de-passe/verifier/"
pytestmark = pytest.mark.browser

GUARDIAN_PASSWORD = "Cartable#Violet42"
PUPIL_PASSWORD = "Trousse!Orange73"
OK = re.compile(r"(^|\s)tr-ok(\s|$)")


def _account(letter: Letter) -> Account:
    return Account.objects.get(identifier=letter.identifier)


def _guardian_with_siblings(demo: Demo) -> Letter:
    """The first guardian letter that speaks for several children, so the home lists more than one."""
    for letter in demo.guardians:
        if _account(letter).pupils().count() >= 2:
            return letter
    pytest.fail("the demo académie has no guardian with several children")


def _expect_rules(page: Page, met: set[str]) -> None:
    for rule in ("upper", "lower", "digit", "special", "length"):
        item = page.locator(f'#password-rules li[data-rule="{rule}"]')
        if rule in met:
            expect(item).to_have_class(OK)
        else:
            expect(item).not_to_have_class(OK)


def _type_password_watching_the_rules(page: Page, password: str) -> None:
    """The rule list and the strength meter follow the typing."""
    strength = page.locator("#password-strength")
    _expect_rules(page, met=set())
    expect(strength).to_have_text("Faible")
    field = page.get_by_label("Nouveau mot de passe")
    field.press_sequentially("cartable")
    _expect_rules(page, met={"lower", "length"})
    expect(strength).to_have_text("Faible")
    field.press_sequentially("#")
    _expect_rules(page, met={"lower", "length", "special"})
    expect(strength).to_have_text("Moyen")
    field.clear()
    field.press_sequentially(password)
    _expect_rules(page, met={"upper", "lower", "digit", "special", "length"})
    expect(strength).to_have_text("Fort")
    expect(page.locator("#password-meter")).to_have_js_property("value", 5)


def _activate_guardian(page: Page, guardian: Letter, address: str) -> None:
    children = list(_account(guardian).pupils().select_related("school"))
    assert guardian.birth_date in {child.birth_date for child in children}

    log_in(page, guardian.identifier, guardian.provisional_password)
    expect_activation_page(page, guardian.identifier)
    expect(page.get_by_text("Renseignez la date de naissance de votre enfant")).to_be_visible()
    _type_password_watching_the_rules(page, GUARDIAN_PASSWORD)
    fill_activation(page, password=GUARDIAN_PASSWORD, birth_date=guardian.birth_date, email=address)
    submit_activation(page)

    # "Votre compte est activé", the email to confirm; no service asked for this login: on to the account.
    expect(page.get_by_role("heading", name="Votre compte est activé", level=1)).to_be_visible()
    expect(page.get_by_text(f"Un email de confirmation a été envoyé à {address}, cliquez sur le lien")).to_be_visible()
    page.get_by_role("link", name="Continuer", exact=True).click()

    # "Gérer mon compte": the identifier, the children, the email waiting for its confirmation.
    expect_account_home(page, guardian.identifier)
    listed = page.locator("#my-children li")
    expect(listed).to_have_count(len(children))
    for child in children:
        expect(listed.filter(has_text=child.first_name).filter(has_text=child.school.name)).to_have_count(1)
    expect(page.get_by_text("non vérifié", exact=True)).to_be_visible()
    assert _account(guardian).state == AccountState.ACTIVE


def _confirm_email(page: Page, mailbox: Mailbox, live_server: LiveServer, guardian: Letter, address: str) -> None:
    """The verification email went through SMTP; its link opens a confirmation page."""
    message = mailbox.wait_for(address)
    assert message["Subject"] == "Confirmez votre adresse email"
    body = Mailbox.text(message)
    assert guardian.identifier in body
    found = re.search(r"https?://\S+/email/verifier/\S+/", body)
    assert found, body
    link = found.group(0)
    assert link.startswith(f"{live_server.url}/email/verifier/")

    page.goto(link)
    expect(page.get_by_role("heading", name="Confirmer mon adresse email")).to_be_visible()
    expect(page.get_by_text(address)).to_be_visible()
    page.get_by_role("button", name="Confirmer mon adresse").click()
    expect(page.get_by_role("heading", name="Votre adresse email est confirmée")).to_be_visible()
    page.get_by_role("link", name="Accéder à mes services en ligne").click()
    expect(page.get_by_role("heading", name="Mes services", level=1)).to_be_visible()
    page.get_by_role("link", name="Gérer mon compte").last.click()
    expect_account_home(page, guardian.identifier)
    expect(page.get_by_text("vérifié", exact=True)).to_be_visible()
    expect(page.get_by_text("non vérifié", exact=True)).to_have_count(0)
    assert _account(guardian).email_verified

    # The link serves once.
    page.goto(link)
    expect(page.get_by_role("heading", name="Ce lien n'est plus valide")).to_be_visible()


def _activate_pupil(page: Page, pupil: Letter) -> None:
    """A pupil activates with their own birth date and gives no email."""
    school = School.objects.get(uai=pupil.school_uai)
    log_in(page, pupil.identifier, pupil.provisional_password, profile="Élève")
    expect_activation_page(page, pupil.identifier)
    expect(page.get_by_text("Renseignez votre date de naissance", exact=True)).to_be_visible()
    fill_activation(page, password=PUPIL_PASSWORD, birth_date=pupil.birth_date)
    submit_activation(page)
    expect_account_home(page, pupil.identifier)
    expect(page.get_by_text("Votre compte est activé.")).to_be_visible()
    expect(page.get_by_text("Un email de confirmation")).to_have_count(0)
    expect(page.locator("#my-school")).to_contain_text(school.name)
    expect(page.get_by_text("Aucune adresse")).to_be_visible()
    assert _account(pupil).state == AccountState.ACTIVE


def test_guardian_and_pupil_activate_their_letters(
    page: Page, demo: Demo, mailbox: Mailbox, live_server: LiveServer
) -> None:
    guardian = _guardian_with_siblings(demo)
    address = f"{guardian.identifier}@famille.example.fr"
    _activate_guardian(page, guardian, address)
    _confirm_email(page, mailbox, live_server, guardian, address)
    page.goto("/compte/")
    log_out(page)

    pupil = demo.pupils[0]
    _activate_pupil(page, pupil)
    assert len(mailbox.messages) == 1  # nothing sent for the pupil, who gave no email
    log_out(page)

    # The letter has served: its password now gets a clear French explanation, not an activation.
    log_in(page, guardian.identifier, guardian.provisional_password)
    expect(page.get_by_role("alert")).to_contain_text("Ce courrier a déjà servi à activer votre compte")

    # The new passwords open the accounts.
    log_in(page, guardian.identifier, GUARDIAN_PASSWORD)
    expect_account_home(page, guardian.identifier)
    expect(page.get_by_text("vérifié", exact=True)).to_be_visible()
    log_out(page)
    log_in(page, pupil.identifier, PUPIL_PASSWORD, profile="Élève")
    expect_account_home(page, pupil.identifier)


def test_wrong_birth_date_is_refused_and_changes_nothing(page: Page, demo: Demo) -> None:
    guardian = demo.guardians[0]
    wrong = date(1990, 1, 1)
    assert wrong not in _account(guardian).known_birth_dates()

    log_in(page, guardian.identifier, guardian.provisional_password)
    expect_activation_page(page, guardian.identifier)
    for remaining in (4, 3):
        fill_activation(page, password=GUARDIAN_PASSWORD, birth_date=wrong)
        with page.expect_response(lambda r: r.request.method == "POST" and not r.url.endswith(CHECK)) as answer:
            submit_activation(page)
        assert answer.value.status == 400
        expect(page.get_by_role("alert")).to_have_text(
            f"La date de naissance ne correspond pas. Il vous reste {remaining} essai(s)."
        )
        expect_activation_page(page, guardian.identifier)
        expect(page.get_by_label("Votre date de naissance")).to_have_value(wrong.isoformat())

    account = _account(guardian)
    assert account.state == AccountState.PROVISIONAL
    assert account.activated_at is None
    assert not check_password(GUARDIAN_PASSWORD, account.password)
    assert account.letters.filter(used_at=None).count() == 1

    # The letter still opens the activation, as for anyone who has not activated yet.
    log_in(page, guardian.identifier, guardian.provisional_password)
    expect_activation_page(page, guardian.identifier)
