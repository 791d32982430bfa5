"""Self-registration by SMS ("Je n'ai pas de compte", seed 000) walked in Chromium against the live server.

SMS are read from the dev outbox, as the phone they were sent to would show them; axe-core checks every
page type passed through. The recovery journeys by SMS and email are in test_recovery_journeys.py.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings

from tests.browser.conftest import Demo, Letter, Phone
from tests.browser.guardians import account_of
from tests.browser.steps import (
    answer_for_child,
    choose_password_watching_the_rules,
    expect_accessible,
    expect_account_home,
    fill_identity,
    log_in,
    log_out,
    national,
    open_registration,
    read_sms_in_dev_outbox,
    refuse_personal_password,
    type_code,
    unaccented,
    wrong_code,
)
from trousseau.accounts.models import Account, AccountState, ContestedLink
from trousseau.directory.models import Guardian, Guardianship, Pupil
from trousseau.flows.models import Flow, FlowKind

pytestmark = pytest.mark.browser

PASSWORD = "Cartable#Violet42"
NO_MATCH = (
    "Les informations saisies ne permettent pas de poursuivre l'inscription par SMS : vérifiez la saisie "
    "ou contactez votre établissement."
)
INVALID_MOBILE = "Ce numéro n'est pas un numéro de téléphone portable valide pour l'indicatif choisi."
# Numbers no demo record carries: one in metropolitan France, one in La Réunion.
UNKNOWN_MOBILE = "+33699999999"


# --- The family that registers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """One parent as several schools recorded them: same names and mobile, one record (and letter) each."""

    last_name: str
    first_name: str
    mobile: str
    records: list[Guardian]
    children: list[Pupil]  # oldest first, each in its own school
    letters: list[Letter]  # the letters issued for the records, oldest account first


def _parent_recorded_by_two_schools(demo: Demo) -> Family:
    groups: dict[tuple[str, str, str], list[Letter]] = defaultdict(list)
    for letter in demo.guardians:
        groups[(letter.last_name, letter.first_name, letter.phone)].append(letter)
    for (last_name, first_name, mobile), letters in groups.items():
        records = list(
            Guardian.objects.filter(last_name=last_name, first_name=first_name, mobile=mobile).order_by("pk")
        )
        children = list(
            Pupil.objects.filter(guardianships__guardian__in=records)
            .select_related("school")
            .distinct()
            .order_by("birth_date", "pk")
        )
        schools = {child.school_id for child in children}
        first_names = {child.first_name for child in children}
        # Two records, two children in two schools, told apart by their first names on the page.
        if len(records) >= 2 and len(children) == len(schools) == len(first_names) == 2:
            letters.sort(key=lambda letter: account_of(letter.identifier).pk)
            return Family(last_name, first_name, mobile, records, children, letters)
    pytest.fail("the demo académie has no parent recorded by two schools with a child in each")


def _other_parent_mobile(demo: Demo, family: Family) -> str:
    """The mobile of the family's other parent (same last name, another first name)."""
    for letter in demo.guardians:
        if letter.last_name == family.last_name and letter.first_name != family.first_name:
            return letter.phone
    pytest.fail(f"the {family.last_name} family has a single parent")


# --- 1. "Je n'ai pas de compte" -------------------------------------------------------------------------


def _confirm_identity(page: Page, phone: Phone, family: Family) -> str:
    """ "Je confirme mon identité" with the names typed otherwise than the schools recorded them; the SMS code."""
    last_name = family.last_name.upper().replace(" ", "-")
    first_name = unaccented(family.first_name).lower()
    assert (last_name, first_name) != (family.last_name, family.first_name)
    open_registration(page)
    expect_accessible(page, "the identity page")
    fill_identity(page, last_name=last_name, first_name=first_name, mobile=national(family.mobile))

    # One code, sent once to the mobile both records carry; the flow speaks for both records.
    expect(page.get_by_role("heading", name="Un code de sécurité a été envoyé")).to_be_visible()
    expect(page.get_by_text(f"au numéro se terminant par {family.mobile[-2:]}")).to_be_visible()
    expect_accessible(page, "the code page")
    sms = read_sms_in_dev_outbox(page, family.mobile)
    assert phone.messages(family.mobile) == [sms]
    assert phone.total() == 1
    assert "valable 30 minutes" in sms
    flow = Flow.objects.get(kind=FlowKind.SELF_REGISTRATION)
    assert sorted(flow.context["guardian_ids"]) == sorted(record.pk for record in family.records)
    return Phone.code(sms)


def _type_wrong_then_right_code(page: Page, code: str) -> None:
    """A mistyped code costs one of the 5 tries and is told in French; the right one opens the next step."""
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        type_code(page, wrong_code(code))
    assert answer.value.status == 400
    expect(page.get_by_role("alert")).to_have_text("Ce code n'est pas le bon. Il vous reste 4 essais.")
    expect_accessible(page, "the code page after a wrong code")
    type_code(page, code)


