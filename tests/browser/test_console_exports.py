"""Issue #18 walked in Chromium: a collège secretary drops SIECLE's zips as she downloaded them, an école
director ONDE's two extractions; a file in the wrong field is refused with where it belongs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.steps import choose, expect_accessible
from tests.browser.test_console_import_safety import COMPLETE, _log_in, _open_import
from tests.console import helpers
from trousseau.console.models import StaffRole
from trousseau.demo.samples.exports import Samples, write_samples
from trousseau.directory.models import Guardian, Pupil, SchoolLevel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    return write_samples(tmp_path_factory.mktemp("exports"))


def _drop(page: Page, pupils: Path | None, guardians: Path | None, *, refused: bool = False) -> None:
    if pupils is not None:
        page.get_by_label(re.compile("^Élèves")).set_input_files(pupils)
    if guardians is not None:
        page.get_by_label(re.compile("^Responsables")).set_input_files(guardians)
    page.get_by_role("button", name="Vérifier les fichiers").click()
    if not refused:
        expect(page.get_by_role("heading", name="Vérification de l'import")).to_be_visible()


def test_a_college_secretary_imports_siecles_zips_as_downloaded(page: Page, samples: Samples) -> None:
    school = factories.school(uai="0145678B", name="Collège Jean-Moulin")
    _log_in(page, helpers.staff(StaffRole.SECRETARIAT, school=school), school)
    _open_import(page, school)
    expect(page.get_by_text("ElevesSansAdresses (ou ElevesAvecAdresses)")).to_be_visible()
    pupils, guardians = samples.colleges[school.uai]

    # The guardians' zip dropped as pupils: refused, saying where it goes; nothing written.
    _drop(page, guardians, None, refused=True)
    expect(page.get_by_role("alert")).to_contain_text(
        "Ce fichier est ResponsablesAvecAdresses.xml : déposez-le dans « Responsables »."
    )
    expect_accessible(page, "an export dropped in the wrong field")
    assert not Pupil.objects.exists()

    _open_import(page, school)
    choose(page, COMPLETE)
    _drop(page, pupils, guardians)
    expect(page.get_by_role("status").filter(has_text="Aucune erreur")).to_be_visible()
    page.get_by_role("button", name="Confirmer l'import").click()
    expect(page.get_by_role("heading", name="Import terminé")).to_be_visible()
    # Every pupil but the one who left in October (DATE_SORTIE), with SIECLE's ELEVE_ID.
    assert Pupil.objects.filter(school=school, left_at=None).count() == samples.counts[school.uai] - 1
    assert not Pupil.objects.filter(source_id="").exists()
    assert Guardian.objects.get(school=school, source_id="3400005").first_name == "Sophie"


def test_an_ecole_director_imports_ondes_extractions(page: Page, samples: Samples) -> None:
    ecole = factories.school(uai=samples.ecole_uai, name="École Jules-Ferry", level=SchoolLevel.ECOLE)
    _log_in(page, helpers.staff(StaffRole.SECRETARIAT, school=ecole), ecole)
    _open_import(page, ecole)
    expect(page.get_by_text("Déposez les deux extractions d’ONDE")).to_be_visible()
    expect_accessible(page, "an école's import page")
    _drop(page, *samples.ecole)
    expect(page.get_by_role("status").filter(has_text="Aucune erreur")).to_be_visible()
    page.get_by_role("button", name="Confirmer l'import").click()
    expect(page.get_by_role("heading", name="Import terminé")).to_be_visible()
    assert Pupil.objects.filter(school=ecole).count() == samples.counts[ecole.uai]
    assert Guardian.objects.filter(school=ecole, last_name="LEFÈVRE", first_name="Sophie").exists()
