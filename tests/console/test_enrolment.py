"""`console_staff_add`: a one-time enrolment link or a temporary password; first login sets up TOTP."""

import io
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.console import helpers
from trousseau.audit.events import EventTag
from trousseau.console import authentication, totp
from trousseau.console.models import StaffMember, StaffRole

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Bulletin#Trimestre-2025"


def add(*args: str) -> str:
    out = io.StringIO()
    call_command("console_staff_add", *args, stdout=out)
    return out.getvalue()


def secret_on(page: str) -> str:
    found = re.search(r'<p class="tr-secret" id="totp-secret">([A-Z2-7 ]+)</p>', page)
    assert found, page
    return found.group(1).replace(" ", "")


def enrol(client: Client, secret: str, *, password: str = NEW_PASSWORD, code: str | None = None):
    data = {"password": password, "password_confirm": password, "code": code or totp.code_at(secret, timezone.now())}
    return client.post(reverse("console:enrol"), data)


def test_the_command_prints_a_one_time_link_that_enrols_once(client):
    school = factories.school()
    out = add("claire.martin@ac-normandie.fr", "--role", "secretariat", "--school", school.uai, "--last-name", "Martin")
    link = re.search(r"(http\S+/console/inscription/\S+/)", out)
    assert link, out
    member = StaffMember.objects.get(email="claire.martin@ac-normandie.fr")
    assert member.role == StaffRole.SECRETARIAT
    assert member.school == school
    assert not member.enrolled
    assert member.enrolment_digest
    assert link.group(1).rsplit("/", 2)[1] not in member.enrolment_digest  # only a digest is stored
    assert helpers.events(EventTag.CONSOLE_STAFF_CREATED, created=member.pk)

    path = link.group(1).split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path)
    assert response["Location"] == reverse("console:enrol")
    page = client.get(reverse("console:enrol")).text
    assert "data:image/svg+xml" in page
    secret = secret_on(page)

    assert (
        enrol(
            client, secret, code="000000" if totp.code_at(secret, timezone.now()) != "000000" else "111111"
        ).status_code
        == 400
    )
    assert helpers.events(EventTag.CONSOLE_TOTP_FAILURE, staff=member.pk)
    # The code is taken once: replaying the same one below must not depend on the clock's 30 s step.
    enrolling_code = totp.code_at(secret, timezone.now())
    response = enrol(client, secret, code=enrolling_code)
    assert response.status_code == 302
    assert client.session[authentication.STAFF_KEY] == member.pk
    member = StaffMember.objects.get(pk=member.pk)
    assert member.enrolled
    assert member.totp_secret == secret
    assert member.check_password(NEW_PASSWORD)
    assert not member.enrolment_digest
    assert helpers.events(EventTag.CONSOLE_TOTP_ENROLLED, staff=member.pk)

    # The link has served; the code that enrolled cannot log in again.
    assert Client().get("/" + path).status_code == 404
    other = Client()
    other.post(reverse("console:login"), {"email": member.email, "password": NEW_PASSWORD})
    assert other.post(reverse("console:code"), {"code": enrolling_code}).status_code == 400


def test_enrolment_refuses_a_weak_or_short_password(client):
    school = factories.school()
    out = add("sec@ac-normandie.fr", "--school", school.uai)
    path = re.search(r"https?://[^/]+(/console/inscription/\S+/)", out).group(1)
    client.get(path)
    secret = secret_on(client.get(reverse("console:enrol")).text)
    response = enrol(client, secret, password="Court#1a")
    assert response.status_code == 400
    assert "au moins 12 caractères" in response.text
    assert not StaffMember.objects.get(email="sec@ac-normandie.fr").enrolled


def test_an_expired_link_is_refused(client, settings):
    school = factories.school()
    out = add("sec@ac-normandie.fr", "--school", school.uai)
    StaffMember.objects.update(enrolment_expires_at=timezone.now() - timedelta(seconds=1))
    path = re.search(r"https?://[^/]+(/console/inscription/\S+/)", out).group(1)
    response = client.get(path)
    assert response.status_code == 404
    assert "Ce lien n'est plus valide" in response.text


def test_a_temporary_password_leads_to_the_enrolment_at_first_login(client):
    out = add("ope@ac-normandie.fr", "--role", "academie", "--academie", "Normandie", "--temporary-password")
    password = re.search(r"Temporary password \(shown once\): (\S+)", out).group(1)
    response = client.post(reverse("console:login"), {"email": "ope@ac-normandie.fr", "password": password})
    assert response["Location"] == reverse("console:enrol")
    secret = secret_on(client.get(reverse("console:enrol")).text)
    assert enrol(client, secret).status_code == 302
    member = StaffMember.objects.get(email="ope@ac-normandie.fr")
    assert member.enrolled
    assert not member.check_password(password)


def test_reset_starts_a_new_enrolment_and_stops_the_old_secret():
    member = helpers.staff(StaffRole.HEAD, school=factories.school())
    browser = helpers.console(member)
    out = add(member.email, "--reset")
    assert "/console/inscription/" in out
    member.refresh_from_db()
    assert not member.enrolled
    assert browser.get(reverse("console:home")).status_code == 302  # the old session ended


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x@ac-normandie.fr", "--school", "9999999Z"], "Unknown school UAI"),
        (["x@ac-normandie.fr", "--role", "head"], "school"),
        (["x@ac-normandie.fr", "--role", "academie"], "academie"),
        (["nobody@ac-normandie.fr", "--reset"], "No staff member"),
    ],
)
def test_the_command_refuses_incomplete_staff(args, message):
    with pytest.raises(CommandError, match=message):
        add(*args)
    assert not StaffMember.objects.filter(email=args[0], enrolment_digest__gt="").exists()
