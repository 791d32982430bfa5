"""Staff administration, the page and adding: who may open it, who may give which role, the one-time link."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.console import helpers
from tests.console.staff_admin.conftest import NEW_PASSWORD, add, denied, link_in, page, text
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.console import totp
from trousseau.console.models import StaffMember, StaffRole
from trousseau.directory.models import SchoolLevel

pytestmark = pytest.mark.django_db


# --- Who sees the page ------------------------------------------------------------------------------


def test_the_head_sees_the_school_staff_and_not_another_schools(school, head, secretary):
    elsewhere = helpers.staff(StaffRole.SECRETARIAT, school=factories.school(), email="ailleurs@ac-normandie.fr")
    response = helpers.console(head).get(page(school.uai))
    assert response.status_code == 200
    assert secretary.email in text(response)
    assert head.email in text(response)
    assert elsewhere.email not in text(response)
    assert "Chef d'établissement" in text(response)
    assert 'href="' + page(school.uai) + '"' in text(response)  # the navigation link


@pytest.mark.parametrize("role", [StaffRole.SECRETARIAT, StaffRole.READONLY])
def test_a_secretary_or_a_reader_gets_403_audited(school, role):
    member = helpers.staff(role, school=school, academie="")
    browser = helpers.console(member)
    response = browser.get(page(school.uai))
    assert response.status_code == 403
    assert "La gestion du personnel est réservée" in text(response)
    assert add(browser, school.uai).status_code == 403
    assert not StaffMember.objects.filter(email="nora.benali@ac-normandie.fr").exists()
    assert [e.data["reason"] for e in denied(member)] == ["staff_admin", "staff_admin"]
    assert f'href="{page(school.uai)}"' not in browser.get(reverse("console:school", args=[school.uai])).text


def test_a_reader_of_the_whole_academie_gets_403(school):
    reader = helpers.staff(StaffRole.READONLY, academie="Normandie")
    assert helpers.console(reader).get(page(school.uai)).status_code == 403
    assert denied(reader)


def test_the_operator_sees_any_school_of_the_academie_but_not_another_academie(school, operator):
    browser = helpers.console(operator)
    assert browser.get(page(school.uai)).status_code == 200
    assert browser.get(page(factories.school(academie="Normandie").uai)).status_code == 200
    other = factories.school(academie="Bretagne")
    assert browser.get(page(other.uai)).status_code == 403
    assert add(browser, other.uai).status_code == 403
    assert not StaffMember.objects.filter(email="nora.benali@ac-normandie.fr").exists()
    assert [e.data["reason"] for e in denied(operator)] == ["school", "school"]


def test_a_head_gets_403_on_another_school(school, head):
    other = factories.school(academie="Normandie")
    assert helpers.console(head).get(page(other.uai)).status_code == 403
    assert denied(head)


# --- Adding -----------------------------------------------------------------------------------------


def test_the_head_adds_a_secretary_after_a_confirmation_and_gets_a_one_time_link(school, head):
    browser = helpers.console(head)
    response = add(browser, school.uai, confirm=False)
    assert response.status_code == 200
    assert "Créer un accès à la console ?" in text(response)
    assert "Un accès « Secrétariat » est créé pour Nora Benali" in text(response)
    assert not StaffMember.objects.filter(email="nora.benali@ac-normandie.fr").exists()

    response = add(browser, school.uai, email=" Nora.Benali@ac-normandie.fr ")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    link = link_in(text(response))
    member = StaffMember.objects.get(email="nora.benali@ac-normandie.fr")
    assert (member.role, member.school, member.enrolled) == (StaffRole.SECRETARIAT, school, False)
    created = helpers.events(EventTag.CONSOLE_STAFF_CREATED, created=member.pk)
    assert created[0].data["staff"] == head.pk
    assert created[0].data["school"] == school.uai
    token = link.rsplit("/", 2)[1]
    assert not AuditEvent.objects.filter(data__icontains=token).exists()  # the link is never logged

    # The link enrols the newcomer (password and authenticator), once.
    newcomer = Client()
    assert newcomer.get(link)["Location"] == reverse("console:enrol")
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', newcomer.get(reverse("console:enrol")).text)
    assert secret
    code = totp.code_at(secret.group(1).replace(" ", ""), timezone.now())
    data = {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD, "code": code}
    assert newcomer.post(reverse("console:enrol"), data).status_code == 302
    member.refresh_from_db()
    assert member.enrolled
    assert Client().get(link).status_code == 404


def test_the_add_address_answers_a_get_with_the_staff_page(school, head):
    response = helpers.console(head).get(reverse("console:staff_add", args=[school.uai]))
    assert response["Location"] == page(school.uai)


def test_the_head_adds_a_reader(school, head):
    add(helpers.console(head), school.uai, role="readonly")
    assert StaffMember.objects.get(email="nora.benali@ac-normandie.fr").role == StaffRole.READONLY


@pytest.mark.parametrize("confirm", [False, True])
def test_a_head_cannot_give_a_head_or_operator_role(school, head, confirm):
    browser = helpers.console(head)
    for role in ("head", "academie"):
        response = add(browser, school.uai, role=role, confirm=confirm)
        assert response.status_code == 400
        assert "Vous ne pouvez pas donner ce rôle. Choisissez un des rôles proposés." in text(response)
    assert not StaffMember.objects.filter(email="nora.benali@ac-normandie.fr").exists()
    assert len(helpers.events(EventTag.CONSOLE_STAFF_REFUSED, staff=head.pk)) == 2


def test_the_form_offers_a_head_only_to_the_operator(school, head, operator):
    assert 'value="head"' not in text(helpers.console(head).get(page(school.uai)))
    assert 'value="head"' in text(helpers.console(operator).get(page(school.uai)))


@pytest.mark.parametrize("confirm", [False, True])
def test_an_email_already_used_is_refused_and_nothing_changes(school, head, secretary, confirm):
    before = StaffMember.objects.count()
    response = add(helpers.console(head), school.uai, email=secretary.email.upper(), confirm=confirm)
    assert response.status_code == 400
    assert "Cette adresse email est déjà celle d'un accès à la console." in text(response)
    assert StaffMember.objects.count() == before
    secretary.refresh_from_db()
    assert secretary.enrolled
    refused = helpers.events(EventTag.CONSOLE_STAFF_REFUSED, staff=head.pk)
    assert [(e.data["reason"], e.data["fields"]) for e in refused] == [("email_taken", ["email"])]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "nora.benali"}, "Saisissez une adresse email valide, par exemple prenom.nom@ac-normandie.fr."),
        ({"email": ""}, "Saisissez l'adresse email professionnelle."),
        ({"last_name": ""}, "Saisissez le nom."),
        ({"role": ""}, "Choisissez un rôle."),
    ],
)
def test_bad_input_gets_a_french_message_and_nothing_changes(school, head, fields, message):
    before = StaffMember.objects.count()
    response = add(helpers.console(head), school.uai, **fields)
    assert response.status_code == 400
    assert message in text(response)
    assert "Corrigez les champs signalés ci-dessous." in text(response)
    assert StaffMember.objects.count() == before
    assert helpers.events(EventTag.CONSOLE_STAFF_REFUSED, staff=head.pk, reason="form")


def test_the_operator_adds_a_director_to_an_ecole_named_as_such(operator):
    ecole = factories.school(level=SchoolLevel.ECOLE, academie="Normandie", name="École Jules-Ferry")
    browser = helpers.console(operator)
    assert "Directeur ou directrice d'école" in text(browser.get(page(ecole.uai)))
    response = add(browser, ecole.uai, role="head", confirm=False)
    assert "Un accès « Directeur ou directrice d'école » est créé" in text(response)
    add(browser, ecole.uai, role="head")
    member = StaffMember.objects.get(email="nora.benali@ac-normandie.fr")
    assert (member.role, member.school) == (StaffRole.HEAD, ecole)
    assert helpers.events(EventTag.CONSOLE_STAFF_CREATED, created=member.pk, staff=operator.pk)
