""" "Je n'ai pas de compte" from a service, through to "Terminer", and on to that service logged in.

Seed 004 case 2 (the page "Je n'ai pas encore d'identifiant" with "Créer mon compte"), seed 001 procedure 1
(the help for who will not use a mobile or gets no SMS; step 5, "Votre compte a été activé avec succès"
with the identifier). One walk starts at the demo ENT's portal and opens the help; one starts at the
téléservices-like (no portal) on a phone-sized screen. SMS are read from the dev outbox, as the phone
would show them; axe checks each new page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings

from tests.browser.conftest import Demo, Letter, Phone
from tests.browser.services import Service, expect_service_home, open_ent_login, open_service_login
from tests.browser.steps import (
    answer_for_child,
    expect_accessible,
    fill_identity,
    national,
    new_password_field,
    read_sms_in_dev_outbox,
    type_code,
)
from trousseau.accounts.models import Account, AccountState
from trousseau.core import continuation
from trousseau.directory.models import Guardian, Pupil
from trousseau.flows.models import Flow, FlowKind

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Cartable#Violet42"


@dataclass(frozen=True)
class Parent:
    letter: Letter  # the school's letter for this parent's record (names, mobile, identifier)
    children: list[Pupil]


def _parent_recorded_once(demo: Demo) -> Parent:
    """A guardian with a mobile that no other record carries: one record, one account to register."""
    mobiles = [letter.phone for letter in demo.guardians]
    for letter in demo.guardians:
        if letter.phone and mobiles.count(letter.phone) == 1:
            record = Guardian.objects.get(mobile=letter.phone)
            children = list(Pupil.objects.filter(guardianships__guardian=record).order_by("birth_date", "pk"))
            if children and len({child.first_name for child in children}) == len(children):
                return Parent(letter, children)
    pytest.fail("the demo académie has no guardian recorded by a single school")


def _register(page: Page, parent: Parent, *, check_the_help: bool) -> None:
    """From the mire a service showed: "Je n'ai pas de compte" through to "Terminer"."""
    letter = parent.letter
    page.get_by_role("link", name="Je n'ai pas de compte").click()
    expect(page.get_by_role("heading", name="Je n'ai pas encore d'identifiant")).to_be_visible()
    needs = page.locator("#registration-needs")
    expect(needs).to_contain_text("vos nom et prénom, tels que vous les avez communiqués à l'établissement")
    expect(needs).to_contain_text("communiqué à l'établissement lors de l'inscription de votre enfant")
    expect(page.locator("#registration-pupil")).to_contain_text("courrier remis par votre établissement")
    expect_accessible(page, "Je n'ai pas encore d'identifiant")
    page.get_by_role("link", name="Créer mon compte").click()
    expect(page.get_by_role("heading", name="Je confirme mon identité")).to_be_visible()
    if check_the_help:
        no_mobile = page.get_by_role("button", name="Je ne souhaite pas utiliser de téléphone portable")
        help_text = page.locator("#no-mobile")
        expect(help_text).to_be_hidden()
        no_mobile.click()
        expect(no_mobile).to_have_attribute("aria-expanded", "true")
        expect(help_text).to_be_visible()
        expect(help_text).to_contain_text("Activez plutôt votre compte avec le courrier remis par l'établissement")
        expect(help_text).to_contain_text("Contactez le secrétariat de l'établissement de votre enfant")
        expect_accessible(page, "the identity page, help without a mobile open")
    fill_identity(page, last_name=letter.last_name, first_name=letter.first_name, mobile=national(letter.phone))

    expect(page.get_by_role("heading", name="Un code de sécurité a été envoyé")).to_be_visible()
    if check_the_help:
        no_code = page.get_by_role("button", name="Je n'ai pas reçu de code d'activation par SMS")
        no_code.click()
        help_text = page.locator("#no-code")
        expect(help_text).to_be_visible()
        expect(help_text).to_contain_text(f"il finit par {letter.phone[-2:]}")
        expect(help_text).to_contain_text("renvoyer un code")
        expect(help_text).to_contain_text("Contactez le secrétariat")
        expect_accessible(page, "the code page, help without an SMS open")
    type_code(page, Phone.code(read_sms_in_dev_outbox(page, letter.phone)))

    expect(page.get_by_role("heading", name="Je confirme mon lien avec les élèves")).to_be_visible()
    for child in parent.children:
        answer_for_child(page, child.first_name, legal=True, birth_date=child.birth_date)
    page.get_by_role("button", name="Continuer").click()

    expect(page.get_by_role("heading", name="Notez votre identifiant")).to_be_visible()
    new_password_field(page).fill(PASSWORD)
    page.get_by_label("Confirmation du nouveau mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Terminer").click()


def _expect_activated_then_continue(page: Page, parent: Parent, service: Service) -> None:
    """Seed 001 step 5: the identifier to note, then "Continuer vers « <service> »"."""
    expect(page.get_by_role("heading", name="Votre compte a été activé avec succès")).to_be_visible()
    expect(
        page.get_by_text(
            "Notez votre identifiant EduConnect : vous en aurez besoin pour vous connecter aux services de vos enfants."
        )
    ).to_be_visible()
    expect(page.locator("#new-identifier")).to_have_text(parent.letter.identifier)
    account = Account.objects.get(identifier=parent.letter.identifier)
    assert account.state == AccountState.ACTIVE
    expect(page.get_by_role("link", name="Accéder à mes services")).to_have_count(0)
    expect_accessible(page, "Votre compte a été activé avec succès")
    page.get_by_role("link", name=f"Continuer vers « {service.brand} »").click()
    expect_service_home(page, service, parent.letter.first_name, parent.letter.last_name)


def _flow_kept(service: Service) -> None:
    """The flow kept the pending login of the service the person came from (to name it at the end)."""
    kept = Flow.objects.get(kind=FlowKind.SELF_REGISTRATION).context["continuation"]
    found = continuation.service(kept["service"])
    assert found is not None, kept
    assert found.name == service.brand
    assert re.search(r"/idp/profile/SAML2/", kept["next"]), kept


def test_registration_from_the_ent_portal_ends_on_the_ent_logged_in(
    page: Page, demo: Demo, services: dict[str, Service], settings: Settings
) -> None:
    settings.DEBUG = True  # the dev outbox page, where the demo's SMS arrive
    ent = services["ent"]
    parent = _parent_recorded_once(demo)
    open_ent_login(page, ent)
    _register(page, parent, check_the_help=True)
    _flow_kept(ent)
    _expect_activated_then_continue(page, parent, ent)
    expect(page.get_by_text("Vous êtes connecté(e) à l'espace collège de l'ENT de démonstration.")).to_be_visible()


def test_registration_from_the_teleservices_ends_there_logged_in(
    page: Page, demo: Demo, services: dict[str, Service], settings: Settings
) -> None:
    settings.DEBUG = True
    teleservices = services["teleservices"]
    parent = _parent_recorded_once(demo)
    page.set_viewport_size({"width": 375, "height": 740})  # on a phone: the new pages checked by axe there too
    open_service_login(page, teleservices)
    _register(page, parent, check_the_help=False)
    _flow_kept(teleservices)
    _expect_activated_then_continue(page, parent, teleservices)
    expect(page.get_by_text("Vous êtes connecté(e) aux téléservices avec EduConnect.")).to_be_visible()
