"""The staff services judge a staff password themselves (the families' rule, 12 characters at least)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.console import helpers
from trousseau.accounts.exceptions import PasswordRefused
from trousseau.accounts.passwords import password_problems
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.console import totp
from trousseau.console.models import StaffMember, StaffRole
from trousseau.console.services.staff import enrolment_complete, staff_create, staff_create_enrolled

pytestmark = pytest.mark.django_db

# Each would pass the families' rule or come close; the staff rule refuses them all.
WEAK = [
    ("password", "trop courant"),
    ("Court#Mot1", "au moins 12 caractères"),
    ("Claire#Bureau-2025", "nom ou prénom"),
    ("agent.secretariat#X1", "identifiant"),
]


@pytest.mark.parametrize(("password", "expected"), WEAK)
def test_enrolment_refuses_a_weak_password_and_changes_nothing(password, expected):
    school = factories.school()
    invitation = staff_create(
        email="agent.secretariat@ac-normandie.fr",
        first_name="Claire",
        last_name="Martin",
        role=StaffRole.SECRETARIAT,
        school=school,
    )
    with pytest.raises(PasswordRefused) as exc:
        enrolment_complete(staff=invitation.staff, password=password, secret=totp.new_secret(), step=1, ip=None)
    assert any(expected in problem for problem in exc.value.problems), exc.value.problems
    member = StaffMember.objects.get(pk=invitation.staff.pk)
    assert not member.enrolled
    assert not member.password
    assert member.enrolment_digest  # the link still works
    assert not AuditEvent.objects.filter(tag=EventTag.CONSOLE_TOTP_ENROLLED).exists()


@pytest.mark.parametrize(("password", "expected"), WEAK)
def test_an_enrolled_staff_member_is_not_created_with_a_weak_password(password, expected):
    with pytest.raises(PasswordRefused) as exc:
        helpers.staff(email="agent.secretariat@ac-normandie.fr", school=factories.school(), password=password)
    assert any(expected in problem for problem in exc.value.problems), exc.value.problems
    assert not StaffMember.objects.exists()


def test_the_staff_rule_is_longer_than_the_families():
    assert password_problems("Cartable#42") == []  # 11 characters are fine for a family
    assert not staff_password_accepted("Cartable#42")
    assert staff_password_accepted(helpers.STAFF_PASSWORD)


def staff_password_accepted(password: str) -> bool:
    try:
        staff_create_enrolled(
            email="chef@ac-normandie.fr",
            first_name="Claire",
            last_name="Martin",
            role=StaffRole.ACADEMIE,
            academie="Normandie",
            password=password,
            totp_secret=totp.new_secret(),
        )
    except PasswordRefused:
        return False
    return True
