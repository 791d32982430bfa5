"""Password, email, mobile and sessions changes from "Gérer mon compte" (services)."""

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from tests import factories
from tests.accounts.helpers import IP, active_guardian, logged_in
from trousseau.accounts import authentication as auth
from trousseau.accounts import recovery
from trousseau.accounts import services as account_services
from trousseau.accounts.changes import email_change, mobile_set_verified, password_change, sessions_end_others
from trousseau.accounts.exceptions import WrongCurrentPassword
from trousseau.accounts.models import AccountSession
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.core import throttle
from trousseau.core.refusals import Throttled, TooManyTries
from trousseau.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db
NEW = "Trousse#Orange77"


def test_password_change_sets_the_new_password_and_ends_other_sessions():
    account = active_guardian()
    logged_in(account)
    logged_in(account)
    keep = AccountSession.objects.filter(account=account).first().session_key
    changed = password_change(account=account, current=factories.GOOD_PASSWORD, new=NEW, ip=IP, keep_session=keep)
    assert changed.check_password(NEW)
    assert list(AccountSession.objects.filter(account=account).values_list("session_key", flat=True)) == [keep]
    event = AuditEvent.objects.get(tag=EventTag.PASSWORD_CHANGED, account=account)
    assert event.data == {"sessions_ended": 1, "notified": "sms"}  # no verified email: the recorded mobile
    [notice] = OutboxMessage.objects.filter(to=account.guardian_links.first().guardian.mobile)
    assert "vient d'être changé" in notice.body
    assert account.identifier in notice.body
    assert auth.authenticate(identifier=account.identifier, password=NEW, ip=IP) == auth.LoggedIn(changed)


def test_a_change_is_told_by_email_when_the_account_has_a_verified_one():
    account = active_guardian()
    account.email, account.email_verified_at = "sophie@example.fr", timezone.now()
    account.save()
    password_change(account=account, current=factories.GOOD_PASSWORD, new=NEW, ip=IP, keep_session=None)
    [notice] = mail.outbox
    assert notice.to == ["sophie@example.fr"]
    assert "Mot de passe perdu" in notice.body
    assert not OutboxMessage.objects.exists()  # one channel is enough


def test_wrong_current_password_changes_nothing_and_counts_like_a_failed_login():
    account = active_guardian()
    with pytest.raises(WrongCurrentPassword):
        password_change(account=account, current="Pas#leBon1", new=NEW, ip=IP, keep_session=None)
    account.refresh_from_db()
    assert account.check_password(factories.GOOD_PASSWORD)
    assert AuditEvent.objects.filter(tag=EventTag.PASSWORD_CHANGE_FAILURE, account=account).count() == 1
    assert not AuditEvent.objects.filter(tag=EventTag.PASSWORD_CHANGED).exists()
    guard = auth.login_guards(account.identifier, IP)[0]
    assert throttle.record_failure(guard) == 2  # the change attempt was the first failure


def test_once_the_identifier_is_throttled_no_password_is_checked():
    account = active_guardian()
    for _ in range(settings.THROTTLE_ACCOUNT_FREE_FAILURES + 1):
        with pytest.raises(WrongCurrentPassword):
            password_change(account=account, current="Pas#leBon1", new=NEW, ip=IP, keep_session=None)
    with pytest.raises(TooManyTries) as refused:
        password_change(account=account, current=factories.GOOD_PASSWORD, new=NEW, ip=IP, keep_session=None)
    assert refused.value.minutes >= 1
    account.refresh_from_db()
    assert account.check_password(factories.GOOD_PASSWORD)
    # The mire is closed for this identifier from this address too: same counter.
    assert isinstance(auth.authenticate(identifier=account.identifier, password="x", ip=IP), Throttled)


def test_email_change_keeps_the_verified_address_until_the_new_one_is_verified():
    # Replaces a test that asserted the old behaviour (the verified address was dropped at once: a typo
    # in the new one silently ended email recovery; issue #15, finding 5).
    account = active_guardian()
    account.email = "old@example.fr"
    account.email_verified_at = account.activated_at
    account.save()
    changed = email_change(
        account=account, email="new@example.fr", password=factories.GOOD_PASSWORD, authenticated_at=None, ip=IP
    )
    assert (changed.email, changed.pending_email) == ("old@example.fr", "new@example.fr")
    assert changed.email_verified
    assert recovery.active_accounts_with_verified_email("old@example.fr") == [changed]
    event = AuditEvent.objects.get(tag=EventTag.EMAIL_CHANGE_REQUESTED, account=account)
    assert event.data == {"domain": "example.fr"}
    assert account_services.account_verify_email(account=changed, email="new@example.fr", ip=IP)
    changed.refresh_from_db()
    assert (changed.email, changed.pending_email) == ("new@example.fr", "")
    assert changed.email_verified
    assert recovery.active_accounts_with_verified_email("old@example.fr") == []


def test_an_account_without_a_verified_email_takes_the_new_one_at_once_unverified():
    account = active_guardian()
    account.email = "typo@example.fr"
    account.save()
    changed = email_change(
        account=account, email="new@example.fr", password=factories.GOOD_PASSWORD, authenticated_at=None, ip=IP
    )
    assert (changed.email, changed.pending_email, changed.email_verified) == ("new@example.fr", "", False)
    assert AuditEvent.objects.get(tag=EventTag.EMAIL_CHANGED, account=account).data == {"replaced_verified": False}


def test_mobile_set_verified_records_the_number():
    account = active_guardian()
    changed = mobile_set_verified(account=account, phone="+33698765432", ip=IP)
    assert changed.phone == "+33698765432"
    assert changed.phone_verified
    assert AuditEvent.objects.get(tag=EventTag.CHANGE_MOBILE_SUCCESS, account=account).data == {
        "replaced": False,
        "ending": "32",
    }


def test_sessions_end_others_keeps_this_one():
    account = active_guardian()
    for _ in range(3):
        logged_in(account)
    keep = AccountSession.objects.filter(account=account).first().session_key
    assert sessions_end_others(account=account, keep=keep, ip=IP) == 2
    assert AccountSession.objects.filter(account=account).count() == 1
    assert AuditEvent.objects.get(tag=EventTag.SESSIONS_ENDED, account=account).data == {"sessions_ended": 2}
