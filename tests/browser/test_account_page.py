""" "Gérer mon compte" walked in Chromium against the live server (seed 004, case 3 and its follow-ups).

Grouping two schools' letters into one account ("Ajouter des élèves depuis un autre compte"), changing
the password, "Se déconnecter partout" and the security history; the mobile number is in
test_account_mobile.py. axe-core checks every page type passed through.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

import pytest
from django.contrib.auth.hashers import check_password
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import TIMEOUT_MS, Demo, Letter
from tests.browser.guardians import account_of, activate, single_record_guardian
from tests.browser.steps import (
    MIRE_TITLE,
    expect_accessible,
    expect_account_home,
    fill_activation,
    log_in,
    log_out,
    security_history,
    submit_activation,
)
from trousseau.accounts.models import AccountGuardian, AccountState, ActivationLetter
from trousseau.audit.events import EventTag
from trousseau.core.text import fold
from trousseau.directory.models import Pupil

# The live password help posts its checks too: the form's answer is the other POST.
CHECK = "/mot-de-passe/verifier/"
pytestmark = pytest.mark.browser

PASSWORD = "Cartable#Violet42"
NEW_PASSWORD = "Trousse!Orange73"
WRONG_PASSWORD = "Gomme#Rouge2024"
GROUPING = "Ajouter des élèves depuis un autre compte"
WRONG_CREDENTIALS = "Identifiant ou mot de passe incorrect."
NAMES_DIFFER = (
    "Ce compte n'est pas au même nom et prénom que le vôtre : il ne peut pas être regroupé. "
    "Contactez l'établissement si c'est une erreur."
)
NOT_GUARDIAN = "Seuls les comptes de responsable peuvent être regroupés. Un compte élève reste séparé."
SAME_ACCOUNT = "C'est l'identifiant du compte avec lequel vous êtes connecté : saisissez celui de l'autre compte."
FIX_FIELDS = "Corrigez les champs signalés ci-dessous."
BIRTH_DATE_NEEDED = (
    "Cet autre compte n'est pas encore activé : saisissez aussi la date de naissance d'un de ses enfants, "
    "comme à l'activation."
)
PASSWORD_PAGE = "Modifier mon mot de passe"
PASSWORD_CHANGED = "Votre mot de passe a été modifié. Vos autres sessions ont été fermées."
LOGIN_FAILED = "Identifiant ou mot de passe incorrect."


def _second_browser(browser: Browser, live_server: LiveServer) -> BrowserContext:
    """Another device (the family laptop), with its own cookies."""
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(TIMEOUT_MS)
    return context


# --- 1. Grouping two letters into one account ---------------------------------------------------------


def _parent_with_two_letters(demo: Demo) -> tuple[Letter, Letter]:
    """A parent recorded by two schools: two letters (same names and mobile), a different child on each."""
    groups: dict[tuple[str, str, str], list[Letter]] = defaultdict(list)
    for letter in demo.guardians:
        groups[(letter.last_name, letter.first_name, letter.phone)].append(letter)
    for letters in groups.values():
        if len(letters) != 2:
            continue
        first, second = letters
        mine, theirs = (list(account_of(letter.identifier).pupils()) for letter in (first, second))
        one_each = len(mine) == len(theirs) == 1
        if one_each and mine[0].school_id != theirs[0].school_id and mine[0].first_name != theirs[0].first_name:
            return first, second
    pytest.fail("the demo académie has no parent recorded by two schools with one child in each")


def _another_family(demo: Demo, parent: Letter) -> Letter:
    """A guardian letter of another family: neither the last nor the first name is the parent's."""
    for letter in demo.guardians:
        if fold(letter.last_name) != fold(parent.last_name) and fold(letter.first_name) != fold(parent.first_name):
            return letter
    pytest.fail("the demo académie has a single family")


def _children(letter: Letter) -> list[Pupil]:
    return list(account_of(letter.identifier).pupils().select_related("school").order_by("pk"))


def _links() -> list[tuple[int, int]]:
    """Which account speaks for which guardian record, everywhere."""
    return list(AccountGuardian.objects.order_by("guardian_id").values_list("account_id", "guardian_id"))


def _expect_children(page: Page, children: list[Pupil]) -> None:
    """ "Mes enfants" lists exactly these children, each with their school."""
    listed = page.get_by_role("region", name="Mes enfants").get_by_role("listitem")
    expect(listed).to_have_count(len(children))
    for child in children:
        expect(
            listed.filter(has_text=f"{child.first_name} {child.last_name.upper()} — {child.school.name}")
        ).to_have_count(1)


