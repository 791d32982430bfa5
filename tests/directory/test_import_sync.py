"""Sync semantics on both engines: idempotency, updates, departures and returns, dry runs, accounts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from tests.directory.helpers import guardians_csv, ine, pupils_csv
from trousseau.accounts.models import Account, AccountKind, AccountState, ActivationLetter
from trousseau.accounts.services import letter_issue
from trousseau.audit.models import AuditEvent
from trousseau.directory.models import Guardian, Guardianship, Pupil
from trousseau.provisioning.services import import_records, purge_departed

pytestmark = pytest.mark.django_db

PUPILS = [
    f"{ine(1)};Lefèvre;Élodie;14/03/2012;5e B;0145678B",
    f"{ine(2)};Lefèvre;Théo;02/05/2010;3e C;0145678B",
    f"{ine(3)};N'Diaye;Aïcha;21/09/2011;4e A;0145678B",
]
GUARDIANS = [
    f"R1;Lefèvre;Sophie;06 12 34 56 78;;{ine(1)};1",
    f"R1;Lefèvre;Sophie;06 12 34 56 78;;{ine(2)};1",
    f"R2;Lefèvre;Marc;07 11 22 33 44;marc@example.org;{ine(1)};2",
    f"R3;N'Diaye;Fatou;0612000001;;{ine(3)};1",
    f"R4;Diallo;Mamadou;;;{ine(3)};0",
]


def run(pupils=PUPILS, guardians=GUARDIANS, *, bulk_copy=False, **kw):
    return import_records(
        pupils=pupils_csv(pupils) if pupils is not None else None,
        guardians=guardians_csv(guardians) if guardians is not None else None,
        bulk_copy=bulk_copy,
        max_bytes=None,
        **kw,
    )


def snapshot():
    """Everything an import may write, as comparable values."""
    return (
        sorted(
            Pupil.objects.values_list(
                "ine", "last_name", "first_name", "birth_date", "class_name", "school_id", "left_at"
            )
        ),
        sorted(Guardian.objects.values_list("school_id", "source_key", "last_name", "mobile", "email", "left_at")),
        sorted(Guardianship.objects.values_list("guardian__source_key", "pupil__ine", "is_legal_representative")),
        sorted(Account.objects.values_list("identifier", "kind", "state", "pupil_id")),
    )


def test_first_import_creates_rows_links_and_accounts(college, bulk_copy):
    result = run(bulk_copy=bulk_copy)
    assert result.applied
    assert result.ok
    assert result.as_dict()["pupils"] == {"created": 3, "updated": 0, "unchanged": 0, "left": 0, "returned": 0}
    assert result.as_dict()["guardians"] == {"created": 4, "updated": 0, "unchanged": 0, "left": 0, "returned": 0}
    assert (result.links_created, result.links_updated, result.links_removed) == (5, 0, 0)
    # 3 pupils (collège) + 3 legal guardians; the contact (RESP_LEGAL 0) gets no account.
    assert result.accounts_created == 6
    assert Account.objects.filter(kind=AccountKind.PUPIL, state=AccountState.PROVISIONAL).count() == 3
    diallo = Guardian.objects.get(last_name="Diallo")
    assert not Account.objects.filter(guardian_links__guardian=diallo).exists()
    assert not ActivationLetter.objects.exists()  # letters are issued on demand, not at import
    sophie = Guardian.objects.get(first_name="Sophie")
    assert (sophie.mobile, sophie.school, sophie.source_key) == ("+33612345678", college, "id:R1")
    assert AuditEvent.objects.filter(tag="directory:import:applied").count() == 1


def test_same_file_twice_changes_nothing(college, bulk_copy):
    run(bulk_copy=bulk_copy)
    before = snapshot()
    again = run(bulk_copy=bulk_copy)
    assert snapshot() == before
    assert (again.pupils.created, again.pupils.updated, again.pupils.left, again.pupils.unchanged) == (0, 0, 0, 3)
    assert (again.guardians.created, again.guardians.updated, again.guardians.unchanged) == (0, 0, 4)
    assert (again.links_created, again.links_updated, again.links_removed, again.accounts_created) == (0, 0, 0, 0)


def test_changes_departures_and_returns(college, bulk_copy):
    run(bulk_copy=bulk_copy)
    theo = Account.objects.get(pupil__ine=ine(2))
    letter_issue(account=theo)
    sophie_account = Account.objects.get(guardian_links__guardian__first_name="Sophie")
    # Théo leaves; Élodie changes class; Sophie changes mobile; Marc leaves the records.
    pupils = [PUPILS[0].replace("5e B", "4e B"), PUPILS[2]]
    guardians = [GUARDIANS[0].replace("06 12 34 56 78", "06 99 88 77 66"), *GUARDIANS[3:]]
    result = run(pupils, guardians, bulk_copy=bulk_copy)
    assert (result.pupils.updated, result.pupils.left, result.pupils.unchanged) == (1, 1, 1)
    assert (result.guardians.updated, result.guardians.left, result.guardians.unchanged) == (1, 1, 2)
    theo.refresh_from_db()
    assert theo.state == AccountState.DISABLED
    assert not theo.letters.filter(revoked_at=None).exists()  # the letter handed out no longer works
    assert Pupil.objects.get(ine=ine(2)).left_at is not None  # kept until the retention ends
    assert not Guardianship.objects.filter(pupil__ine=ine(2)).exists()
    assert Account.objects.get(guardian_links__guardian__first_name="Marc").state == AccountState.DISABLED
    sophie_account.refresh_from_db()
    assert sophie_account.state == AccountState.PROVISIONAL  # still speaks for Élodie
    assert Guardian.objects.get(first_name="Sophie").mobile == "+33699887766"
    assert result.accounts_disabled == 2
    # Théo and Marc come back: same rows, same accounts, enabled again.
    back = run(bulk_copy=bulk_copy)
    assert (back.pupils.returned, back.guardians.returned, back.accounts_enabled) == (1, 1, 2)
    theo.refresh_from_db()
    assert theo.state == AccountState.PROVISIONAL
    assert Account.objects.count() == 6


def test_dry_run_writes_nothing_and_counts_what_the_import_would_do(college, bulk_copy):
    run(bulk_copy=bulk_copy)
    before, events = snapshot(), AuditEvent.objects.count()
    pupils = [PUPILS[0], PUPILS[2], f"{ine(4)};Roux;Zoé;01/01/2012;5e B;0145678B"]
    guardians = [*GUARDIANS[3:], f"R9;Roux;Luc;;;{ine(4)};1"]
    preview = run(pupils, guardians, bulk_copy=bulk_copy, dry_run=True)
    assert snapshot() == before
    assert AuditEvent.objects.count() == events
    assert not preview.applied
    real = run(pupils, guardians, bulk_copy=bulk_copy)
    assert preview.as_dict() | {"dry_run": True, "applied": True} == real.as_dict() | {"dry_run": True}
    assert (real.pupils.created, real.pupils.left, real.guardians.created, real.guardians.left) == (1, 1, 1, 2)
    assert real.accounts_created == 2


def test_file_with_errors_changes_nothing_unless_partial(college, bulk_copy):
    run(bulk_copy=bulk_copy)
    before = snapshot()
    pupils = [PUPILS[0], PUPILS[1].replace("02/05/2010", "hier"), f"{ine(4)};Roux;Zoé;01/01/2012;5e B;0145678B"]
    refused = run(pupils, None, bulk_copy=bulk_copy)
    assert not refused.applied
    assert refused.error_count == 1
    assert snapshot() == before
    assert AuditEvent.objects.filter(tag="directory:import:refused").exists()
    partial = run(pupils, None, bulk_copy=bulk_copy, partial=True)
    assert partial.applied
    assert partial.departures_skipped
    assert (partial.pupils.created, partial.pupils.left) == (1, 0)
    # Théo's row was refused and Aïcha is missing: neither is taken for a departure.
    assert not Pupil.objects.exclude(left_at=None).exists()


def test_primary_pupils_get_no_account_only_their_guardians(ecole, bulk_copy):
    pupils = [f"{ine(1)};Petit;Noé;01/01/2017;CP;0141234A"]
    result = run(pupils, [f"R1;Petit;Céline;0612345678;;{ine(1)};1"], bulk_copy=bulk_copy)
    assert result.accounts_created == 1
    assert Account.objects.get().kind == AccountKind.GUARDIAN


def test_web_path_scope_is_the_staff_school(college, bulk_copy):
    other = factories.pupil(ine=ine(50))
    result = import_records(pupils=pupils_csv(PUPILS), school=college, bulk_copy=bulk_copy)
    assert result.ok
    other.refresh_from_db()
    assert other.left_at is None  # another school's pupils are not this file's business


def test_demo_rows_are_adopted_not_duplicated(college, bulk_copy):
    pupil = factories.pupil(ine=ine(1), school=college, last_name="Lefèvre", first_name="Élodie")
    legacy = factories.guardian(children=[pupil], last_name="Lefèvre", first_name="Sophie", mobile="+33612345678")
    result = run([PUPILS[0]], [f";Lefèvre;Sophie;06 12 34 56 78;;{ine(1)};1"], bulk_copy=bulk_copy)
    assert result.guardians.created == 0
    legacy.refresh_from_db()
    assert (legacy.school_id, legacy.source_key) == (college.pk, "nom:lefevre|sophie")


def test_moving_school_keeps_the_account(college, bulk_copy):
    lycee = factories.school(uai="0149012C")
    run(bulk_copy=bulk_copy)
    account = Account.objects.get(pupil__ine=ine(2))
    result = run([PUPILS[1].replace("0145678B", "0149012C")], None, bulk_copy=bulk_copy)
    assert result.pupils.updated == 1
    assert Pupil.objects.get(ine=ine(2)).school == lycee
    assert not Guardianship.objects.filter(pupil__ine=ine(2)).exists()  # the collège's guardian records stay there
    account.refresh_from_db()
    assert account.state == AccountState.PROVISIONAL


def test_purge_after_retention(college, bulk_copy, settings):
    settings.DIRECTORY_RETENTION_DAYS = 30
    run(bulk_copy=bulk_copy)
    run([PUPILS[0], PUPILS[2]], [GUARDIANS[0], *GUARDIANS[3:]], bulk_copy=bulk_copy)
    assert purge_departed() == {"pupils": 0, "guardians": 0, "accounts": 0}
    later = timezone.now() + timedelta(days=31)
    assert purge_departed(now=later, dry_run=True) == {"pupils": 1, "guardians": 1, "accounts": 2}
    assert purge_departed(now=later) == {"pupils": 1, "guardians": 1, "accounts": 2}
    assert not Pupil.objects.filter(ine=ine(2)).exists()
    assert Account.objects.count() == 4


def test_both_engines_report_and_write_the_same(college):
    """On PostgreSQL: the COPY engine and the ORM engine agree on every count and every row."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("COPY needs PostgreSQL")
    steps = [
        (PUPILS, GUARDIANS, {}),
        (PUPILS, GUARDIANS, {"dry_run": True}),
        ([PUPILS[0].replace("5e B", "4e B"), PUPILS[2]], [GUARDIANS[0], *GUARDIANS[3:]], {}),
        ([*PUPILS[:2], "bad"], GUARDIANS[:2], {"partial": True}),
        (PUPILS, [g.replace(";1", ";0") for g in GUARDIANS], {}),
        (PUPILS, GUARDIANS, {}),
    ]

    def scenario(bulk_copy):
        reports, states = [], []
        for pupils, guardians, options in steps:
            reports.append(run(pupils, guardians, bulk_copy=bulk_copy, **options).as_dict())
            pupils_rows, guardian_rows, links, accounts = snapshot()
            states.append(
                (
                    [(*row[:-1], row[-1] is None) for row in pupils_rows],
                    [(*row[:-1], row[-1] is None) for row in guardian_rows],
                    links,
                    sorted((kind, state) for _, kind, state, _ in accounts),
                )
            )
        return reports, states

    orm = scenario(bulk_copy=False)
    Account.objects.all().delete()
    Guardian.objects.all().delete()
    Pupil.objects.all().delete()
    assert scenario(bulk_copy=True) == orm
