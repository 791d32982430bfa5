"""Recovery by SMS also knows the mobile the holder verified on the account page."""

import pytest
from django.utils import timezone

from tests.accounts.helpers import active_guardian
from trousseau.accounts.recovery import active_guardian_accounts_for_mobile, recorded_mobile

pytestmark = pytest.mark.django_db
SCHOOL_PHONE = "+33612345678"
OWN_PHONE = "+33698765432"


def with_own_phone(account, *, verified: bool = True):
    account.phone = OWN_PHONE
    account.phone_verified_at = timezone.now() if verified else None
    account.save()
    return account


def test_the_school_record_is_used_without_an_own_verified_mobile():
    account = active_guardian(mobile=SCHOOL_PHONE)
    assert recorded_mobile(account) == SCHOOL_PHONE
    assert recorded_mobile(with_own_phone(account, verified=False)) == SCHOOL_PHONE


def test_an_own_verified_mobile_comes_first():
    account = with_own_phone(active_guardian(mobile=SCHOOL_PHONE))
    assert recorded_mobile(account) == OWN_PHONE


def test_accounts_are_found_by_school_record_or_verified_own_mobile():
    by_school = active_guardian(mobile=SCHOOL_PHONE)
    by_own = with_own_phone(active_guardian(mobile="+33611111111"))
    unverified = with_own_phone(active_guardian(mobile="+33622222222"), verified=False)
    assert active_guardian_accounts_for_mobile(SCHOOL_PHONE) == [by_school]
    assert active_guardian_accounts_for_mobile(OWN_PHONE) == [by_own]
    assert unverified not in active_guardian_accounts_for_mobile(OWN_PHONE)


def test_an_account_found_both_ways_is_listed_once():
    account = with_own_phone(active_guardian(mobile=OWN_PHONE))
    assert active_guardian_accounts_for_mobile(OWN_PHONE) == [account]