def _confirm_one_child_contest_the_other(page: Page, family: Family) -> None:
    mine, not_mine = family.children
    # "Je confirme mon lien avec les élèves": both children, first name, initial and school only.
    expect(page.get_by_role("heading", name="Je confirme mon lien avec les élèves")).to_be_visible()
    for child in family.children:
        group = page.get_by_role("group", name=f"{child.first_name} {child.last_name[0].upper()}. {child.school.name}")
        expect(group).to_be_visible()
    expect(page.get_by_role("radio", name="Je suis le représentant légal de cet élève")).to_have_count(2)
    expect_accessible(page, "the children page")

    # Nothing answered: each child's question says so, in its group's name.
    page.get_by_role("button", name="Continuer").click()
    unanswered = page.get_by_role("group", name=re.compile("Indiquez si vous êtes le représentant légal de cet élève"))
    expect(unanswered).to_have_count(2)
    # "Je suis le représentant légal" without the birth date.
    answer_for_child(page, mine.first_name, legal=True)
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_text("Renseignez la date de naissance de cet élève.")).to_be_visible()
    expect(page.get_by_label("Né(e) le").first).to_have_attribute("aria-invalid", "true")
    expect_accessible(page, "the children page with unanswered questions")

    # A wrong birth date: one counted failure, nothing recorded, the answers kept.
    answer_for_child(page, mine.first_name, legal=True, birth_date=mine.birth_date + timedelta(days=1))
    answer_for_child(page, not_mine.first_name, legal=False)
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("alert")).to_have_text("Une date de naissance ne correspond pas. Il vous reste 4 essais.")
    assert not ContestedLink.objects.exists()
    expect_accessible(page, "the children page after a wrong birth date")
    answer_for_child(page, mine.first_name, legal=True, birth_date=mine.birth_date)
    expect(page.get_by_label("Je ne suis pas le représentant légal de cet élève").nth(1)).to_be_checked()
    page.get_by_role("button", name="Continuer").click()


def _note_identifier_and_choose_password(page: Page, identifier: str) -> None:
    """ "Notez votre identifiant": the oldest provisional account's, kept for the whole family."""
    expect(page.get_by_role("heading", name="Notez votre identifiant")).to_be_visible()
    expect(page.locator("#new-identifier")).to_have_text(identifier)
    expect_accessible(page, "the self-registration password page")
    # The identifier itself is refused as a password.
    refused = f"{identifier.capitalize()}#2024x"
    refuse_personal_password(
        page, refused, submit="Terminer", where="the self-registration password page with a refused password"
    )
    assert account_of(identifier).state == AccountState.PROVISIONAL
    choose_password_watching_the_rules(page, PASSWORD, submit="Terminer")


def _expect_home_with_the_confirmed_child_only(page: Page, family: Family) -> None:
    mine, not_mine = family.children
    kept = family.letters[0].identifier
    # Seed 001 step 5; no service was waiting (the journey started at the mire): "Accéder à mes services".
    expect(page.get_by_role("heading", name="Votre compte a été activé avec succès")).to_be_visible()
    expect(page.locator("#new-identifier")).to_have_text(kept)
    page.get_by_role("link", name="Accéder à mes services").click()
    expect(page.get_by_role("heading", name="Mes services", level=1)).to_be_visible()
    page.get_by_role("link", name="Gérer mon compte").click()
    expect_account_home(page, kept)
    listed = page.locator("#my-children li")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(mine.first_name)
    expect(listed).to_contain_text(mine.school.name)
    expect(page.locator("#my-children")).not_to_contain_text(not_mine.first_name)


def _expect_one_account_and_a_contested_link(family: Family) -> None:
    """One active account for both records, the other closed into it, the other child's link contested."""
    mine, not_mine = family.children
    account = account_of(family.letters[0].identifier)
    assert account.state == AccountState.ACTIVE
    assert check_password(PASSWORD, account.password)
    assert sorted(account.guardian_links.values_list("guardian_id", flat=True)) == sorted(
        record.pk for record in family.records
    )
    other = account_of(family.letters[1].identifier)
    assert other.state == AccountState.DISABLED
    assert other.merged_into == account
    contested = ContestedLink.objects.get()
    assert contested.guardianship == Guardianship.objects.get(guardian__in=family.records, pupil=not_mine)
    assert contested.resolved_at is None
    assert list(account.pupils()) == [mine]


