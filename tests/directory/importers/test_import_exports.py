"""SIECLE and ONDE exports imported as they come, on both engines: source identifiers, departures, refusals.

The files are the generated samples (trousseau/demo/samples/exports.py), changed here the way a school's
next export would change them.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from tests import factories
from tests.directory.importers.conftest import JEAN_MOULIN, SIMONE_VEIL
from trousseau.accounts.models import Account, AccountState
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.demo.samples.exports import Samples
from trousseau.directory.models import Guardian, Guardianship, Pupil, SchoolLevel
from trousseau.provisioning.services import ImportFileError, import_records


@pytest.fixture
def ecole(db, samples):
    return factories.school(uai=samples.ecole_uai, name="École Jules-Ferry", level=SchoolLevel.ECOLE)


def opened(path: Path) -> io.BytesIO:
    upload = io.BytesIO(path.read_bytes())
    upload.name = path.name
    return upload


def member_text(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        (name,) = archive.namelist()
        return archive.read(name).decode("iso-8859-15")


def rezipped(path: Path, text: str) -> io.BytesIO:
    """The same export as SIECLE would write it again, with `text` as its XML."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as archive, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as again:
        (name,) = archive.namelist()
        again.writestr(name, text.encode("iso-8859-15"))
    out.seek(0)
    out.name = path.name
    return out


def siecle(samples: Samples, uaj: str, **kw):
    pupils, guardians = samples.colleges[uaj]
    return import_records(pupils=opened(pupils), guardians=opened(guardians), **kw)


def test_a_siecle_pair_is_imported_with_its_identifiers_and_again_changes_nothing(samples, colleges, bulk_copy):
    school = colleges[JEAN_MOULIN]
    result = siecle(samples, JEAN_MOULIN, school=school, bulk_copy=bulk_copy)
    assert result.ok, result.errors[:3]
    text = member_text(samples.colleges[JEAN_MOULIN][0])
    listed = len(re.findall(r"<ELEVE ELEVE_ID=", text))
    left = text.count("<DATE_SORTIE>15/10")
    assert left == 1  # the generator's pupil who left
    assert result.pupils.created == listed - left == Pupil.objects.filter(school=school).count()
    ids = dict(Pupil.objects.values_list("ine", "source_id"))
    for ine, eleve_id in _ine_and_ids(text):
        if ine in ids:
            assert ids[ine] == eleve_id
    assert all(ids.values())
    persons = dict(Guardian.objects.values_list("source_key", "source_id"))
    assert persons
    assert all(key == f"id:{source_id}" for key, source_id in persons.items())
    assert result.encodings == {"eleves": "ISO-8859-15", "responsables": "ISO-8859-15"}
    # Read again even where the files are those of the last import (test_unchanged.py: left out).
    again = siecle(samples, JEAN_MOULIN, school=school, bulk_copy=bulk_copy, reread_unchanged=True)
    assert again.pupils.unchanged == result.pupils.created
    assert again.guardians.unchanged == result.guardians.created
    assert (again.pupils.created, again.pupils.updated, again.guardians.updated, again.links_created) == (0, 0, 0, 0)


def _ine_and_ids(text: str) -> list[tuple[str, str]]:
    return [
        (ine, eleve_id)
        for eleve_id, ine in re.findall(r'<ELEVE ELEVE_ID="([0-9]+)"[^>]*>.*?<ID_NATIONAL>([^<]*)<', text, re.DOTALL)
    ]


def test_a_guardian_whose_name_and_mobile_changed_stays_the_same_person(samples, colleges, bulk_copy):
    school = colleges[JEAN_MOULIN]
    siecle(samples, JEAN_MOULIN, school=school, bulk_copy=bulk_copy)
    sophie = Guardian.objects.get(source_id="3400005")
    account = Account.objects.get(guardian_links__guardian=sophie)
    pupils, guardians = samples.colleges[JEAN_MOULIN]
    text = member_text(guardians).replace(
        '<PERSONNE PERSONNE_ID="3400005"><LC_CIVILITE>MME</LC_CIVILITE><NOM_DE_FAMILLE>LEFÈVRE</NOM_DE_FAMILLE>'
        "<NOM_USAGE/><PRENOM>Sophie</PRENOM><TEL_PERSONNEL/><TEL_PORTABLE>06 12 34 56 78</TEL_PORTABLE>",
        '<PERSONNE PERSONNE_ID="3400005"><LC_CIVILITE>MME</LC_CIVILITE><NOM_DE_FAMILLE>LEFÈVRE</NOM_DE_FAMILLE>'
        "<NOM_USAGE>MARTIN</NOM_USAGE><PRENOM>Sophie</PRENOM><TEL_PERSONNEL/><TEL_PORTABLE>07 00 00 00 01</TEL_PORTABLE>",
    )
    assert "MARTIN" in text
    result = import_records(
        pupils=opened(pupils), guardians=rezipped(guardians, text), school=school, bulk_copy=bulk_copy
    )
    assert result.ok
    assert result.guardians.updated == 1
    assert result.guardians.created == 0
    sophie.refresh_from_db()
    assert (sophie.last_name, sophie.mobile) == ("MARTIN", "+33700000001")
    assert Account.objects.get(guardian_links__guardian=sophie).pk == account.pk


