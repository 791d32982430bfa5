"""A command-line import leaves out the schools whose files and records are as their last import left them.

PostgreSQL only (the fingerprints are computed by the server): provisioning/unchanged.py.
"""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tests.directory.importers.conftest import JEAN_MOULIN, SIMONE_VEIL
from tests.directory.importers.test_import_exports import member_text, opened, rezipped
from trousseau.accounts.models import Account, AccountKind, AccountState
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.demo.samples.exports import Samples
from trousseau.directory.models import Guardian, Guardianship, LastImport, Pupil, School, SchoolLevel
from trousseau.provisioning import unchanged
from trousseau.provisioning.services import import_records

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("colleges")]


@pytest.fixture(autouse=True)
def _postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("the fingerprints are PostgreSQL's")


def academie(samples: Samples, *uajs: str, **kw):
    files = [samples.colleges[uaj] for uaj in uajs or (JEAN_MOULIN, SIMONE_VEIL)]
    return import_records(
        pupils=[opened(p) for p, _ in files], guardians=[opened(g) for _, g in files], bulk_copy=True, **kw
    )


def test_the_same_files_again_are_left_out_and_change_nothing(samples):
    first = academie(samples)
    assert first.ok
    assert first.applied
    assert not first.left_out
    assert LastImport.objects.count() == 2
    before = list(Pupil.objects.order_by("pk").values_list("pk", "last_name", "left_at", "class_name"))

    again = academie(samples)
    assert again.applied
    assert again.ok
    assert again.left_out == sorted([JEAN_MOULIN, SIMONE_VEIL])
    assert again.rows == 0  # not a row read
    assert list(Pupil.objects.order_by("pk").values_list("pk", "last_name", "left_at", "class_name")) == before
    audited = AuditEvent.objects.filter(tag=EventTag.DIRECTORY_IMPORT_APPLIED).latest("pk")
    assert audited.data["left_out"] == [JEAN_MOULIN, SIMONE_VEIL]

    # Read anyway when asked: the same outcome, every row read.
    reread = academie(samples, reread_unchanged=True)
    assert not reread.left_out
    assert reread.rows == first.rows
    assert (reread.pupils.created, reread.pupils.updated, reread.pupils.left) == (0, 0, 0)


def test_only_the_school_whose_file_changed_is_read(samples):
    academie(samples)
    pupils, guardians = samples.colleges[JEAN_MOULIN]
    text = member_text(guardians)
    assert "<TEL_PORTABLE>06 12 34 56 78</TEL_PORTABLE>" in text
    changed = rezipped(guardians, text.replace("06 12 34 56 78", "07 00 00 00 01", 1))
    other_pupils, other_guardians = samples.colleges[SIMONE_VEIL]
    result = import_records(
        pupils=[opened(pupils), opened(other_pupils)],
        guardians=[changed, opened(other_guardians)],
        bulk_copy=True,
    )
    assert result.ok, result.errors[:3]
    assert result.left_out == [SIMONE_VEIL]
    assert result.guardians.updated == 1
    assert Guardian.objects.filter(school__uai=JEAN_MOULIN, mobile="+33700000001").count() == 1


def test_a_record_changed_since_brings_the_school_back_and_the_file_wins(samples):
    academie(samples, JEAN_MOULIN)
    pupil = Pupil.objects.filter(school__uai=JEAN_MOULIN, left_at=None).order_by("pk").first()
    assert pupil is not None
    name = pupil.last_name
    Pupil.objects.filter(pk=pupil.pk).update(last_name="CHANGÉ À LA MAIN")
    result = academie(samples, JEAN_MOULIN)
    assert not result.left_out
    assert result.pupils.updated == 1
    pupil.refresh_from_db()
    assert pupil.last_name == name


def test_a_disabled_account_brings_the_school_back_an_activation_does_not(samples):
    academie(samples, JEAN_MOULIN)
    guardian_account = Account.objects.filter(kind=AccountKind.GUARDIAN).order_by("pk").first()
    assert guardian_account is not None
    Account.objects.filter(pk=guardian_account.pk).update(state=AccountState.ACTIVE, activated_at=timezone.now())
    assert academie(samples, JEAN_MOULIN).left_out == [JEAN_MOULIN]

    Account.objects.filter(pk=guardian_account.pk).update(state=AccountState.DISABLED)
    result = academie(samples, JEAN_MOULIN)
    assert result.left_out == []
    assert result.rows > 0
    # Read again, the school is remembered as it is now: the next night leaves it out.
    assert academie(samples, JEAN_MOULIN).left_out == [JEAN_MOULIN]


