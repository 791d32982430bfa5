"""The console takes the schools' exports as downloaded: SIECLE's zips for a collège, ONDE's CSVs for an école."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests import factories
from tests.console import helpers
from tests.console.test_imports import confirm_url
from trousseau.audit.events import EventTag
from trousseau.console.models import StaffRole
from trousseau.demo.samples.exports import write_samples
from trousseau.directory.models import Guardian, Pupil, SchoolLevel

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    return write_samples(tmp_path_factory.mktemp("exports"))


def zipped(path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="application/zip")


def post(browser, school, **files):
    return browser.post(reverse("console:import", args=[school.uai]), files, follow=True)


def test_a_secretary_imports_siecles_zips_as_downloaded(browser, school, member, samples):
    form = browser.get(reverse("console:import", args=[school.uai]))
    assert "ElevesSansAdresses" in form.text
    assert 'accept=".zip,' in form.text
    pupils, guardians = samples.colleges[school.uai]
    preview = post(browser, school, pupils=zipped(pupils), guardians=zipped(guardians))
    assert "Aucune erreur" in preview.text, preview.text[:3000]
    done = browser.post(confirm_url(preview.text), follow=True)
    assert "Import terminé" in done.text
    assert Pupil.objects.filter(school=school).exclude(source_id="").count() == samples.counts[school.uai] - 1
    [event] = helpers.events(EventTag.CONSOLE_IMPORT_APPLIED, staff=member.pk, school=school.uai)
    assert event.data["pupils_name"] == "ElevesSansAdresses.zip"


def test_a_file_in_the_wrong_field_is_refused_with_where_it_belongs(browser, school, member, samples):
    _pupils, guardians = samples.colleges[school.uai]
    page = post(browser, school, pupils=zipped(guardians))
    assert "Ce fichier est ResponsablesAvecAdresses.xml : déposez-le dans « Responsables »." in page.text
    assert not Pupil.objects.exists()
    assert helpers.events(EventTag.CONSOLE_IMPORT_REFUSED, staff=member.pk, school=school.uai)


def test_another_schools_export_is_refused(browser, school, member, samples):
    other = samples.colleges["0147890D"][0]
    page = post(browser, school, pupils=zipped(other))
    assert "établissement 0147890D, et non du vôtre (0145678B)" in page.text
    assert not Pupil.objects.exists()


def test_an_ecole_director_imports_ondes_extractions(samples):
    ecole = factories.school(uai=samples.ecole_uai, name="École Jules-Ferry", level=SchoolLevel.ECOLE)
    director = helpers.staff(StaffRole.SECRETARIAT, school=ecole)
    browser = helpers.console(director)
    form = browser.get(reverse("console:import", args=[ecole.uai]))
    assert "ONDE" in form.text
    assert "SIECLE" not in form.text
    pupils, guardians = samples.ecole
    files = {
        "pupils": SimpleUploadedFile("CSVExtraction.csv", pupils.read_bytes(), content_type="text/csv"),
        "guardians": SimpleUploadedFile("CSVExtraction (1).csv", guardians.read_bytes(), content_type="text/csv"),
    }
    preview = post(browser, ecole, **files)
    assert "Aucune erreur" in preview.text, preview.text[:3000]
    browser.post(confirm_url(preview.text), follow=True)
    assert Pupil.objects.filter(school=ecole).count() == samples.counts[ecole.uai]
    assert Guardian.objects.filter(school=ecole).exists()
