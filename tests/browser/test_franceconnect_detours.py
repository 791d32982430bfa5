"""FranceConnect detours end at the service where the login started (issue #17), walked in Chromium from
the demo services (tests/browser/services.py) with the FranceConnect stand-in (tests/browser/test_franceconnect.py).

- ENT portal -> mire -> FranceConnect -> first login (mobile, SMS code, birth dates) -> "Votre compte est
  activé" with the identifier (seed 001 step 6) -> "Continuer vers « ENT »" -> ENT home, logged in;
- ENT portal -> mire -> FranceConnect -> "Annuler et revenir au service" -> the ENT's login page -> sign in
  -> ENT home;
- téléservices-like (no portal) -> mire -> FranceConnect -> "Ce n'est pas vous ?" -> the téléservices'
  login page -> sign in -> téléservices home.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser import test_franceconnect as with_franceconnect
from tests.browser.conftest import Demo, Letter, Phone
from tests.browser.services import Service, expect_mire, expect_service_home, open_service_login, sign_in
from tests.browser.steps import answer_for_child, expect_accessible, national, type_code
from tests.browser.test_franceconnect import (
    CANCELLED,
    choose_identity_at_franceconnect,
    demo_guardian,
    expect_activated,
    standin_session,
)
from tests.signin.standin import StandIn
from trousseau.accounts.models import Account, AccountState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The FranceConnect stand-in, and Trousseau configured for it, as test_franceconnect.py has them.
standin = with_franceconnect.standin
franceconnect = with_franceconnect.franceconnect

PASSWORD = "Cartable#2024"
SERVICE_LOGIN = re.compile(r"/idp/profile/SAML2/Redirect/SSO\?execution=")  # the SAML login page, not /login
NOT_ME = "Vous êtes déconnecté de FranceConnect. Vous pouvez vous connecter avec une autre identité."


def activated(letter: Letter) -> Letter:
    """A guardian who activated their letter earlier (their password: PASSWORD)."""
    account = Account.objects.get(identifier=letter.identifier)
    account.state = AccountState.ACTIVE
    account.activated_at = timezone.now()
    account.set_password(PASSWORD)
    account.save()
    return letter


def press_franceconnect(page: Page, provider: StandIn) -> None:
    """On the service's login page (the mire), "S'identifier avec FranceConnect"."""
    expect_mire(page)
    expect(page).to_have_url(SERVICE_LOGIN)
    page.get_by_role("link", name="S'identifier avec FranceConnect").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(provider.origin)}/interaction/"))


def test_a_first_franceconnect_login_at_the_ent_says_so_and_ends_at_the_ent(
    page: Page, demo: Demo, phone: Phone, services: dict[str, Service], franceconnect: StandIn
) -> None:
    ent = services["ent"]
    sophie = demo_guardian(demo, "Sophie", "Dupont")
    children = list(Account.objects.get(identifier=sophie.identifier).pupils())

    open_service_login(page, ent)
    press_franceconnect(page, franceconnect)
    choose_identity_at_franceconnect(page, franceconnect, "Sophie DUPONT")
    expect(page.locator("#franceconnect-name")).to_have_text("Sophie DUPONT")
    page.get_by_role("textbox", name="N° de téléphone portable").fill(national(sophie.phone))
    page.get_by_role("button", name="Valider").click()
    type_code(page, phone.code(phone.wait_for(sophie.phone)))
    for child in children:
        answer_for_child(page, child.first_name, legal=True, birth_date=child.birth_date)
    page.get_by_role("button", name="Continuer").click()

    # Seed 001 step 6: "Vous êtes notifié de l'activation de votre compte", then on to the ENT.
    expect_activated(page, sophie.identifier)
    expect(page.get_by_role("main").get_by_role("link", name="Accéder à mes services")).to_have_count(0)
    expect_accessible(page, "account activated by a first login with FranceConnect, on the way to the ENT")
    page.set_viewport_size({"width": 375, "height": 740})  # and on a phone
    expect_accessible(page, "account activated by a first login with FranceConnect, on a phone")
    page.get_by_role("link", name=f"Continuer vers « {ent.brand} »").click()
    expect_service_home(page, ent, sophie.first_name, sophie.last_name)
    assert Account.objects.get(identifier=sophie.identifier).state == AccountState.ACTIVE


def test_cancel_at_franceconnect_comes_back_to_the_ent_login_where_signing_in_ends_at_the_ent(
    page: Page, demo: Demo, services: dict[str, Service], franceconnect: StandIn
) -> None:
    ent = services["ent"]
    letter = activated(demo.guardians[0])

    open_service_login(page, ent)
    press_franceconnect(page, franceconnect)
    page.get_by_role("button", name="Annuler et revenir au service").click()

    expect_mire(page)
    expect(page).to_have_url(SERVICE_LOGIN)  # the ENT's login page, not a bare /login
    expect(page.get_by_text(CANCELLED)).to_be_visible()
    expect_accessible(page, "the ENT's login page after cancelling at FranceConnect")
    sign_in(page, letter.identifier, PASSWORD)
    expect_service_home(page, ent, letter.first_name, letter.last_name)


def test_not_me_comes_back_to_the_teleservices_login_where_signing_in_ends_at_the_teleservices(
    page: Page, demo: Demo, services: dict[str, Service], franceconnect: StandIn
) -> None:
    teleservices = services["teleservices"]
    letter = activated(demo.guardians[0])

    open_service_login(page, teleservices)
    press_franceconnect(page, franceconnect)
    choose_identity_at_franceconnect(page, franceconnect, "Jean INCONNU")
    expect(page.locator("#franceconnect-name")).to_have_text("Jean INCONNU")
    page.get_by_role("link", name="Ce n'est pas vous ? Retournez à la page d'accueil").click()

    expect_mire(page)
    expect(page).to_have_url(SERVICE_LOGIN)  # the téléservices' login page, not a bare /login
    expect(page.get_by_text(NOT_ME)).to_be_visible()
    assert not standin_session(page, franceconnect)
    expect_accessible(page, "the téléservices' login page after « Ce n'est pas vous ? »")
    sign_in(page, letter.identifier, PASSWORD)
    expect_service_home(page, teleservices, letter.first_name, letter.last_name)
