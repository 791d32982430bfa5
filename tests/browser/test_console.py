"""The school console walked in Chromium: a secretary logs in with TOTP, imports her school's records
(a broken line reported first), prints a class's letters, a guardian activates with one, and the
follow-up shows the rate move. axe-core checks every console page passed through.

The staff member comes from the demo's staff.csv (written by `seed_demo` beside credentials.csv); the
school's records are exported from the demo académie as SIECLE would, with a new class added.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import zxingcpp
from playwright.sync_api import FilePayload, Page, expect
from pypdf import PdfReader
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import TIMEOUT_MS, Demo
from tests.browser.staff import COLLEGE, secretary, staff_log_in
from tests.browser.steps import (
    choose,
    expect_accessible,
    expect_account_home,
    expect_activation_page,
    fill_activation,
    log_in,
    submit_activation,
)
from trousseau.accounts.models import Account, AccountState
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.console.models import ImportJob
from trousseau.console.tasks import run_import_job
from trousseau.directory.models import Guardianship, Pupil, School

pytestmark = pytest.mark.browser

NEW_CLASS = "4e Z"
NEW_PUPILS = [
    ("100000901AB", "Roux", "Zoé", date(2011, 4, 2), "Luc", "06 71 00 00 01"),
    ("100000902AB", "Benali", "Yanis", date(2011, 6, 18), "Samira", "06 71 00 00 02"),
    ("100000903AB", "Le Gall", "Maëlys", date(2011, 11, 30), "Erwan", "06 71 00 00 03"),
]
GUARDIAN_PASSWORD = "Cartable#Violet42"


def _exports(school: School, *, broken: bool) -> tuple[bytes, bytes]:
    """The school's pupils and guardians as SIECLE exports them, with the new class (and a broken line)."""
    pupils = ["INE;NOM;PRENOM;DATE_NAISS;CLASSE;UAI"]
    guardians = ["ID_RESPONSABLE;NOM;PRENOM;TEL_PORTABLE;COURRIEL;INE_ELEVE;RESP_LEGAL"]
    pupils += [
        f"{p.ine};{p.last_name};{p.first_name};{p.birth_date:%d/%m/%Y};{p.class_name};"
        for p in Pupil.objects.filter(school=school).order_by("pk")
    ]
    for link in Guardianship.objects.filter(pupil__school=school).select_related("guardian", "pupil").order_by("pk"):
        g = link.guardian
        guardians.append(f";{g.last_name};{g.first_name};{g.mobile};{g.email};{link.pupil.ine};1")
    for ine, last, first, born, parent, mobile in NEW_PUPILS:
        pupils.append(f"{ine};{last};{first};{born:%d/%m/%Y};{NEW_CLASS};{COLLEGE}")
        guardians.append(f";{last};{parent};{mobile};;{ine};1")
    if broken:
        pupils.append(f"12345;Faure;Noé;31/02/2011;{NEW_CLASS};")
    return ("\r\n".join(pupils) + "\r\n").encode(), ("\r\n".join(guardians) + "\r\n").encode()


def _upload(page: Page, pupils: bytes, guardians: bytes) -> None:
    page.get_by_role("main").get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Importer les fiches des élèves et des responsables")).to_be_visible()
    page.get_by_label(re.compile("^Élèves")).set_input_files(
        FilePayload(name="eleves.csv", mimeType="text/csv", buffer=pupils)
    )
    page.get_by_label(re.compile("^Responsables")).set_input_files(
        FilePayload(name="responsables.csv", mimeType="text/csv", buffer=guardians)
    )
    page.get_by_role("button", name="Vérifier les fichiers").click()