def test_parent_recorded_by_two_schools_registers_by_sms(
    page: Page, demo: Demo, phone: Phone, settings: Settings
) -> None:
    settings.DEBUG = True  # the dev outbox page, where the demo's SMS arrive
    family = _parent_recorded_by_two_schools(demo)
    kept, absorbed = family.letters[0], family.letters[1]

    code = _confirm_identity(page, phone, family)
    _type_wrong_then_right_code(page, code)
    _confirm_one_child_contest_the_other(page, family)
    _note_identifier_and_choose_password(page, kept.identifier)
    _expect_home_with_the_confirmed_child_only(page, family)
    _expect_one_account_and_a_contested_link(family)

    # The chosen password opens the account; the other school's letter points to the identifier kept.
    log_out(page)
    log_in(page, kept.identifier, PASSWORD)
    expect_account_home(page, kept.identifier)
    log_out(page)
    log_in(page, absorbed.identifier, absorbed.provisional_password)
    expect(page.get_by_role("alert")).to_have_text(
        f"Ce compte a été regroupé avec le compte {kept.identifier} : connectez-vous avec l'identifiant "
        f"{kept.identifier}."
    )

    # Registering again: only whoever holds the phone learns that the account exists.
    open_registration(page)
    fill_identity(page, last_name=family.last_name, first_name=family.first_name, mobile=national(family.mobile))
    type_code(page, Phone.code(phone.wait_for(family.mobile, count=2)))
    expect(page.get_by_role("heading", name="Vous avez déjà un compte")).to_be_visible()
    expect(page.get_by_role("main").get_by_role("link", name="Identifiant perdu")).to_be_visible()
    expect(page.get_by_role("main").get_by_role("link", name="Mot de passe perdu")).to_be_visible()
    assert Account.objects.filter(state=AccountState.ACTIVE).count() == 1


def test_names_match_whatever_the_case_accents_and_hyphens(page: Page, demo: Demo, phone: Phone) -> None:
    """Each spelling reaches the code page; the per-phone budget then stops the fourth SMS."""
    family = _parent_recorded_by_two_schools(demo)
    spellings = [
        (family.last_name.lower(), family.first_name.upper()),
        (unaccented(family.last_name).replace(" ", "").replace("'", ""), unaccented(family.first_name)),
        (f"  {family.last_name.upper().replace(' ', '-')} ", f" {family.first_name.lower()}"),
    ]
    for sent, (last_name, first_name) in enumerate(spellings, start=1):
        open_registration(page)
        fill_identity(page, last_name=last_name, first_name=first_name, mobile=national(family.mobile))
        expect(page.get_by_role("heading", name="Un code de sécurité a été envoyé")).to_be_visible()
        assert len(phone.messages(family.mobile)) == sent

    open_registration(page)
    fill_identity(page, last_name=family.last_name, first_name=family.first_name, mobile=national(family.mobile))
    expect(page.get_by_role("alert")).to_have_text(
        "Trop de codes ont été envoyés. Réessayez dans une heure ou contactez votre établissement."
    )
    expect(page.get_by_role("heading", name="Je confirme mon identité")).to_be_visible()
    assert len(phone.messages(family.mobile)) == len(spellings)


def test_self_registration_without_a_match_sends_nothing(page: Page, demo: Demo, phone: Phone) -> None:
    family = _parent_recorded_by_two_schools(demo)
    assert not Guardian.objects.filter(mobile=UNKNOWN_MOBILE).exists()
    open_registration(page)

    # Empty fields, then a mobile that is not one for the chosen country.
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_text("Indiquez votre nom.")).to_be_visible()
    expect(page.get_by_text("Indiquez votre prénom.")).to_be_visible()
    expect(page.get_by_text("Indiquez votre numéro de téléphone portable.")).to_be_visible()
    expect_accessible(page, "the identity page with empty fields")
    fill_identity(page, last_name=family.last_name, first_name=family.first_name, mobile="01 23 45 67 89")
    expect(page.get_by_text(INVALID_MOBILE)).to_be_visible()
    expect(page.get_by_role("textbox", name="N° de téléphone portable")).to_have_attribute("aria-invalid", "true")
    expect_accessible(page, "the identity page with a landline number")

    # A misspelt name, the other parent's mobile, a number no school recorded: the same answer.
    tries = [
        (family.last_name[:-1], family.first_name, family.mobile),
        (family.last_name, family.first_name, _other_parent_mobile(demo, family)),
        (family.last_name, family.first_name, UNKNOWN_MOBILE),
    ]
    for last_name, first_name, mobile in tries:
        fill_identity(page, last_name=last_name, first_name=first_name, mobile=national(mobile))
        expect(page.get_by_role("alert")).to_have_text(NO_MATCH)
        expect(page.get_by_role("heading", name="Je confirme mon identité")).to_be_visible()
        expect(page.get_by_label("Nom", exact=True)).to_have_value(last_name)
    expect_accessible(page, "the identity page after no match")

    assert phone.total() == 0
    assert not Flow.objects.exists()