def _open_grouping(page: Page) -> None:
    page.get_by_role("region", name="Mes enfants").get_by_role("link", name=GROUPING).click()
    expect(page.get_by_role("heading", name=GROUPING, level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/compte/regrouper/$"))


def _group(page: Page, identifier: str, password: str, *, status: int, birth_date: date | None = None) -> None:
    """Type the other account's identifier and password (and a child's birth date, asked with a letter's
    password) and press "Regrouper les comptes"."""
    page.get_by_label("Identifiant de l'autre compte").fill(identifier)
    page.get_by_label("Mot de passe de l'autre compte").fill(password)
    page.get_by_label("Date de naissance d'un enfant de l'autre compte").fill(
        birth_date.isoformat() if birth_date else ""
    )
    with page.expect_response(lambda r: r.request.method == "POST" and not r.url.endswith(CHECK)) as answer:
        page.get_by_role("button", name="Regrouper les comptes").click()
    assert answer.value.status == status


def _refused(page: Page, identifier: str, password: str, message: str) -> str:
    """A refused grouping: the message in an alert, still on the grouping page; returns what the page says."""
    _group(page, identifier, password, status=400)
    expect(page.get_by_role("alert")).to_have_text(message)
    expect(page.get_by_role("heading", name=GROUPING, level=1)).to_be_visible()
    # The identifier stays typed; the password is never sent back to the page.
    expect(page.get_by_label("Identifiant de l'autre compte")).to_have_value(identifier)
    expect(page.get_by_label("Mot de passe de l'autre compte")).to_have_value("")
    return page.get_by_role("main").inner_text()


def _activate_first_letter(page: Page, kept: Letter, mine: list[Pupil]) -> None:
    """The first letter is activated; "Mes enfants" shows only the child this school recorded."""
    log_in(page, kept.identifier, kept.provisional_password)
    fill_activation(page, password=PASSWORD, birth_date=kept.birth_date)
    submit_activation(page)
    expect_account_home(page, kept.identifier)
    _expect_children(page, mine)
    expect(page.get_by_text("Un de vos enfants n'apparaît pas ?")).to_be_visible()


def _grouping_refuses_empty_fields(page: Page) -> None:
    page.get_by_role("button", name="Regrouper les comptes").click()
    expect(page.get_by_role("alert")).to_have_text(FIX_FIELDS)
    expect(page.get_by_text("Saisissez l'identifiant de l'autre compte.")).to_be_visible()
    expect(page.get_by_text("Saisissez le mot de passe de l'autre compte.")).to_be_visible()
    expect(page.get_by_label("Identifiant de l'autre compte")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Mot de passe de l'autre compte")).to_have_attribute("aria-invalid", "true")
    expect_accessible(page, "the grouping page with empty fields")


def _letters_state() -> list[tuple[int, object, object]]:
    return list(ActivationLetter.objects.order_by("pk").values_list("pk", "used_at", "revoked_at"))


def _bad_inputs_change_nothing(page: Page, demo: Demo, kept: Letter, other: Letter, mine: list[Pupil]) -> None:
    links, letters = _links(), _letters_state()
    stranger, pupil = _another_family(demo, kept), demo.pupils[0]

    # A wrong password for the other letter and an identifier no school issued: the same answer.
    wrong_password = _refused(page, other.identifier, WRONG_PASSWORD, WRONG_CREDENTIALS)
    expect_accessible(page, "the grouping page after wrong credentials")
    assert _refused(page, "x.personne99", other.provisional_password, WRONG_CREDENTIALS) == wrong_password
    # This account's own identifier, a pupil's letter, another family's letter: told once the password is right.
    _refused(page, kept.identifier, PASSWORD, SAME_ACCOUNT)
    _refused(page, pupil.identifier, pupil.provisional_password, NOT_GUARDIAN)
    _refused(page, stranger.identifier, stranger.provisional_password, NAMES_DIFFER)
    expect_accessible(page, "the grouping page after another family's letter")
    # The other letter's password alone: a child's birth date is asked, as at activation (issue #15, 6).
    _refused(page, other.identifier, other.provisional_password, BIRTH_DATE_NEEDED)

    # None of it changed anything: every account keeps its records, every letter still works.
    assert _links() == links
    assert _letters_state() == letters
    for letter in (other, stranger, pupil):
        assert account_of(letter.identifier).state == AccountState.PROVISIONAL
    assert _children(kept) == mine
    page.get_by_role("link", name="Retour à mon compte").click()
    expect_account_home(page, kept.identifier)
    _expect_children(page, mine)


def _group_the_other_letter(page: Page, kept: Letter, other: Letter, children: list[Pupil]) -> None:
    """The other school's letter, typed as printed: its child joins this account, the other one closes."""
    _open_grouping(page)
    _group(page, other.identifier, other.provisional_password, status=302, birth_date=other.birth_date)
    expect_account_home(page, kept.identifier)
    expect(page.get_by_role("status")).to_have_text(
        f"Le compte {other.identifier} est regroupé avec le vôtre : ses élèves sont maintenant dans « Mes enfants »."
    )
    _expect_children(page, children)
    absorbed = account_of(other.identifier)
    assert absorbed.state == AccountState.DISABLED
    assert absorbed.merged_into == account_of(kept.identifier)
    assert _children(kept) == sorted(children, key=lambda child: child.pk)


def test_grouping_two_letters_into_oneaccount_of(page: Page, demo: Demo) -> None:
    kept, other = _parent_with_two_letters(demo)
    mine, theirs = _children(kept), _children(other)
    _activate_first_letter(page, kept, mine)

    _open_grouping(page)
    expect_accessible(page, "the grouping page")
    _grouping_refuses_empty_fields(page)
    _bad_inputs_change_nothing(page, demo, kept, other, mine)
    _group_the_other_letter(page, kept, other, mine + theirs)

    # Grouping the same letter again says where it went.
    _open_grouping(page)
    _refused(
        page,
        other.identifier,
        other.provisional_password,
        f"Ce compte est déjà regroupé avec le compte {kept.identifier}.",
    )

    history = security_history(page)
    assert (EventTag.ACCOUNT_MERGED, "Élèves ajoutés depuis un autre compte (regroupement)") in history
    refusals = [line for line in history if line == (EventTag.GROUPING_REFUSED, "Regroupement de comptes refusé")]
    assert len(refusals) == 7
    expect_accessible(page, "the history page")

    # The other letter no longer opens an account: it names the identifier kept.
    page.get_by_role("link", name="Retour à mon compte").click()
    log_out(page)
    log_in(page, other.identifier, other.provisional_password)
    expect(page.get_by_role("alert")).to_have_text(
        f"Ce compte a été regroupé avec le compte {kept.identifier} : connectez-vous avec l'identifiant "
        f"{kept.identifier}."
    )
    log_in(page, kept.identifier, PASSWORD)
    expect_account_home(page, kept.identifier)
    _expect_children(page, mine + theirs)


# --- 3. Password, "Se déconnecter partout", history ------------------------------------------------------


def _expect_logged_out(device: Page) -> None:
    """The device's next page is the mire: its session was ended."""
    device.goto("/compte/")
    expect(device.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
    expect(device).to_have_url(re.compile(r"/login\?next=/compte/$"))


def _expect_still_logged_in(device: Page, identifier: str) -> None:
    device.goto("/compte/")
    expect_account_home(device, identifier)


def _fill_password_change(page: Page, *, current: str, new: str) -> None:
    page.get_by_label("Mot de passe actuel").fill(current)
    page.get_by_label(re.compile("^Nouveau mot de passe")).fill(new)
    page.get_by_label("Confirmez votre mot de passe").fill(new)
    page.get_by_role("button", name="Changer mon mot de passe").click()


def _end_sessions_elsewhere(page: Page, elsewhere: Page, identifier: str) -> None:
    """ "Se déconnecter partout": the laptop is sent to the mire, this browser stays."""
    sessions = page.locator("#my-sessions tbody tr")
    expect(sessions).to_have_count(2)
    expect(sessions.filter(has_text="cette session")).to_have_count(1)
    page.get_by_role("button", name="Se déconnecter partout").click()
    expect(page.get_by_role("status")).to_have_text("1 autre session a été fermée.")
    expect(sessions).to_have_count(1)
    _expect_logged_out(elsewhere)
    _expect_still_logged_in(page, identifier)
    page.get_by_role("button", name="Se déconnecter partout").click()
    expect(page.get_by_role("status")).to_have_text("Aucune autre session n'était ouverte.")


def _password_change_refuses_a_missing_or_wrong_current(page: Page, elsewhere: Page, identifier: str) -> None:
    _fill_password_change(page, current="", new=NEW_PASSWORD)
    expect(page.get_by_role("alert")).to_have_text(FIX_FIELDS)
    expect(page.get_by_text("Saisissez votre mot de passe actuel.")).to_be_visible()
    expect(page.get_by_label("Mot de passe actuel")).to_have_attribute("aria-invalid", "true")
    with page.expect_response(lambda r: r.request.method == "POST" and not r.url.endswith(CHECK)) as answer:
        _fill_password_change(page, current=WRONG_PASSWORD, new=NEW_PASSWORD)
    assert answer.value.status == 400
    expect(page.get_by_role("alert")).to_have_text(FIX_FIELDS)
    expect(page.get_by_text("Le mot de passe actuel est incorrect.")).to_be_visible()
    expect(page.get_by_label("Mot de passe actuel")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Mot de passe actuel")).to_have_value("")
    expect_accessible(page, "the password page with a wrong current password")
    # Nothing changed: the password, and the laptop's session.
    assert check_password(PASSWORD, account_of(identifier).password)
    _expect_still_logged_in(elsewhere, identifier)


def _change_password(page: Page, elsewhere: Page, identifier: str) -> None:
    """The right current password: changed; the laptop's session ends, this one stays."""
    _fill_password_change(page, current=PASSWORD, new=NEW_PASSWORD)
    expect_account_home(page, identifier)
    expect(page.get_by_role("status")).to_have_text(PASSWORD_CHANGED)
    expect(page.locator("#my-sessions tbody tr")).to_have_count(1)
    assert check_password(NEW_PASSWORD, account_of(identifier).password)
    _expect_logged_out(elsewhere)
    _expect_still_logged_in(page, identifier)
    log_in(elsewhere, identifier, PASSWORD)
    expect(elsewhere.get_by_role("alert")).to_have_text(LOGIN_FAILED)
    log_in(elsewhere, identifier, NEW_PASSWORD)
    expect_account_home(elsewhere, identifier)


def test_password_change_sessions_andsecurity_history(
    page: Page, browser: Browser, demo: Demo, live_server: LiveServer
) -> None:
    guardian = single_record_guardian(demo)
    identifier = guardian.identifier
    activate(guardian, password=PASSWORD)

    laptop = _second_browser(browser, live_server)
    try:
        elsewhere = laptop.new_page()
        log_in(elsewhere, identifier, PASSWORD)
        expect_account_home(elsewhere, identifier)
        log_in(page, identifier, PASSWORD)
        expect_account_home(page, identifier)
        _end_sessions_elsewhere(page, elsewhere, identifier)

        # The laptop logs in again; the password page.
        log_in(elsewhere, identifier, PASSWORD)
        expect_account_home(elsewhere, identifier)
        page.get_by_role("link", name=PASSWORD_PAGE).click()
        expect(page.get_by_role("heading", name=PASSWORD_PAGE, level=1)).to_be_visible()
        expect_accessible(page, "the password page")
        _password_change_refuses_a_missing_or_wrong_current(page, elsewhere, identifier)
        _change_password(page, elsewhere, identifier)
    finally:
        laptop.close()

    # The history tells all of it, newest first, with the address each step came from.
    history = security_history(page)
    assert history[:9] == [
        (EventTag.LOGIN_SUCCESS, "Connexion réussie"),
        (EventTag.LOGIN_FAILURE, "Échec de connexion (mot de passe incorrect)"),
        (EventTag.PASSWORD_CHANGED, "Mot de passe modifié"),
        (EventTag.PASSWORD_CHANGE_FAILURE, "Changement de mot de passe refusé (mot de passe actuel incorrect)"),
        (EventTag.LOGIN_SUCCESS, "Connexion réussie"),
        (EventTag.SESSIONS_ENDED, "Déconnexion de toutes les autres sessions"),
        (EventTag.SESSIONS_ENDED, "Déconnexion de toutes les autres sessions"),
        (EventTag.LOGIN_SUCCESS, "Connexion réussie"),
        (EventTag.LOGIN_SUCCESS, "Connexion réussie"),
    ]
    first = page.locator("#my-history tbody tr").first.get_by_role("cell")
    expect(first.nth(2)).to_have_text("127.0.0.1")
    expect_accessible(page, "the history page")
