"""The checks that compare rows with each other give the same errors, lines and order on both engines.

On PostgreSQL (bulk_copy) duplicates, unknown pupils, a guardian met again with other details and a
link named twice are found by SQL on the staging tables (provisioning/staged_checks.py), not by
dictionaries in Python; the report must not tell the difference.
"""

from __future__ import annotations

import io
import zipfile
from contextlib import ExitStack

import pytest

from tests import factories
from tests.directory.helpers import guardians_csv, ine, pupils_csv
from trousseau.accounts.models import Account, AccountGuardian
from trousseau.directory.models import Guardian, Guardianship, Pupil
from trousseau.provisioning.services import ImportResult, import_records

pytestmark = pytest.mark.django_db

UAI = "0145678B"


@pytest.fixture
def lycee(db):
    return factories.school(uai="0149999L", name="Lycée B")


def pupil(n: int, name: str = "Martin") -> str:
    return f"{ine(n)};{name};Hugo;02/05/2011;4e A;{UAI}"


def report(result: ImportResult) -> list[tuple[str, int, str, str]]:
    return [(e.file, e.line, e.field, e.reason) for e in result.errors]


def test_row_errors_found_by_sql_come_in_reading_order(college, bulk_copy):
    pupils = [
        pupil(1),
        "12345;Roux;Zoé;02/05/2011;4e A;0145678B",  # line 3: INE (row by row)
        pupil(1, "Roux"),  # line 4: same INE as line 2 (compared)
        pupil(2),
        pupil(2, "Roux"),  # line 6: same INE as line 5
    ]
    guardians = [
        f"R1;Martin;Sophie;06 12 34 56 78;;{ine(1)};1",
        f"R1;Martin;Sophie;06 12 34 56 78;;{ine(1)};1",  # line 3: the same link twice
        f"R2;Martin;Paul;06 12;;{ine(1)};1",  # line 4: phone (row by row)
        f"R3;Roux;Karim;;;{ine(9)};1",  # line 5: a pupil of neither the file nor the school
        f"R1;Martin;Sophia;06 12 34 56 78;;{ine(2)};1",  # line 6: same ID, other names
        f";Martin;Anne;0612345678;;{ine(1)};2",
        f";Martin;Anne;0698765432;;{ine(2)};2",  # line 8: same names, another mobile
    ]
    result = import_records(pupils=pupils_csv(pupils), guardians=guardians_csv(guardians), bulk_copy=bulk_copy)
    assert [(file, line, field) for file, line, field, _ in report(result)] == [
        ("eleves", 3, "INE"),
        ("eleves", 4, "INE"),
        ("eleves", 6, "INE"),
        ("responsables", 3, "INE_ELEVE"),
        ("responsables", 4, "TEL_PORTABLE"),
        ("responsables", 5, "INE_ELEVE"),
        ("responsables", 6, "ID_RESPONSABLE"),
        ("responsables", 8, "TEL_PORTABLE"),
    ]
    reasons = [reason for *_, reason in report(result)]
    assert reasons[1] == reasons[2].replace("ligne 5", "ligne 2") == "INE en double (déjà ligne 2)."
    assert reasons[3] == "Lien en double (déjà ligne 2)."
    assert reasons[5] == f"Élève inconnu : INE {ine(9)} absent des élèves importés."
    assert "déjà utilisé ligne 2" in reasons[6]
    assert "figure déjà ligne 7" in reasons[7]
    assert result.error_count == 8
    assert not result.applied
    assert not Pupil.objects.exists()


def test_a_partial_import_keeps_the_first_row_of_each_and_links_to_present_pupils(college, bulk_copy):
    import_records(pupils=pupils_csv([pupil(1), pupil(2)]), bulk_copy=bulk_copy)
    guardians = [
        f"R1;Martin;Sophie;06 12 34 56 78;;{ine(1)};1",
        f"R1;Martin;Sophie;06 12 34 56 78;;{ine(2)};1",
        f"R1;Martin;Sophie;06 12 34 56 78;;{ine(2)};1",  # line 4: twice
        f"R2;Roux;Karim;;;{ine(7)};1",  # line 5: nobody
    ]
    result = import_records(guardians=guardians_csv(guardians), bulk_copy=bulk_copy, partial=True)
    assert [(line, field) for _, line, field, _ in report(result)] == [(4, "INE_ELEVE"), (5, "INE_ELEVE")]
    guardian = Guardian.objects.get()
    assert sorted(Guardianship.objects.filter(guardian=guardian).values_list("pupil__ine", flat=True)) == [
        ine(1),
        ine(2),
    ]
    assert AccountGuardian.objects.filter(guardian=guardian).count() == 1
    assert Account.objects.count() == 3  # two pupils, one guardian


def test_a_duplicate_ine_in_another_file_names_the_first_files_line(college, lycee, bulk_copy):
    first = pupils_csv([pupil(1), pupil(2)])
    second = pupils_csv(
        [f"{ine(3)};Roux;Zoé;02/05/2011;2nde;{lycee.uai}", f"{ine(2)};Roux;Zoé;02/05/2011;2nde;{lycee.uai}"]
    )
    result = import_records(pupils=[first, second], bulk_copy=bulk_copy)
    assert [(line, field, reason) for _, line, field, reason in report(result)] == [
        (3, "INE", "INE en double (déjà ligne 3).")
    ]


def test_siecle_pairs_of_two_colleges_give_the_same_directory_on_both_engines(bulk_copy, tmp_path):
    """The académie's way in: several SIECLE pairs in one import; a pupil who left is no row, nor are his links."""
    from trousseau.demo.samples.exports import write_samples
    from trousseau.directory.importers.siecle import SiecleGuardians, SieclePupils

    samples = write_samples(tmp_path)
    for uaj in samples.colleges:
        factories.school(uai=uaj, name=f"Collège {uaj}")
    present, links = set(), 0
    for pupils_zip, guardians_zip in samples.colleges.values():
        with pupils_zip.open("rb") as handle:
            member = io.BytesIO(zipfile.ZipFile(handle).read("ElevesSansAdresses.xml"))
        pupils = {p.source_id: p for p in SieclePupils(member)}
        present |= {p.ine for p in pupils.values() if not p.left}
        with guardians_zip.open("rb") as handle:
            member = io.BytesIO(zipfile.ZipFile(handle).read("ResponsablesAvecAdresses.xml"))
        links += sum(1 for link in SiecleGuardians(member).links() if not pupils[link.pupil_source_id].left)
    result = _import_pairs(samples.colleges.values(), bulk_copy=bulk_copy)
    assert result.ok, result.errors
    assert set(Pupil.objects.values_list("ine", flat=True)) == present
    assert Guardianship.objects.count() == result.links_created == links
    again = _import_pairs(samples.colleges.values(), bulk_copy=bulk_copy, reread_unchanged=True)
    assert (again.pupils.unchanged, again.guardians.created, again.links_created) == (len(present), 0, 0)


def _import_pairs(pairs, *, bulk_copy: bool, reread_unchanged: bool = False) -> ImportResult:
    with ExitStack() as stack:
        files = [(stack.enter_context(p.open("rb")), stack.enter_context(g.open("rb"))) for p, g in pairs]
        return import_records(
            pupils=[p for p, _ in files],
            guardians=[g for _, g in files],
            bulk_copy=bulk_copy,
            reread_unchanged=reread_unchanged,
        )