def _import(page: Page, school: School) -> None:
    pupils_before = Pupil.objects.filter(school=school).count()
    broken_pupils, guardians = _exports(school, broken=True)
    _upload(page, broken_pupils, guardians)
    expect(page.get_by_role("heading", name="Vérification de l'import")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("rien ne sera importé")
    errors = page.locator("#import-errors tbody tr")
    line = str(pupils_before + len(NEW_PUPILS) + 2)  # header, then the school's pupils, then the new ones
    expect(errors.filter(has=page.get_by_role("cell", name=line, exact=True)).first).to_contain_text("INE")
    expect(page.get_by_role("button", name="Confirmer l'import")).to_have_count(0)
    expect_accessible(page, "the import preview with its error report")
    assert Pupil.objects.filter(school=school).count() == pupils_before  # nothing half-imported

    fixed_pupils, guardians = _exports(school, broken=False)
    page.get_by_role("link", name="Déposer d'autres fichiers").click()
    expect_accessible(page, "the import page")
    _upload(page, fixed_pupils, guardians)
    expect(page.get_by_role("status").filter(has_text="Aucune erreur")).to_be_visible()
    expect(page.locator("#import-counts")).to_contain_text(str(len(NEW_PUPILS)))
    expect_accessible(page, "the import preview")
    page.get_by_role("button", name="Confirmer l'import").click()
    expect(page.get_by_role("heading", name="Import terminé")).to_be_visible()
    expect_accessible(page, "the import result")
    assert Pupil.objects.filter(school=school, class_name=NEW_CLASS).count() == len(NEW_PUPILS)
    assert Pupil.objects.filter(school=school, left_at=None).count() == pupils_before + len(NEW_PUPILS)
    assert AuditEvent.objects.filter(tag=EventTag.CONSOLE_IMPORT_APPLIED, data__school=COLLEGE).count() == 1


def _print(page: Page, *, who: str) -> bytes:
    page.get_by_role("main").get_by_role("link", name="Courriers", exact=True).click()
    expect(page.get_by_role("heading", name="Courriers d'activation")).to_be_visible()
    page.get_by_label("Classe", exact=True).select_option(NEW_CLASS)
    choose(page, who)
    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger les courriers (PDF)").click()
    assert download.value.suggested_filename.endswith(".pdf")
    return Path(download.value.path()).read_bytes()


@dataclass(frozen=True)
class PrintedLetter:
    identifier: str
    password: str
    qr: list[str]  # what the page's QR codes decode to
    help: str  # the "Besoin d'aide ?" line, with the school's contact


def _read_letters(pdf: bytes) -> list[PrintedLetter]:
    """Each page's identifier and provisional password, as a person reads them, and its decoded QR code."""
    letters = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        text = page.extract_text()
        found = re.search(r"^Identifiant\n(\S+)\nMot de passe provisoire\n(\S+)$", text, re.MULTILINE)
        assert found, text
        decoded = [result.text for image in page.images for result in zxingcpp.read_barcodes(image.image)]
        joined = " ".join(text.split())
        help_line = joined[joined.find("Besoin d'aide ?") :]
        letters.append(PrintedLetter(found.group(1), found.group(2), decoded, help_line))
    return letters


def _set_contact(page: Page) -> None:
    """The school's contact, which the letters print for families who need help: a bad number first."""
    page.get_by_label("Téléphone du secrétariat").fill("12")
    page.get_by_role("button", name="Enregistrer le contact").click()
    expect(page.get_by_text("Ce numéro de téléphone n'est pas valide")).to_be_visible()
    expect_accessible(page, "the school's contact with an error")
    page.get_by_label("Téléphone du secrétariat").fill("02 31 00 00 00")
    page.get_by_label("Horaires").fill("du lundi au vendredi, de 8 h 30 à 12 h")
    page.get_by_role("button", name="Enregistrer le contact").click()
    expect(page.get_by_text("Le contact imprimé sur les courriers a été enregistré.")).to_be_visible()


def _print_again_is_asked(page: Page) -> None:
    """Printing the class again would void the letters just printed: the console names them and asks."""
    page.get_by_label("Classe", exact=True).select_option(NEW_CLASS)
    choose(page, "Les élèves")
    page.get_by_role("button", name="Télécharger les courriers (PDF)").click()
    warning = page.locator("#letters-replaced")
    expect(warning).to_contain_text(f"{len(NEW_PUPILS)} comptes de cette sélection ont déjà un courrier valable")
    expect_accessible(page, "the letters page asking before voiding letters")
    page.get_by_role("button", name="Seulement les comptes sans courrier valable").click()
    expect(page.get_by_text("il n'y a rien à imprimer")).to_be_visible()


def _waiting_list(page: Page, activated: str) -> None:
    """Who is still to remind in the class, by name, with whether the school can reach them by SMS."""
    page.get_by_role("link", name=f"Qui n'a pas activé en {NEW_CLASS}").click()
    expect(page.get_by_role("heading", name=f"Comptes en attente d'activation en {NEW_CLASS}")).to_be_visible()
    expect(page.locator("#waiting tbody tr").first).to_be_visible()
    expect(page.locator(f'#waiting tr[data-identifier="{activated}"]')).to_have_count(0)
    expect_accessible(page, "the accounts waiting for activation")
    page.get_by_role("link", name="Retour au suivi des activations").click()


def _cancel_a_reset(page: Page) -> None:
    """A reset says what it will do before doing it; she cancels, and nothing changed."""
    page.get_by_role("link", name="Réinitialiser et imprimer un courrier").click()
    heading = "Réinitialiser le compte et imprimer un nouveau courrier ?"
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_text("Le mot de passe actuel cesse de fonctionner.")).to_be_visible()
    expect_accessible(page, "the reset confirmation")
    page.get_by_role("link", name="Annuler").click()
    expect(page.locator("#account-state")).to_have_text("Actif")