def test_a_dry_run_or_a_refused_import_remembers_nothing(samples):
    preview = academie(samples, JEAN_MOULIN, dry_run=True)
    assert preview.ok
    assert not preview.left_out
    assert not LastImport.objects.exists()
    academie(samples, JEAN_MOULIN)
    assert academie(samples, JEAN_MOULIN, dry_run=True).left_out == [JEAN_MOULIN]

    pupils, guardians = samples.colleges[JEAN_MOULIN]
    text = member_text(pupils)
    impossible = re.sub(r"<DATE_NAISS>[^<]*</DATE_NAISS>", "<DATE_NAISS>31/02/2012</DATE_NAISS>", text, count=1)
    broken = rezipped(pupils, impossible)
    refused = import_records(pupils=broken, guardians=opened(guardians), bulk_copy=True, partial=True)
    assert refused.error_count
    assert not LastImport.objects.filter(school__uai=JEAN_MOULIN).exists()
    assert not academie(samples, JEAN_MOULIN).left_out


def test_an_import_read_in_full_on_request_is_remembered_too(samples):
    academie(samples, JEAN_MOULIN, reread_unchanged=True)
    assert academie(samples, JEAN_MOULIN).left_out == [JEAN_MOULIN]


def test_other_import_code_or_another_mode_reads_the_files_again(samples, monkeypatch):
    academie(samples, JEAN_MOULIN)
    assert academie(samples, JEAN_MOULIN, mode="additions").left_out == []
    academie(samples, JEAN_MOULIN)
    monkeypatch.setattr(unchanged, "code_digest", lambda: "after an upgrade")
    assert academie(samples, JEAN_MOULIN).left_out == []


def test_the_command_says_which_schools_it_left_out_and_rereads_on_request(samples):
    pupils, guardians = samples.colleges[JEAN_MOULIN]
    args = ["import_records", "--pupils", str(pupils), "--guardians", str(guardians)]
    call_command(*args, stdout=StringIO())
    out = StringIO()
    call_command(*args, stdout=out)
    assert f"1 schools left out, their files and records as their last import left them ({JEAN_MOULIN})" in (
        out.getvalue()
    )
    out = StringIO()
    call_command(*args, "--reread-unchanged", stdout=out)
    assert "left out" not in out.getvalue()
    assert "pupils: 0 created, 0 updated" in out.getvalue()


@pytest.mark.parametrize(
    "change",
    [
        "a guardian's mobile corrected",
        "a link removed",
        "an account deleted",
        "an account renamed",
        "the school made an école",
    ],
)
def test_any_change_an_import_reads_brings_the_school_back(samples, change):
    academie(samples, JEAN_MOULIN)
    assert LastImport.objects.filter(school__uai=JEAN_MOULIN).exists()
    guardian = Guardian.objects.filter(school__uai=JEAN_MOULIN).order_by("pk").first()
    assert guardian is not None
    account = Account.objects.filter(pupil__school__uai=JEAN_MOULIN).order_by("pk").first()
    assert account is not None
    if change == "a guardian's mobile corrected":
        Guardian.objects.filter(pk=guardian.pk).update(mobile="+33699999999", mobile_fixed_at=timezone.now())
    elif change == "a link removed":
        Guardianship.objects.filter(guardian=guardian).first().delete()
    elif change == "an account deleted":
        account.delete()
    elif change == "an account renamed":
        Account.objects.filter(pk=account.pk).update(last_name="AUTRE")
    else:
        School.objects.filter(uai=JEAN_MOULIN).update(level=SchoolLevel.ECOLE)
    # The trigger forgot the school in the same transaction as the change.
    assert not LastImport.objects.filter(school__uai=JEAN_MOULIN).exists()
    assert academie(samples, JEAN_MOULIN).left_out == []


def test_a_login_or_an_other_schools_change_keeps_the_school_remembered(samples):
    academie(samples)
    account = Account.objects.filter(pupil__school__uai=JEAN_MOULIN).order_by("pk").first()
    assert account is not None
    Account.objects.filter(pk=account.pk).update(last_login=timezone.now(), phone="+33611111111")
    Pupil.objects.filter(school__uai=SIMONE_VEIL).update(class_name="3Z")
    assert list(LastImport.objects.values_list("school__uai", flat=True)) == [JEAN_MOULIN]
