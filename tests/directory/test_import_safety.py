"""Issue #15 findings 1, 12 and 14 at the import's own level, on both engines where they apply.

- a school's import refuses a pupil present in another school; a pupil who left there moves, and the
  académie's command line moves anyone; each move is one audit event per school;
- a file says what it is (complete list / additions), a header alone is refused, departures of a
  console import are those confirmed (their number, a large share);
- a mobile corrected in the console is kept unless the file's is chosen; a landline is no mobile.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests import factories
from tests.directory.helpers import guardians_csv, ine, pupils_csv
from trousseau.accounts.models import AccountState
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.core.phones import normalize_mobile
from trousseau.directory.models import Guardian, Pupil
from trousseau.provisioning.services import (
    ADDITIONS,
    COMPLETE,
    DepartureGuard,
    DeparturesNotConfirmed,
    ImportFileError,
    import_records,
)
from trousseau.provisioning.transfers import enrolled_elsewhere_message

pytestmark = pytest.mark.django_db


def run(pupils=None, guardians=None, **kw):
    return import_records(
        pupils=pupils_csv(pupils) if pupils is not None else None,
        guardians=guardians_csv(guardians) if guardians is not None else None,
        max_bytes=None,
        **kw,
    )


@pytest.fixture
def lycee(db):
    return factories.school(uai="0149999L", name="Lycée B")


def transfers():
    return sorted(
        (e.data["school"], e.data["direction"], e.data["pupil"])
        for e in AuditEvent.objects.filter(tag=EventTag.DIRECTORY_PUPIL_TRANSFERRED)
    )


# --- Finding 1: pupils of another school ---------------------------------------------------------


def test_a_school_import_refuses_a_pupil_present_in_another_school(college, lycee, bulk_copy):
    factories.pupil(school=lycee, ine=ine(7))
    result = run(
        [f"{ine(1)};Dupont;Léa;14/03/2012;5e B;", f"{ine(7)};Roux;Noé;01/02/2008;5e B;"],
        school=college,
        bulk_copy=bulk_copy,
    )
    assert not result.applied
    [error] = result.errors
    assert (error.line, error.field, error.reason) == (3, "INE", enrolled_elsewhere_message())
    assert Pupil.objects.get(ine=ine(7)).school_id == lycee.pk
    assert not Pupil.objects.filter(school=college).exists()


def test_a_guardian_row_cannot_link_the_refused_pupil(college, lycee, bulk_copy):
    factories.pupil(school=lycee, ine=ine(7))
    result = run(
        [f"{ine(7)};Roux;Noé;01/02/2008;5e B;"],
        [f"R1;Roux;Anne;06 12 34 56 78;;{ine(7)};1"],
        school=college,
        dry_run=True,
        bulk_copy=bulk_copy,
    )
    assert [e.file for e in result.errors] == ["eleves", "responsables"]


def test_a_pupil_who_left_the_other_school_moves_and_both_schools_see_it(college, lycee):
    factories.pupil(school=lycee, ine=ine(7), left_at=timezone.now())
    result = run([f"{ine(7)};Roux;Noé;01/02/2008;5e B;"], school=college, actor="console:a@ac.fr")
    assert result.applied
    assert Pupil.objects.get(ine=ine(7)).school_id == college.pk
    assert transfers() == [(college.uai, "in", ine(7)), (lycee.uai, "out", ine(7))]


def test_the_academie_command_line_moves_a_present_pupil_and_audits_both_schools(college, lycee, bulk_copy):
    factories.pupil(school=lycee, ine=ine(7))
    result = run([f"{ine(7)};Roux;Noé;01/02/2008;5e B;{college.uai}"], bulk_copy=bulk_copy, mode=ADDITIONS)
    assert result.applied
    assert Pupil.objects.get(ine=ine(7)).school_id == college.pk
    assert transfers() == [(college.uai, "in", ine(7)), (lycee.uai, "out", ine(7))]


def test_a_dry_run_audits_no_move(college, lycee):
    factories.pupil(school=lycee, ine=ine(7), left_at=timezone.now())
    run([f"{ine(7)};Roux;Noé;01/02/2008;5e B;"], school=college, dry_run=True)
    assert transfers() == []


# --- Finding 12: what a file is, and confirmed departures -------------------------------------------


def _ten(school):
    return [factories.pupil(school=school, ine=ine(100 + n), first_name=f"P{n}") for n in range(10)]


def test_additions_make_nobody_leave(college, bulk_copy):
    _ten(college)
    result = run([f"{ine(1)};Dupont;Léa;14/03/2012;5e B;{college.uai}"], mode=ADDITIONS, bulk_copy=bulk_copy)
    assert (result.applied, result.pupils.created, result.pupils.left) == (True, 1, 0)
    assert Pupil.objects.filter(left_at=None).count() == 11


@pytest.mark.parametrize("which", ["pupils", "guardians"])
def test_a_file_with_the_header_alone_is_refused(college, which, bulk_copy):
    _ten(college)
    with pytest.raises(ImportFileError, match="ne contient aucune ligne"):
        run(**{which: []}, bulk_copy=bulk_copy)
    assert Pupil.objects.filter(left_at=None).count() == 10


def test_a_complete_list_names_who_would_leave(college):
    _ten(college)
    result = run([f"{ine(1)};Dupont;Léa;14/03/2012;5e B;"], school=college, mode=COMPLETE, dry_run=True)
    assert (result.pupils.left, result.pupils_present) == (10, 10)
    assert sorted(d.first_name for d in result.leaving) == sorted(f"P{n}" for n in range(10))
    assert result.departure_percent == 100


def test_unconfirmed_departures_change_nothing(college):
    _ten(college)
    file = [f"{ine(1)};Dupont;Léa;14/03/2012;5e B;"]
    with pytest.raises(DeparturesNotConfirmed, match="10 élèves"):
        run(file, school=college, mode=COMPLETE, guard=DepartureGuard())
    with pytest.raises(DeparturesNotConfirmed, match="100 %"):
        run(file, school=college, mode=COMPLETE, guard=DepartureGuard(pupils_left=10))
    assert Pupil.objects.filter(left_at=None).count() == 10
    assert not Pupil.objects.filter(ine=ine(1)).exists()
    result = run(file, school=college, mode=COMPLETE, guard=DepartureGuard(pupils_left=10, share_confirmed=True))
    assert (result.applied, result.pupils.left) == (True, 10)


def test_a_small_share_needs_its_number_only(college, settings):
    pupils = _ten(college)
    settings.IMPORT_DEPARTURE_SHARE_LIMIT = 0.2
    file = [f"{p.ine};{p.last_name};{p.first_name};14/03/2012;5e B;" for p in pupils[1:]]
    result = run(file, school=college, mode=COMPLETE, guard=DepartureGuard(pupils_left=1))
    assert (result.applied, result.pupils.left) == (True, 1)


def test_the_command_line_keeps_syncing_complete_lists_unconfirmed(college, bulk_copy):
    _ten(college)
    result = run([f"{ine(1)};Dupont;Léa;14/03/2012;5e B;{college.uai}"], bulk_copy=bulk_copy)
    assert (result.applied, result.pupils.left) == (True, 10)
    assert result.mode == COMPLETE


# --- Finding 14: mobiles corrected in the console -------------------------------------------------------


def _fixed_guardian(college):
    pupil = factories.pupil(school=college, ine=ine(1))
    return factories.guardian(
        children=[pupil], school=college, source_key="id:R1", mobile="+33699887766", mobile_fixed_at=timezone.now()
    )


def test_a_console_correction_is_kept_and_reported(college):
    guardian = _fixed_guardian(college)
    result = run(guardians=[f"R1;Dupont;Sophie;06 12 34 56 78;;{ine(1)};1"], school=college)
    [conflict] = result.phone_conflicts
    assert (conflict.guardian, conflict.console, conflict.file) == (guardian.pk, "+33699887766", "+33612345678")
    guardian.refresh_from_db()
    assert guardian.mobile == "+33699887766"
    assert guardian.mobile_fixed_at is not None


def test_the_files_number_when_chosen(college):
    guardian = _fixed_guardian(college)
    result = run(
        guardians=[f"R1;Dupont;Sophie;06 12 34 56 78;;{ine(1)};1"],
        school=college,
        file_mobiles=frozenset({guardian.pk}),
    )
    assert result.phones_from_file == 1
    guardian.refresh_from_db()
    assert (guardian.mobile, guardian.mobile_fixed_at) == ("+33612345678", None)


def test_the_command_line_keeps_a_console_correction(college, bulk_copy):
    guardian = _fixed_guardian(college)
    run(guardians=[f"R1;Dupont;Sophie;06 12 34 56 78;;{ine(1)};1"], bulk_copy=bulk_copy)
    guardian.refresh_from_db()
    assert guardian.mobile == "+33699887766"


def test_no_conflict_when_the_file_agrees(college):
    _fixed_guardian(college)
    result = run(guardians=[f"R1;Dupont;Sophie;06 99 88 77 66;;{ine(1)};1"], school=college)
    assert result.phone_conflicts == []
    assert Guardian.objects.get(source_key="id:R1").mobile == "+33699887766"


@pytest.mark.parametrize("landline", ["01 45 67 89 01", "+33 1 45 67 89 01", "09 70 12 34 56"])
def test_a_landline_is_not_a_mobile(landline):
    with pytest.raises(ValueError, match="pas un portable"):
        normalize_mobile(landline)


def test_a_landline_in_the_file_is_a_refused_row(college):
    factories.pupil(school=college, ine=ine(1))
    result = run(guardians=[f"R1;Dupont;Sophie;01 45 67 89 01;;{ine(1)};1"], school=college, dry_run=True)
    [error] = result.errors
    assert (error.field, error.line) == ("TEL_PORTABLE", 2)
    assert "pas un portable" in error.reason


def test_accounts_of_refused_imports_are_untouched(college, lycee):
    account, _, _ = factories.pupil_account(school=lycee, ine=ine(7))
    run([f"{ine(7)};Roux;Noé;01/02/2008;5e B;"], school=college)
    account.refresh_from_db()
    assert account.state == AccountState.PROVISIONAL