def _rate(page: Page) -> str:
    page.get_by_role("main").get_by_role("link", name="Suivi des activations").click()
    expect(page.get_by_role("heading", name="Suivi des activations")).to_be_visible()
    row = page.locator(f'#followup-classes tr[data-class="{NEW_CLASS}"]')
    return row.get_by_role("cell").nth(1).inner_text()


@pytest.fixture
def public_url(settings: Settings, live_server: LiveServer) -> str:
    """Letters (and their QR codes) point at the live server."""
    settings.PUBLIC_URL = live_server.url
    return str(live_server.url)


def test_a_secretary_imports_prints_and_follows_up(page: Page, demo: Demo, tmp_path: Path, public_url: str) -> None:
    staff = secretary(tmp_path)
    school = School.objects.get(uai=COLLEGE)

    staff_log_in(page, staff)
    expect(page.get_by_role("heading", name=school.name, level=1)).to_be_visible()
    expect_accessible(page, "the school's console home")
    _set_contact(page)

    _import(page, school)

    # The class's pupil letters: one page per pupil, their identifiers, a QR code to the login page.
    letters = _read_letters(_print(page, who="Les élèves"))
    class_accounts = Account.objects.filter(pupil__school=school, pupil__class_name=NEW_CLASS)
    assert len(letters) == len(NEW_PUPILS) == class_accounts.count()
    assert {letter.identifier for letter in letters} == set(class_accounts.values_list("identifier", flat=True))
    assert all(letter.qr == [f"{public_url}/login"] for letter in letters)
    assert all("Besoin d'aide ? Contactez Collège" in letter.help for letter in letters)
    assert all("02 31 00 00 00 · du lundi au vendredi" in letter.help for letter in letters)
    _print_again_is_asked(page)
    expect_accessible(page, "the letters page")
    assert _rate(page) == "0 / 3 (0 %)"
    expect_accessible(page, "the activation follow-up")

    # The guardians' letters; the first guardian activates with hers in another browser.
    guardian_letter = _read_letters(_print(page, who="Les responsables"))[0]
    guardian = Account.objects.get(identifier=guardian_letter.identifier)
    child = guardian.pupils().get()
    browser = page.context.browser
    assert browser is not None
    family = browser.new_context(base_url=public_url, locale="fr-FR", timezone_id="Europe/Paris")
    family.set_default_timeout(TIMEOUT_MS)
    parent = family.new_page()
    log_in(parent, guardian_letter.identifier, guardian_letter.password)
    expect_activation_page(parent, guardian_letter.identifier)
    fill_activation(parent, password=GUARDIAN_PASSWORD, birth_date=child.birth_date)
    submit_activation(parent)
    expect_account_home(parent, guardian_letter.identifier)
    family.close()
    guardian.refresh_from_db()
    assert guardian.state == AccountState.ACTIVE

    # The follow-up moves: one guardian of three in the class.
    page.reload()
    assert _rate(page) == "1 / 3 (33 %)"
    expect(page.locator("#rate-guardians")).not_to_contain_text("(0 %)")
    _waiting_list(page, guardian.identifier)

    # The guardian's account as the secretary sees it, and the journal of what she did.
    page.get_by_role("main").get_by_role("link", name="Comptes", exact=True).click()
    page.get_by_label("Nom, identifiant, INE, téléphone ou email").fill(child.ine)
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", name="2 comptes trouvés")).to_be_visible()
    expect_accessible(page, "the account search")
    page.locator(f'tr[data-identifier="{guardian.identifier}"]').get_by_role("link").click()
    expect(page.locator("#account-state")).to_have_text("Actif")
    expect_accessible(page, "an account page")
    _cancel_a_reset(page)
    page.get_by_role("main").get_by_role("link", name="Journal", exact=True).click()
    for tag in ("console:login:success", "console:import:applied", "console:letters:printed"):
        expect(page.locator(f'#journal tr[data-tag="{tag}"]').first).to_be_visible()
    expect_accessible(page, "the console journal")


def test_a_large_import_is_followed_while_the_worker_runs_it(
    page: Page, demo: Demo, tmp_path: Path, settings: Settings
) -> None:
    """With a real queue, the upload answers at once with a page that follows the check; when the
    worker has run it, the page notices by itself and shows the preview."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # no worker yet
    school = School.objects.get(uai=COLLEGE)
    staff_log_in(page, secretary(tmp_path))
    pupils, guardians = _exports(school, broken=False)
    _upload(page, pupils, guardians)
    expect(page.get_by_role("heading", name="Vérification des fichiers en cours")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("En attente de traitement")
    expect_accessible(page, "the page that follows an import")
    job = ImportJob.objects.get(school=school)
    run_import_job.call(str(job.pk))  # the worker, while the page polls
    expect(page.get_by_role("heading", name="Vérification de l'import")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_role("status").filter(has_text="Aucune erreur")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/console/etablissements/{COLLEGE}/import/suivi/{job.pk}/$"))
