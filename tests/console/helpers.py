"""Staff members, logged-in console browsers and a small school for the console tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from trousseau.accounts.models import Account, AccountState
from trousseau.audit.models import AuditEvent
from trousseau.console import totp
from trousseau.console.models import StaffMember, StaffRole
from trousseau.console.services.staff import staff_create_enrolled
from trousseau.directory.models import School

STAFF_PASSWORD = "Registre#Scolaire2025"
_counter = [0]


def staff(role: StaffRole = StaffRole.SECRETARIAT, *, school: School | None = None, **kw: Any) -> StaffMember:
    """An enrolled staff member; its TOTP secret is on the row (`member.totp_secret`)."""
    _counter[0] += 1
    academie = kw.pop("academie", school.academie if school else "Normandie")
    return staff_create_enrolled(
        email=kw.pop("email", f"agent{_counter[0]}@ac-normandie.fr"),
        first_name=kw.pop("first_name", "Claire"),
        last_name=kw.pop("last_name", "Martin"),
        role=role,
        password=kw.pop("password", STAFF_PASSWORD),
        totp_secret=kw.pop("totp_secret", totp.new_secret()),
        school=None if role == StaffRole.ACADEMIE else school,
        academie=academie if role in {StaffRole.ACADEMIE, StaffRole.READONLY} else "",
    )


def code_for(member: StaffMember, *, offset_steps: int = 0) -> str:
    return totp.code_at(member.totp_secret, timezone.now() + timedelta(seconds=30 * offset_steps))


def log_in(client: Client, member: StaffMember, *, password: str = STAFF_PASSWORD, offset_steps: int = 0):
    """Both steps of the console login; returns the answer to the code."""
    response = client.post(reverse("console:login"), {"email": member.email, "password": password})
    assert response.status_code == 302, response.text
    assert response["Location"] == reverse("console:code")
    return client.post(reverse("console:code"), {"code": code_for(member, offset_steps=offset_steps)})


def console(member: StaffMember) -> Client:
    """A browser logged in to the console as `member`."""
    client = Client()
    response = log_in(client, member)
    assert response.status_code == 302, response.text
    return client


@dataclass
class Family:
    """One pupil with an account, and one guardian with an account, at `school`."""

    school: School
    pupil_account: Account
    guardian_account: Account

    @property
    def pupil(self):
        return self.pupil_account.pupil


def family(school: School, *, class_name: str = "5e B", last_name: str = "Dupont", **pupil_kw: Any) -> Family:
    pupil_account, _, _ = factories.pupil_account(school=school, class_name=class_name, last_name=last_name, **pupil_kw)
    guardian_account, _, _ = factories.guardian_account(children=[pupil_account.pupil], last_name=last_name)
    return Family(school, pupil_account, guardian_account)


def activate(account: Account, *, at=None) -> Account:
    account.set_password(factories.GOOD_PASSWORD)
    account.state = AccountState.ACTIVE
    account.activated_at = at or timezone.now()
    account.save()
    return account


def events(tag: str, **data: Any):
    """Audit rows with this tag whose data holds every given key/value."""
    rows = AuditEvent.objects.filter(tag=tag)
    return [row for row in rows if all(row.data.get(k) == v for k, v in data.items())]
