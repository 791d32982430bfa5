"""Issue #15 findings 12 and 14 walked in Chromium, as the secretary who found them: an incomplete file
dropped as the school's complete list names the pupils who would leave and cannot be confirmed without
saying how many; a mobile she fixed in the console is offered against the file's, kept by default."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import FilePayload, Page, expect

from tests import factories
from tests.browser.steps import choose, console_log_in, expect_accessible
from tests.console import helpers
from trousseau.accounts.models import Account, AccountState
from trousseau.console.models import StaffMember, StaffRole
from trousseau.directory.models import Guardian, Pupil, School

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PUPILS_HEADER = "INE;NOM;PRENOM;DATE_NAISS;CLASSE;UAI"
GUARDIANS_HEADER = "ID_RESPONSABLE;NOM;PRENOM;TEL_PORTABLE;COURRIEL;INE_ELEVE;RESP_LEGAL"
ADDITIONS = "Ajouts et modifications seulement : les élèves absents du fichier restent inscrits"
COMPLETE = "Liste complète de l'établissement : les élèves absents du fichier quittent l'établissement"


def _log_in(page: Page, member: StaffMember, school: School) -> None:
    console_log_in(page, member.email, helpers.STAFF_PASSWORD, helpers.code_for(member))
    expect(page.get_by_role("heading", name=school.name)).to_be_visible()


def _upload(page: Page, school: School, *, pupils: list[str] | None = None, guardians: list[str] | None = None) -> None:
    for label, name, lines in (
        ("^Élèves", "eleves.csv", pupils),
        ("^Responsables", "resp.csv", guardians),
    ):
        if lines is not None:
            content = ("\r\n".join(lines) + "\r\n").encode()
            page.get_by_label(re.compile(label)).set_input_files(
                FilePayload(name=name, mimeType="text/csv", buffer=content)
            )
    page.get_by_role("button", name="Vérifier les fichiers").click()
    expect(page.get_by_role("heading", name="Vérification de l'import")).to_be_visible()


def _open_import(page: Page, school: School) -> None:
    page.goto(f"/console/etablissements/{school.uai}/import/")
    expect(page.get_by_role("heading", name="Importer les fiches des élèves et des responsables")).to_be_visible()
    expect(page.get_by_label(ADDITIONS, exact=True)).to_be_checked()  # nobody leaves unless she says so


def test_finding_12_a_complete_list_that_removes_pupils_names_them_and_asks_how_many(page: Page) -> None:
    school = factories.school(uai="0143333C", name="Collège C")
    for first_name in ["Anna", "Basile", "Chloé"]:
        account, _, _ = factories.pupil_account(school=school, first_name=first_name, last_name="Élève")
        helpers.activate(account)
    kept = Pupil.objects.get(first_name="Anna")
    _log_in(page, helpers.staff(StaffRole.SECRETARIAT, school=school), school)
    _open_import(page, school)
    choose(page, COMPLETE)
    expect_accessible(page, "the import page with its choice of what the files are")
    _upload(page, school, pupils=[PUPILS_HEADER, f"{kept.ine};Élève;Anna;14/03/2012;6e A;"])

    expect(page.get_by_role("alert").first).to_contain_text("cet import fera partir des élèves")
    leaving = page.locator("#import-leaving tbody tr")
    expect(leaving).to_have_count(2)
    expect(leaving.filter(has_text="Basile")).to_be_visible()
    expect(leaving.filter(has_text="Chloé")).to_be_visible()
    expect_accessible(page, "the preview of a complete list that removes pupils")
    page.get_by_role("button", name="Confirmer l'import").click()  # the boxes are required: nothing is sent
    expect(page.get_by_role("heading", name="Vérification de l'import")).to_be_visible()
    assert Pupil.objects.filter(school=school, left_at=None).count() == 3

    # She ticks both boxes, clicking their labels as a person does (the DSFR draws the box over the input).
    for said in (
        r"^Je confirme le départ de 2 élève",
        r"^Je confirme que .* % des élèves de l'établissement le quittent",
    ):
        page.locator("label", has_text=re.compile(said)).click()
        expect(page.get_by_label(re.compile(said))).to_be_checked()
    page.get_by_role("button", name="Confirmer l'import").click()
    expect(page.get_by_role("heading", name="Import terminé")).to_be_visible()
    assert list(Pupil.objects.filter(school=school, left_at=None)) == [kept]
    assert Account.objects.filter(pupil__school=school, state=AccountState.DISABLED).count() == 2


def test_finding_14_a_number_fixed_in_the_console_is_offered_against_the_files(page: Page) -> None:
    school = factories.school(uai="0144444D", name="Collège D")
    pupil = factories.pupil(school=school, ine="100000009AB")
    account, _, _ = factories.guardian_account(
        children=[pupil],
        school=school,
        source_key="id:R1",
        last_name="Dupont",
        first_name="Sophie",
        mobile="+33612345678",
    )
    guardian = Guardian.objects.get(source_key="id:R1")
    _log_in(page, helpers.staff(StaffRole.SECRETARIAT, school=school), school)

    page.goto(f"/console/etablissements/{school.uai}/comptes/{account.pk}/responsables/{guardian.pk}/")
    page.get_by_label(re.compile("^Téléphone portable")).fill("06 99 88 77 66")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Les coordonnées du responsable ont été enregistrées.")).to_be_visible()
    guardian.refresh_from_db()
    assert guardian.mobile == "+33699887766"

    _open_import(page, school)
    _upload(page, school, guardians=[GUARDIANS_HEADER, "R1;Dupont;Sophie;06 12 34 56 78;;100000009AB;1"])
    conflict = page.get_by_role("group", name="Portables corrigés dans la console que le fichier changerait")
    expect(conflict).to_contain_text("Sophie Dupont")
    expect(conflict.get_by_label("Garder le numéro corrigé dans la console : +33699887766")).to_be_checked()
    expect_accessible(page, "the preview with a phone conflict")
    page.get_by_role("button", name="Confirmer l'import").click()
    expect(page.get_by_role("heading", name="Import terminé")).to_be_visible()
    guardian.refresh_from_db()
    assert guardian.mobile == "+33699887766"