def test_a_pupil_given_a_leaving_date_leaves_and_their_account_is_disabled(samples, colleges, bulk_copy):
    school = colleges[JEAN_MOULIN]
    siecle(samples, JEAN_MOULIN, school=school, bulk_copy=bulk_copy)
    pupils, guardians = samples.colleges[JEAN_MOULIN]
    text = member_text(pupils)
    first = re.search(r'<ELEVE ELEVE_ID="([0-9]+)"[^>]*>.*?</ELEVE>', text, re.DOTALL)
    assert first is not None
    assert "DATE_SORTIE>1" not in first.group(0)
    leaving = Pupil.objects.get(source_id=first.group(1))
    changed = re.sub(
        r"<DATE_SORTIE\s*/>|<DATE_SORTIE></DATE_SORTIE>", "<DATE_SORTIE>01/09/2025</DATE_SORTIE>", first.group(0)
    )
    if changed == first.group(0):
        changed = first.group(0).replace("</ELEVE>", "<DATE_SORTIE>01/09/2025</DATE_SORTIE></ELEVE>")
    result = import_records(
        pupils=rezipped(pupils, text.replace(first.group(0), changed)),
        guardians=opened(guardians),
        school=school,
        mode="complete",
        bulk_copy=bulk_copy,
    )
    assert result.ok, result.errors[:3]
    assert result.pupils.left == 1
    leaving.refresh_from_db()
    assert leaving.left_at is not None
    assert not Guardianship.objects.filter(pupil=leaving).exists()
    assert Account.objects.get(pupil=leaving).state == AccountState.DISABLED


def test_a_guardians_file_alone_finds_its_pupils_by_their_stored_eleve_id(samples, colleges, bulk_copy):
    school = colleges[JEAN_MOULIN]
    pupils, guardians = samples.colleges[JEAN_MOULIN]
    import_records(pupils=opened(pupils), school=school, bulk_copy=bulk_copy)
    result = import_records(guardians=opened(guardians), school=school, bulk_copy=bulk_copy)
    assert result.ok, result.errors[:3]
    assert result.links_created == Guardianship.objects.count() > 0
    # The links of the pupil who left before any import (SIECLE keeps them all year) are left out.
    assert not Guardianship.objects.filter(pupil__source_id="").exists()


def test_an_academie_imports_every_schools_pair_at_once(samples, colleges, bulk_copy):
    files = [samples.colleges[uaj] for uaj in (SIMONE_VEIL, JEAN_MOULIN)]
    result = import_records(
        pupils=[opened(p) for p, _ in files], guardians=[opened(g) for _, g in files], bulk_copy=bulk_copy
    )
    assert result.ok, result.errors[:3]
    assert {s.uai for s in colleges.values() if s.pupils.exists()} == {JEAN_MOULIN, SIMONE_VEIL}
    # The guardian of pupils in both collèges is one record per school, as ÉduConnect has it.
    assert Guardian.objects.filter(source_id="3400005").count() >= 1


def test_an_ecoles_onde_extractions_are_imported_and_again_change_nothing(samples, ecole, bulk_copy):
    pupils, guardians = samples.ecole
    result = import_records(pupils=opened(pupils), guardians=opened(guardians), school=ecole, bulk_copy=bulk_copy)
    assert result.ok, result.errors[:3]
    assert result.pupils.created == samples.counts[samples.ecole_uai]
    assert not Pupil.objects.exclude(source_id="").exists()  # ONDE carries no identifier: none invented
    assert not Guardian.objects.exclude(source_id="").exists()
    assert not Account.objects.filter(pupil__school=ecole).exists()  # an école's pupils have no account
    again = import_records(pupils=opened(pupils), guardians=opened(guardians), school=ecole, bulk_copy=bulk_copy)
    assert (again.pupils.unchanged, again.guardians.unchanged) == (result.pupils.created, result.guardians.created)


