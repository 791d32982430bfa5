"""`seed_demo` writes a console staff member per demo school to staff.csv, ready to log in."""

import csv
import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from trousseau.console import totp
from trousseau.console.models import StaffMember, StaffRole
from trousseau.demo.services import SCHOOLS
from trousseau.demo.staff import STAFF_CSV_COLUMNS

pytestmark = pytest.mark.django_db


def test_the_demo_writes_enrolled_staff_who_can_log_in(tmp_path):
    credentials = tmp_path / "credentials.csv"
    out = io.StringIO()
    call_command("seed_demo", "--pupils", "6", "--credentials", str(credentials), stdout=out)
    assert "staff.csv" in out.getvalue()
    with (tmp_path / "staff.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == STAFF_CSV_COLUMNS
        rows = list(reader)
    secretaries = [r for r in rows if r["role"] == StaffRole.SECRETARIAT]
    assert {r["school_uai"] for r in secretaries} == {uai for uai, *_ in SCHOOLS}
    assert [r["role"] for r in rows if r["role"] == StaffRole.ACADEMIE] == [StaffRole.ACADEMIE]
    assert all(r["console_url"].endswith("/console/connexion/") for r in rows)
    assert StaffMember.objects.count() == len(rows)

    row = secretaries[0]
    client = Client()
    client.post(reverse("console:login"), {"email": row["email"], "password": row["password"]})
    response = client.post(reverse("console:code"), {"code": totp.code_at(row["totp_secret"], timezone.now())})
    assert response.status_code == 302
    assert client.get(reverse("console:home"))["Location"] == reverse("console:school", args=[row["school_uai"]])
