"""Staff administration in the console (issue #19): heads add and remove their secretaries and readers;
the académie operator adds any school role, resets an access (lost second factor) and removes one."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.console import helpers
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.console import totp
from trousseau.console.models import StaffMember, StaffRole
from trousseau.console.services import staff as staff_service
from trousseau.directory.models import SchoolLevel

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Bulletin#Trimestre-2025"


@pytest.fixture
def school():
    return factories.school(uai="0141111A", name="Collège Jean-Moulin", academie="Normandie")


@pytest.fixture
def head(school):
    return helpers.staff(StaffRole.HEAD, school=school, first_name="Hélène", last_name="Roux")


@pytest.fixture
def secretary(school):
    return helpers.staff(StaffRole.SECRETARIAT, school=school, first_name="Inès", last_name="Garcia")


@pytest.fixture
def operator():
    return helpers.staff(StaffRole.ACADEMIE, academie="Normandie", first_name="Paul", last_name="Leroy")


def page(uai: str) -> str:
    return reverse("console:staff", args=[uai])


def add(browser: Client, uai: str, *, confirm: bool = True, **fields: str):
    data = {"first_name": "Nora", "last_name": "Benali", "email": "nora.benali@ac-normandie.fr", "role": "secretariat"}
    data.update(fields)
    if confirm:
        data["confirme"] = "oui"
    return browser.post(reverse("console:staff_add", args=[uai]), data)


def text(response) -> str:
    return str(unescape(response.content.decode()))


def link_in(page_text: str) -> str:
    found = re.search(r'id="enrolment-link">[^<]*(/console/inscription/[^/<]+/)</p>', page_text)
    assert found, page_text
    return found.group(1)


def denied(member: StaffMember) -> list[AuditEvent]:
    return list(helpers.events(EventTag.CONSOLE_ACCESS_DENIED, staff=member.pk))


def logged_out(browser: Client) -> bool:
    response = browser.get(reverse("console:home"))
    return response.status_code == 302 and response["Location"].startswith(reverse("console:login"))


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


# --- Removing ---------------------------------------------------------------------------------------


def test_the_head_removes_a_secretary_after_a_confirmation_and_her_session_ends(school, head, secretary):
    hers = helpers.console(secretary)
    browser = helpers.console(head)
    url = reverse("console:staff_remove", args=[school.uai, secretary.pk])
    response = browser.get(url)
    assert response.status_code == 200
    assert "Retirer l'accès de Inès Garcia ?" in text(response)
    assert "ne peut plus se connecter à la console" in text(response)
    assert browser.post(url).status_code == 200  # no confirmation: the page again, nothing done
    secretary.refresh_from_db()
    assert secretary.is_active

    response = browser.post(url, {"confirme": "oui"})
    assert response["Location"] == page(school.uai)
    secretary.refresh_from_db()
    assert not secretary.is_active
    assert logged_out(hers)
    assert helpers.events(EventTag.CONSOLE_STAFF_REMOVED, staff=head.pk, member=secretary.pk, school=school.uai)
    listing = text(browser.get(page(school.uai)))
    assert "L'accès de Inès Garcia a été retiré." in listing
    assert "Accès retiré" in listing


def test_a_head_touches_neither_heads_nor_themselves_nor_other_schools(school, head):
    other_head = helpers.staff(StaffRole.HEAD, school=school)
    browser = helpers.console(head)
    for member in (other_head, head):
        for name in ("console:staff_remove", "console:staff_reset"):
            url = reverse(name, args=[school.uai, member.pk])
            assert browser.get(url).status_code == 403
            assert browser.post(url, {"confirme": "oui"}).status_code == 403
    assert StaffMember.objects.filter(school=school, role=StaffRole.HEAD, is_active=True).count() == 2
    assert all(e.data["reason"] == "staff_admin" for e in denied(head))
    elsewhere = helpers.staff(StaffRole.SECRETARIAT, school=factories.school(academie="Normandie"))
    url = reverse("console:staff_remove", args=[school.uai, elsewhere.pk])
    assert browser.post(url, {"confirme": "oui"}).status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.is_active


def test_a_head_does_not_reset_a_secretary(school, head, secretary):
    url = reverse("console:staff_reset", args=[school.uai, secretary.pk])
    assert helpers.console(head).post(url, {"confirme": "oui"}).status_code == 403
    secretary.refresh_from_db()
    assert secretary.enrolled


def test_the_operator_may_remove_the_last_head_and_is_told_so(school, head, operator):
    browser = helpers.console(operator)
    url = reverse("console:staff_remove", args=[school.uai, head.pk])
    assert "L'établissement n'aura plus de chef d'établissement" in text(browser.get(url))
    browser.post(url, {"confirme": "oui"})
    head.refresh_from_db()
    assert not head.is_active
    assert helpers.events(EventTag.CONSOLE_STAFF_REMOVED, member=head.pk, last_head=True)


# --- Resetting --------------------------------------------------------------------------------------


def test_the_operator_resets_a_heads_lost_second_factor(school, head, operator):
    heads_browser = helpers.console(head)
    old_secret = head.totp_secret
    browser = helpers.console(operator)
    url = reverse("console:staff_reset", args=[school.uai, head.pk])
    response = browser.get(url)
    assert "Réinitialiser l'accès de Hélène Roux ?" in text(response)
    assert "second facteur" in text(response)
    head.refresh_from_db()
    assert head.enrolled  # nothing done before the confirmation

    response = browser.post(url, {"confirme": "oui"})
    assert response.status_code == 200
    link = link_in(text(response))
    head.refresh_from_db()
    assert not head.enrolled
    assert not head.password
    assert not head.totp_secret
    assert logged_out(heads_browser)
    reset = helpers.events(EventTag.CONSOLE_STAFF_RESET, member=head.pk)
    assert [(e.data["staff"], e.data["by"], e.data["reactivated"]) for e in reset] == [(operator.pk, "console", False)]
    assert not AuditEvent.objects.filter(data__icontains=link.rsplit("/", 2)[1]).exists()

    # The head enrols again with a new secret; the old password no longer opens anything.
    again = Client()
    again.get(link)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', again.get(reverse("console:enrol")).text)
    assert secret
    new_secret = secret.group(1).replace(" ", "")
    assert new_secret != old_secret
    data = {
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
        "code": totp.code_at(new_secret, timezone.now()),
    }
    assert again.post(reverse("console:enrol"), data).status_code == 302
    response = Client().post(reverse("console:login"), {"email": head.email, "password": helpers.STAFF_PASSWORD})
    assert response.status_code != 302


def test_a_reset_restores_a_removed_access(school, secretary, operator):
    browser = helpers.console(operator)
    browser.post(reverse("console:staff_remove", args=[school.uai, secretary.pk]), {"confirme": "oui"})
    url = reverse("console:staff_reset", args=[school.uai, secretary.pk])
    assert "Son accès, qui avait été retiré, est rétabli." in text(browser.get(url))
    link_in(text(browser.post(url, {"confirme": "oui"})))
    secretary.refresh_from_db()
    assert secretary.is_active
    assert not secretary.enrolled
    assert helpers.events(EventTag.CONSOLE_STAFF_RESET, member=secretary.pk, reactivated=True)


def test_the_operator_of_another_academie_cannot_reset(school, head):
    stranger = helpers.staff(StaffRole.ACADEMIE, academie="Bretagne")
    url = reverse("console:staff_reset", args=[school.uai, head.pk])
    assert helpers.console(stranger).post(url, {"confirme": "oui"}).status_code == 403
    head.refresh_from_db()
    assert head.enrolled


def test_a_removed_members_unused_link_stops_working(school, head):
    browser = helpers.console(head)
    link = link_in(text(add(browser, school.uai)))
    member = StaffMember.objects.get(email="nora.benali@ac-normandie.fr")
    browser.post(reverse("console:staff_remove", args=[school.uai, member.pk]), {"confirme": "oui"})
    assert Client().get(link).status_code == 404


# --- The rules, one by one (services.staff) ----------------------------------------------------------


def test_who_may_do_what_to_whom(school, head, secretary, operator):
    reader = helpers.staff(StaffRole.READONLY, school=school, academie="")
    other_head = helpers.staff(StaffRole.HEAD, school=school)
    other_school = factories.school(academie="Normandie")
    elsewhere = helpers.staff(StaffRole.SECRETARIAT, school=other_school)
    stranger = helpers.staff(StaffRole.ACADEMIE, academie="Bretagne")
    assert staff_service.grantable_roles(operator) == (StaffRole.HEAD, StaffRole.SECRETARIAT, StaffRole.READONLY)
    assert staff_service.grantable_roles(head) == (StaffRole.SECRETARIAT, StaffRole.READONLY)
    assert staff_service.grantable_roles(secretary) == staff_service.grantable_roles(reader) == ()
    assert [staff_service.manages_staff(m, school) for m in (operator, head, secretary, reader, stranger)] == [
        True,
        True,
        False,
        False,
        False,
    ]
    assert not staff_service.manages_staff(head, other_school)
    # A head: their secretaries and readers, never a head (themselves included), never another school.
    assert [staff_service.can_remove(head, m) for m in (secretary, reader, other_head, head, elsewhere)] == [
        True,
        True,
        False,
        False,
        False,
    ]
    assert not any(staff_service.can_reset(head, m) for m in (secretary, reader, other_head, head))
    # The operator: anyone of a school of the académie; not another académie's operator.
    assert all(staff_service.can_remove(operator, m) for m in (secretary, reader, other_head, head, elsewhere))
    assert all(staff_service.can_reset(operator, m) for m in (secretary, reader, other_head, head, elsewhere))
    assert not staff_service.can_remove(stranger, secretary)
    assert not staff_service.can_reset(stranger, secretary)
    assert not staff_service.can_remove(secretary, reader)


def test_the_last_head_is_known(school, head):
    assert staff_service.is_last_head(head)
    second = helpers.staff(StaffRole.HEAD, school=school)
    assert not staff_service.is_last_head(head)
    staff_service.staff_remove(actor=helpers.staff(StaffRole.ACADEMIE, academie="Normandie"), member=second, ip=None)
    assert staff_service.is_last_head(head)


def test_the_command_line_reset_is_audited_as_a_reset(school, head):
    staff_service.staff_reinvite(staff=head)
    assert helpers.events(EventTag.CONSOLE_STAFF_RESET, member=head.pk, by="command line")
