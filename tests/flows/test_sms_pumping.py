"""SMS pumping: numbers of unlisted countries get nothing, foreign numbers have their own budget, and a
daily budget per calling code stops the sends to that code only, with an alert (security.md §7 checks 13-14)."""

from __future__ import annotations

import logging

import pytest

from tests.flows.test_codes import new_flow
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.core.phones import mobile_e164
from trousseau.flows.exceptions import SendLimitReached
from trousseau.flows.models import CodePurpose
from trousseau.flows.self_registration.forms import IdentityForm
from trousseau.flows.steps import codes, sms_budgets
from trousseau.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("+33 6 12 34 56 78", "FR", "+33612345678"),
        ("0692 12 34 56", "RE", "+262692123456"),
        ("+447700900123", "FR", None),  # a British mobile typed with "+33 France" chosen
        ("+79161234567", "BE", None),
        ("+882 1234 5678", "FR", None),
        ("3680", "FR", None),  # a short (premium) number
    ],
)
def test_only_mobiles_of_the_chosen_listed_country_are_accepted(typed: str, region: str, e164: str | None) -> None:
    assert mobile_e164(typed, region) == e164


def test_the_form_says_why_in_french() -> None:
    form = IdentityForm({"last_name": "Dupont", "first_name": "Sophie", "country": "FR", "mobile": "+447700900123"})
    assert not form.is_valid()
    assert form.errors["mobile"] == [
        "Ce numéro n'est pas un numéro de téléphone portable valide pour l'indicatif choisi."
    ]


def test_foreign_numbers_share_a_budget_per_country(settings) -> None:
    settings.SMS_PER_FOREIGN_COUNTRY_PER_HOUR = 2
    belgian = ["+32470000001", "+32470000002", "+32470000003"]
    assert [sms_budgets.allowed(phone, f"203.0.113.{n}") for n, phone in enumerate(belgian)] == [True, True, False]
    assert sms_budgets.allowed("+352621000001", "203.0.113.9")  # another country has its own
    assert all(sms_budgets.allowed(f"+3361200000{n}", f"198.51.100.{n}") for n in range(5))  # France is not capped so


def test_a_daily_breaker_per_calling_code_stops_that_code_only_and_alerts(settings, caplog) -> None:
    # Replaces the test of the breaker for the whole service: one spent budget stopped every family's
    # SMS (issue #15, finding 9).
    settings.SMS_PER_FOREIGN_COUNTRY_PER_DAY = 3
    for n in range(3):
        codes.issue(new_flow(), purpose=CodePurpose.SELF_REGISTRATION, phone=f"+3247000001{n}", ip=f"198.51.100.{n}")
    assert OutboxMessage.objects.count() == 3
    with caplog.at_level(logging.ERROR), pytest.raises(SendLimitReached):
        codes.issue(new_flow(), purpose=CodePurpose.SELF_REGISTRATION, phone="+32470000199", ip="198.51.100.99")
    assert OutboxMessage.objects.count() == 3  # nothing sent
    event = AuditEvent.objects.get(tag=EventTag.SMS_COUNTRY_BUDGET_SPENT)
    assert event.data == {"calling_code": 32, "limit": 3}
    assert "daily budget of calling code +32" in caplog.text
    codes.issue(new_flow(), purpose=CodePurpose.SELF_REGISTRATION, phone="+33612000199", ip="198.51.100.98")
    codes.issue(new_flow(), purpose=CodePurpose.SELF_REGISTRATION, phone="+352621000001", ip="198.51.100.97")
    assert OutboxMessage.objects.count() == 5  # France and Luxembourg still get theirs


def test_home_calling_codes_have_their_own_daily_breaker(settings) -> None:
    settings.SMS_PER_HOME_COUNTRY_PER_DAY = 2
    assert [sms_budgets.allowed(f"+3361200002{n}", f"198.51.100.{n}") for n in range(3)] == [True, True, False]
    assert sms_budgets.allowed("+262692123456", "198.51.100.50")  # La Réunion counts apart
