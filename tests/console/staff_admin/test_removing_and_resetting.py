"""Staff administration, taking back: removing and resetting an access, and the rules of services.staff one by one."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.console import helpers
from tests.console.staff_admin.conftest import NEW_PASSWORD, add, denied, link_in, logged_out, page, text
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.console import totp
from trousseau.console.models import StaffMember, StaffRole
from trousseau.console.services import staff as staff_service

pytestmark = pytest.mark.django_db


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
