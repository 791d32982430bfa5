"""Issue #19's batch actions walked in Chromium, as staff of a collège, of an école and of the académie:
tick accounts on a search or a waiting list, read what will happen, confirm, get the letters. axe on every page."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Download, Page, expect
from pypdf import PdfReader

from tests import factories
from tests.browser.steps import expect_accessible
from tests.browser.test_console_import_safety import _log_in
from tests.console import helpers
from trousseau.accounts.models import Account, AccountState
from trousseau.audit.events import EventTag
from trousseau.console.models import StaffMember, StaffRole
from trousseau.directory.models import School, SchoolLevel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _tick(page: Page, account: Account) -> None:
    label = f"Sélectionner {account.last_name.upper()} {account.first_name} ({account.identifier})"
    box = page.get_by_label(label)
    box.click()  # in a DSFR table the box itself takes the click, its label lets it through
    expect(box).to_be_checked()


def _pdf_pages(download: Download) -> list[str]:
    reader = PdfReader(io.BytesIO(download.path().read_bytes()))
    return [page.extract_text() for page in reader.pages]


def _confirm_and_download(page: Page, button: str) -> Download:
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    return info.value


def _states(*accounts: Account) -> list[str]:
    return [Account.objects.get(pk=a.pk).state for a in accounts]


def test_a_college_secretary_reprints_three_letters_then_resets_two_accounts(page: Page) -> None:
    school = factories.school(uai="0145678B", name="Collège Jean-Moulin")
    arnaud = helpers.family(school, last_name="Arnaud", first_name="Léo")
    bernard = helpers.family(school, last_name="Bernard", first_name="Inès")
    colin = helpers.family(school, last_name="Colin", first_name="Hugo")
    forgot = [helpers.activate(arnaud.guardian_account), helpers.activate(bernard.guardian_account)]
    waiting = [arnaud.pupil_account, bernard.pupil_account, colin.pupil_account]
    _log_in(page, helpers.staff(StaffRole.SECRETARIAT, school=school), school)

    page.goto(f"/console/etablissements/{school.uai}/")
    page.get_by_role("link", name="Comptes", exact=True).click()
    page.get_by_label("Classe").select_option("5e B")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", name="6 comptes trouvés")).to_be_visible()
    expect_accessible(page, "a search result with its checkboxes")
    for account in waiting:
        _tick(page, account)
    page.get_by_role("button", name="Réimprimer les courriers (PDF)").click()

    expect(page.get_by_role("heading", name="Réimprimer les courriers de 3 comptes ?")).to_be_visible()
    expect(page.get_by_text("3 courriers encore valides ne pourront plus servir")).to_be_visible()
    expect(page.locator("#batch-accounts tbody tr")).to_have_count(3)
    expect_accessible(page, "the confirmation of a batch reprint")
    pages = _pdf_pages(_confirm_and_download(page, "Réimprimer les courriers"))
    assert len(pages) == 3
    assert all(any(a.identifier in text for text in pages) for a in waiting)
    assert helpers.events(EventTag.CONSOLE_BATCH_APPLIED, action="reprint", count=3)

    # Two parents forgot their password: a reset (they are signed out) and their new letters.
    page.get_by_role("link", name="Annuler").click()
    expect(page.get_by_role("heading", name="6 comptes trouvés")).to_be_visible()
    for account in forgot:
        _tick(page, account)
    page.get_by_role("button", name="Réinitialiser", exact=True).click()
    expect(page.get_by_role("heading", name="Réinitialiser 2 comptes ?")).to_be_visible()
    effects = page.locator("#batch-effects")
    expect(effects).to_contain_text("Le mot de passe actuel de ces comptes cesse de fonctionner.")
    expect(effects).to_contain_text("les familles sont déconnectées")
    # Activated without using their letter (helpers.activate): once reset, it would open the account again.
    expect(effects).to_contain_text("2 courriers encore valides ne pourront plus servir")
    expect_accessible(page, "the confirmation of a batch reset")
    pages = _pdf_pages(_confirm_and_download(page, "Réinitialiser et imprimer les courriers"))
    assert len(pages) == 2
    assert _states(*forgot) == [AccountState.PROVISIONAL, AccountState.PROVISIONAL]
    assert _states(colin.guardian_account) == [AccountState.PROVISIONAL]


def test_an_ecole_director_exports_a_class_waiting_list_and_disables_one_account(page: Page) -> None:
    ecole = factories.school(uai="0141234A", name="École Jules-Ferry", level=SchoolLevel.ECOLE)
    pupils = [
        factories.pupil(school=ecole, class_name="CM1", last_name=name, first_name=first)
        for name, first in (("Lefèvre", "Jade"), ("Moreau", "Tom"), ("Petit", "Lina"))
    ]
    guardians = [
        factories.guardian_account(children=[p], last_name=p.last_name, first_name="Parent", email="")[0]
        for p in pupils
    ]
    factories.guardian_account(children=[factories.pupil(school=ecole, class_name="CP")], last_name="Zola")
    director = helpers.staff(StaffRole.HEAD, school=ecole, first_name="Anne", last_name="Morel")
    _log_in(page, director, ecole)

    page.goto(f"/console/etablissements/{ecole.uai}/")
    page.get_by_role("link", name="Suivi des activations").click()
    page.get_by_role("link", name="Qui n'a pas activé en CM1").click()
    expect(page.get_by_role("heading", name="Comptes en attente d'activation en CM1")).to_be_visible()
    expect(page.locator("#waiting tbody tr")).to_have_count(3)
    expect_accessible(page, "an école's waiting list with its checkboxes")

    with page.expect_download() as info:
        page.get_by_role("link", name="Exporter cette liste (CSV)").click()
    rows = list(csv.reader(io.StringIO(info.value.path().read_text(encoding="utf-8-sig")), delimiter=";"))
    if len(rows[0]) == 1:  # the export is comma-separated
        rows = list(csv.reader(io.StringIO(info.value.path().read_text(encoding="utf-8-sig"))))
    assert {row[2] for row in rows[1:]} == {g.identifier for g in guardians}

    # The Moreau family moved away: the director disables their account from the list.
    leaving = guardians[1]
    _tick(page, leaving)
    page.get_by_role("button", name="Désactiver", exact=True).click()
    expect(page.get_by_role("heading", name="Désactiver 1 compte ?")).to_be_visible()
    expect(page.locator("#batch-effects")).to_contain_text("Plus personne ne peut se connecter avec ces comptes")
    expect_accessible(page, "the confirmation of a batch disable")
    page.get_by_role("button", name="Désactiver les comptes").click()
    expect(page.get_by_text("1 compte a été désactivé. Ses sessions ont été fermées.")).to_be_visible()
    expect(page.get_by_role("heading", name="Comptes en attente d'activation en CM1")).to_be_visible()
    expect(page.locator("#waiting tbody tr")).to_have_count(2)
    expect_accessible(page, "the waiting list after a batch disable")
    assert _states(*guardians) == [AccountState.PROVISIONAL, AccountState.DISABLED, AccountState.PROVISIONAL]


# The académie operator's part; tests/browser/test_console_staff.py walks it before the staff administration.

FAMILY_MOBILE = "+33644556677"


def family_reached_by_phone(school: School) -> list[Account]:
    """A pupil and a guardian who gave the same mobile, and a namesake with another one."""
    family = helpers.family(school, last_name="Garnier")
    record = family.guardian_account.guardian_links.get().guardian
    record.mobile = FAMILY_MOBILE
    record.save()
    helpers.activate(family.guardian_account)
    family.pupil_account.phone = FAMILY_MOBILE  # the pupil gave the family's mobile for recovery
    family.pupil_account.save()
    helpers.family(school, last_name="Garnier", first_name="Noé")  # same name, another phone: not found
    return [family.pupil_account, family.guardian_account]


def operator_picks_the_school(page: Page, school: School) -> None:
    page.goto("/console/etablissements/")
    expect(page.get_by_role("heading", name="Établissements", level=1)).to_be_visible()
    page.get_by_label("Rechercher un établissement (nom ou UAI)").fill("Moulin")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name=school.name).click()
    expect(page.get_by_role("heading", name=school.name, level=1)).to_be_visible()


def operator_resets_a_family_found_by_phone(page: Page, school: School, accounts: list[Account]) -> None:
    page.get_by_role("link", name="Comptes", exact=True).click()
    page.get_by_label("Nom, identifiant, INE, téléphone ou email").fill("06 44 55 66 77")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", name="2 comptes trouvés")).to_be_visible()
    page.get_by_role("button", name="Tout sélectionner (2 comptes affichés)").click()  # no JavaScript needed
    for account in accounts:
        expect(page.get_by_label(re.compile(re.escape(f"({account.identifier})")))).to_be_checked()
    expect_accessible(page, "a search by phone, every account ticked")
    page.get_by_role("button", name="Réinitialiser", exact=True).click()
    expect(page.get_by_role("heading", name="Réinitialiser 2 comptes ?")).to_be_visible()
    expect_accessible(page, "the operator's confirmation of a batch reset")
    pages = _pdf_pages(_confirm_and_download(page, "Réinitialiser et imprimer les courriers"))
    assert len(pages) == 2
    assert _states(*accounts) == [AccountState.PROVISIONAL, AccountState.PROVISIONAL]


def operator_reads_the_journal(page: Page, school: School, operator: StaffMember) -> None:
    page.goto(f"/console/etablissements/{school.uai}/")
    page.get_by_role("link", name="Journal", exact=True).click()
    batch_line = page.locator('#journal tr[data-tag="console:batch:applied"]')
    expect(batch_line).to_have_count(1)
    expect(batch_line).to_contain_text(operator.email)
    expect(batch_line).to_contain_text("Console : action sur une sélection de comptes")
    expect(batch_line).to_contain_text("comptes réinitialisés : 2 compte(s)")
    expect(page.locator('#journal tr[data-tag="console:account:reset"]')).to_have_count(2)
    expect_accessible(page, "the journal after a batch reset")