def test_two_onde_guardians_of_the_same_names_are_two_people(samples, ecole, bulk_copy):
    pupils, guardians = samples.ecole
    text = guardians.read_bytes().decode("cp1252")
    header, first, *rest = text.split("\r\n")
    cells = first.split(";")
    # Another "Sophie LEFÈVRE", with another mobile, mother of another child of the école.
    child = re.search(r"^([^;]*);([^;]*);([^;]*);([^;]*);", pupils.read_bytes().decode("cp1252").split("\r\n")[5])
    assert child is not None
    namesake = cells[:9] + ["", "", "07 55 44 33 22", "", child.group(1), child.group(3), ""] + [""] * 8
    data = "\r\n".join([header, first, ";".join(namesake[: len(cells)]), *rest]).encode("cp1252")
    upload = io.BytesIO(data)
    upload.name = "CSVExtraction.csv"
    result = import_records(pupils=opened(pupils), guardians=upload, school=ecole, bulk_copy=bulk_copy)
    assert result.ok, result.errors[:3]
    namesakes = Guardian.objects.filter(last_name=cells[2], first_name=cells[3])
    assert namesakes.count() == 2
    assert len({g.mobile for g in namesakes}) == 2


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda data: data[: len(data) // 2], "incomplète ou abîmée"),
        (lambda data: data[:300] + bytes(b ^ 0x5A for b in data[300:600]) + data[600:], "incomplète ou abîmée"),
        (lambda _data: b"", "incomplète ou abîmée"),
    ],
)
def test_a_damaged_zip_is_refused_nothing_written_and_audited(samples, colleges, spoil, message):
    pupils, guardians = samples.colleges[JEAN_MOULIN]
    upload = io.BytesIO(spoil(pupils.read_bytes()))
    upload.name = pupils.name
    with pytest.raises(ImportFileError, match=message):
        import_records(pupils=upload, guardians=opened(guardians), school=colleges[JEAN_MOULIN])
    assert not Pupil.objects.exists()
    assert not Guardian.objects.exists()
    assert AuditEvent.objects.filter(tag=EventTag.DIRECTORY_IMPORT_REFUSED).exists()


def test_broken_xml_another_school_and_a_duplicated_eleve_id_are_refused(samples, colleges, bulk_copy):
    pupils, _guardians = samples.colleges[JEAN_MOULIN]
    text = member_text(pupils)
    cut = text[: len(text) // 2]
    with pytest.raises(ImportFileError, match="mal formé"):
        import_records(pupils=rezipped(pupils, cut), school=colleges[JEAN_MOULIN], bulk_copy=bulk_copy)
    with pytest.raises(ImportFileError, match=r"établissement 0145678B, et non du vôtre \(0147890D\)"):
        import_records(pupils=opened(pupils), school=colleges[SIMONE_VEIL], bulk_copy=bulk_copy)
    eleve_ids = re.findall(r'ELEVE_ID="([0-9]+)"', text)
    doubled = text.replace(f'ELEVE_ID="{eleve_ids[1]}"', f'ELEVE_ID="{eleve_ids[0]}"', 1)
    with pytest.raises(ImportFileError, match="ELEVE_ID"):
        import_records(pupils=rezipped(pupils, doubled), school=colleges[JEAN_MOULIN], bulk_copy=bulk_copy)
    assert not Pupil.objects.exists()


def test_a_file_in_the_wrong_field_or_from_two_systems_is_refused_by_name(samples, colleges, ecole):
    pupils, guardians = samples.colleges[JEAN_MOULIN]
    with pytest.raises(ImportFileError, match=r"ResponsablesAvecAdresses\.xml : déposez-le dans « Responsables »"):
        import_records(pupils=opened(guardians), school=colleges[JEAN_MOULIN])
    with pytest.raises(ImportFileError, match="même logiciel"):
        import_records(pupils=opened(pupils), guardians=opened(samples.ecole[1]), school=colleges[JEAN_MOULIN])
    with pytest.raises(ImportFileError, match="enregistrez-le au format CSV"):
        import_records(pupils=io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600), school=ecole)
    assert not Pupil.objects.exists()


def test_onde_on_the_command_line_needs_the_school(samples, ecole):
    with pytest.raises(ImportFileError, match="pour une école donnée"):
        import_records(pupils=opened(samples.ecole[0]))


def test_an_onde_guardians_file_alone_finds_the_children_among_the_ecoles_pupils(samples, ecole, bulk_copy):
    pupils, guardians = samples.ecole
    import_records(pupils=opened(pupils), school=ecole, bulk_copy=bulk_copy)
    result = import_records(guardians=opened(guardians), school=ecole, bulk_copy=bulk_copy)
    assert result.ok, result.errors[:3]
    assert result.links_created == Guardianship.objects.count() > 0
