"""Import from the console: dry run with the error report, confirmation, refusals, audit."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests import factories
from tests.console import helpers
from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.console.models import PendingImport, StaffRole
from trousseau.directory.models import Guardian, Pupil

pytestmark = pytest.mark.django_db
PUPILS = [
    "INE;NOM;PRENOM;DATE_NAISS;CLASSE;UAI",
    "100000001AB;Dupont;Léa;14/03/2012;5e B;",
    "100000002AB;Martin;Hugo;02/05/2012;5e B;",
]
GUARDIANS = [
    "ID_RESPONSABLE;NOM;PRENOM;TEL_PORTABLE;COURRIEL;INE_ELEVE;RESP_LEGAL",
    "R1;Dupont;Sophie;06 12 34 56 78;;100000001AB;1",
    "R2;Martin;Karim;06 11 22 33 44;;100000002AB;1",
]


def upload(name: str, lines: list[str], *, encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\r\n".join(lines) + "\r\n").encode(encoding), content_type="text/csv")


def check(browser, school, pupils=PUPILS, guardians=GUARDIANS, **kw):
    files = {}
    if pupils is not None:
        files["pupils"] = upload("eleves.csv", pupils, **kw)
    if guardians is not None:
        files["guardians"] = upload("responsables.csv", guardians, **kw)
    return browser.post(reverse("console:import", args=[school.uai]), files, follow=True)


def confirm_url(page: str) -> str:
    found = re.search(r'action="(/console/etablissements/[^"]+/import/[0-9a-f-]{36}/confirmer/)"', page)
    assert found, page
    return found.group(1)


def test_a_clean_import_is_previewed_then_applied(browser, school, member):
    preview = check(browser, school)
    assert preview.status_code == 200
    assert "Aucune erreur" in preview.text
    assert not Pupil.objects.exists()  # nothing written before the confirmation
    assert helpers.events(EventTag.CONSOLE_IMPORT_PREVIEWED, staff=member.pk, school=school.uai)
    done = browser.post(confirm_url(preview.text), follow=True)
    assert done.status_code == 200
    assert done.redirect_chain[0][0].startswith(f"/console/etablissements/{school.uai}/import/suivi/")
    assert "Import terminé" in done.text
    assert Pupil.objects.filter(school=school).count() == 2
    assert Guardian.objects.count() == 2
    assert Account.objects.count() == 4
    [event] = helpers.events(EventTag.CONSOLE_IMPORT_APPLIED, staff=member.pk, school=school.uai)
    assert event.data["pupils"]["created"] == 2
    assert event.data["pupils_name"] == "eleves.csv"
    assert not PendingImport.objects.exists()
    # The same confirmation again: the pending import is gone.
    assert browser.post(confirm_url(preview.text)).status_code == 404


def test_a_broken_line_is_reported_and_nothing_is_imported(browser, school, member):
    broken = [*PUPILS, "12345;Roux;Zoé;31/02/2012;5e B;"]
    response = check(browser, school, pupils=broken)
    assert response.status_code == 400
    assert "rien ne sera importé" in response.text
    table = response.text[response.text.index('id="import-errors"') :]
    assert "<td>4</td>" in table
    assert "INE" in table
    assert "Confirmer l'import" not in response.text
    assert not PendingImport.objects.exists()
    assert not Pupil.objects.exists()
    [event] = helpers.events(EventTag.CONSOLE_IMPORT_PREVIEWED, staff=member.pk)
    assert event.data["error_count"] >= 1


def test_latin1_and_utf8_with_bom_are_both_read(browser, school):
    assert check(browser, school, guardians=None, encoding="latin-1").status_code == 200
    bom = SimpleUploadedFile(
        "eleves.csv", b"\xef\xbb\xbf" + ("\r\n".join(PUPILS) + "\r\n").encode(), content_type="text/csv"
    )
    response = browser.post(reverse("console:import", args=[school.uai]), {"pupils": bom}, follow=True)
    assert response.status_code == 200


def test_another_schools_pupil_is_refused(browser, school):
    other = factories.school(uai="0141234A")
    response = check(
        browser, school, pupils=[*PUPILS, f"100000003AB;Roux;Zoé;01/01/2012;5e B;{other.uai}"], guardians=None
    )
    assert response.status_code == 400
    assert "autre établissement" in response.text


def test_an_unreadable_file_is_refused_with_a_clear_message(browser, school, member):
    response = check(browser, school, pupils=["NOM;PRENOM", "Dupont;Léa"], guardians=None)
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert not Pupil.objects.exists()
    assert helpers.events(EventTag.CONSOLE_IMPORT_REFUSED, staff=member.pk)


def test_no_file_at_all(browser, school):
    response = browser.post(reverse("console:import", args=[school.uai]), {})
    assert response.status_code == 400
    assert "Choisissez au moins un fichier à importer." in response.text


def test_a_file_over_the_cap_is_refused(browser, school, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    response = check(browser, school, guardians=None)
    assert response.status_code == 413
    assert "taille maximale" in response.text
    assert not Pupil.objects.exists()


def test_a_request_announcing_gigabytes_is_refused_before_it_is_read(browser, school, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1024
    body = io.BytesIO(b"x" * 10)
    response = browser.generic(
        "POST",
        reverse("console:import", args=[school.uai]),
        body.getvalue(),
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(3 * 1024**3),
    )
    assert response.status_code == 413
    assert "taille maximale" in response.text
    [event] = helpers.events(EventTag.CONSOLE_IMPORT_REFUSED, school=school.uai)
    assert event.data["declared_bytes"] == str(3 * 1024**3)


def test_the_upload_still_needs_its_csrf_token(browser, school):
    strict = browser
    strict.handler.enforce_csrf_checks = True
    files = {"pupils": upload("eleves.csv", PUPILS)}
    assert strict.post(reverse("console:import", args=[school.uai]), files).status_code == 403
    assert not PendingImport.objects.exists()


def test_another_staff_member_cannot_confirm_my_import(browser, school):
    preview = check(browser, school)
    colleague = helpers.console(helpers.staff(StaffRole.HEAD, school=school))
    assert colleague.post(confirm_url(preview.text)).status_code == 404
    assert not Pupil.objects.exists()
    job_page = preview.redirect_chain[-1][0]
    assert colleague.get(job_page).status_code == 404  # nor follow it
    assert colleague.get(job_page + "etat/").status_code == 404
