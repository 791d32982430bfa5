"""The holder proves it is them again before changing email, mobile or password (issue #15, finding 5),
and the previous channels are told with a "Ce n'était pas moi" link (`accounts.change_notices`)."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests import factories
from tests.accounts.helpers import IP, active_guardian, active_pupil, logged_in
from trousseau.accounts import change_notices
from trousseau.accounts.changes import confirm_holder, email_change, mobile_set_verified, password_change
from trousseau.accounts.exceptions import FreshLoginRequired, WrongCurrentPassword
from trousseau.accounts.models import Account, AccountSession
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.core.refusals import TooManyTries
from trousseau.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db
SCHOOL_MOBILE = "+33612345678"
LINK = re.compile(r"https?://[^/\s]+(/compte/signalement/(\S+)/)")


def franceconnect_only() -> Account:
    account = active_guardian(mobile=SCHOOL_MOBILE)
    account.set_unusable_password()
    account.franceconnect_sub = "sub-123"
    account.save()
    return account


def with_verified_email(account: Account, email: str = "sophie@example.fr") -> Account:
    account.email, account.email_verified_at = email, timezone.now()
    account.save()
    return account


# confirm_holder


def test_an_account_with_a_password_types_it_and_a_wrong_one_is_audited():
    account = active_guardian()
    confirm_holder(
        account=account,
        password=factories.GOOD_PASSWORD,
        authenticated_at=None,
        ip=IP,
        refused=EventTag.EMAIL_CHANGE_FAILURE,
    )
    with pytest.raises(WrongCurrentPassword):
        confirm_holder(
            account=account,
            password="Pas#leBon1",
            authenticated_at=timezone.now(),
            ip=IP,
            refused=EventTag.EMAIL_CHANGE_FAILURE,
        )
    event = AuditEvent.objects.get(tag=EventTag.EMAIL_CHANGE_FAILURE, account=account)
    assert event.data == {"reason": "wrong_current"}


def test_a_fresh_login_does_not_replace_the_password_of_an_account_that_has_one():
    account = active_guardian()
    with pytest.raises(WrongCurrentPassword):
        confirm_holder(
            account=account, password="", authenticated_at=timezone.now(), ip=IP, refused=EventTag.CHANGE_MOBILE_FAILURE
        )


def test_wrong_passwords_close_the_identifiers_guard_as_at_the_mire(settings):
    account = active_guardian()
    for _ in range(settings.THROTTLE_ACCOUNT_FREE_FAILURES + 1):
        with pytest.raises(WrongCurrentPassword):
            confirm_holder(
                account=account,
                password="Pas#leBon1",
                authenticated_at=None,
                ip=IP,
                refused=EventTag.CHANGE_MOBILE_FAILURE,
            )
    with pytest.raises(TooManyTries):
        confirm_holder(
            account=account,
            password=factories.GOOD_PASSWORD,
            authenticated_at=None,
            ip=IP,
            refused=EventTag.CHANGE_MOBILE_FAILURE,
        )


@pytest.mark.parametrize("minutes_ago", [None, 6, 60 * 8])
def test_an_account_without_a_password_needs_a_fresh_franceconnect_login(minutes_ago):
    account = franceconnect_only()
    at = None if minutes_ago is None else timezone.now() - timedelta(minutes=minutes_ago)
    with pytest.raises(FreshLoginRequired):
        confirm_holder(account=account, password="", authenticated_at=at, ip=IP, refused=EventTag.EMAIL_CHANGE_FAILURE)
    event = AuditEvent.objects.get(tag=EventTag.EMAIL_CHANGE_FAILURE, account=account)
    assert event.data == {"reason": "stale_login"}


def test_a_franceconnect_login_of_a_few_minutes_ago_is_enough(settings):
    account = franceconnect_only()
    at = timezone.now() - settings.REAUTH_FRESH_LOGIN + timedelta(seconds=30)
    changed = email_change(account=account, email="sophie@example.fr", password="", authenticated_at=at, ip=IP)
    assert changed.email == "sophie@example.fr"


def test_an_account_without_a_password_chooses_one_after_a_fresh_franceconnect_login():
    account = franceconnect_only()
    with pytest.raises(FreshLoginRequired):
        password_change(account=account, current="", new="Trousse#Orange77", ip=IP, keep_session=None)
    changed = password_change(
        account=account, current="", new="Trousse#Orange77", ip=IP, keep_session=None, authenticated_at=timezone.now()
    )
    assert changed.check_password("Trousse#Orange77")


# Notices to the previous channels


def test_an_email_change_is_told_to_the_verified_address_and_the_recorded_mobile():
    account = with_verified_email(active_guardian(mobile=SCHOOL_MOBILE))
    email_change(
        account=account, email="nouvelle@example.net", password=factories.GOOD_PASSWORD, authenticated_at=None, ip=IP
    )
    [notice] = mail.outbox
    assert notice.to == ["sophie@example.fr"]
    assert "n•••@example.net" in notice.body
    assert "nouvelle@example.net" not in notice.body  # enough to recognise it, not to reach it
    assert LINK.search(str(notice.body))
    [sms] = OutboxMessage.objects.filter(to=SCHOOL_MOBILE)
    assert account.identifier in sms.body
    assert LINK.search(sms.body)
    event = AuditEvent.objects.get(tag=EventTag.CHANGE_NOTICE_SENT, account=account)
    assert event.data == {"change": "email", "channels": ["email", "sms"]}


def test_a_pupil_without_a_verified_email_is_told_nowhere_but_audited():
    account = active_pupil()
    email_change(
        account=account, email="eleve@example.fr", password=factories.GOOD_PASSWORD, authenticated_at=None, ip=IP
    )
    assert not mail.outbox
    assert not OutboxMessage.objects.exists()
    assert AuditEvent.objects.get(tag=EventTag.CHANGE_NOTICE_SENT, account=account).data["channels"] == []


def test_a_mobile_change_is_told_to_the_previous_mobile_and_the_verified_email():
    account = with_verified_email(active_guardian(mobile=SCHOOL_MOBILE))
    mobile_set_verified(account=account, phone="+33698765432", ip=IP)
    [sms] = OutboxMessage.objects.filter(to=SCHOOL_MOBILE)
    assert "vient d'être changé" in sms.body
    assert not OutboxMessage.objects.filter(to="+33698765432").exists()
    [notice] = mail.outbox
    assert notice.to == ["sophie@example.fr"]
    assert "•• 32" in notice.body


def _report_token(body: str) -> str:
    found = LINK.search(body)
    assert found is not None
    return found.group(2)


def test_reporting_a_mobile_change_puts_the_previous_number_back_and_ends_every_session():
    account = with_verified_email(active_guardian(mobile=SCHOOL_MOBILE))
    mobile_set_verified(account=account, phone="+33698765432", ip=IP)
    mobile_set_verified(account=account, phone="+33755501234", ip=IP)  # the thief's, after the holder's
    logged_in(account)
    holders_change, thiefs_change = (_report_token(str(m.body)) for m in mail.outbox)
    # A notice whose change no longer stands moves nothing (but still secures the account).
    assert change_notices.change_report(holders_change, ip=IP) is not None
    assert AuditEvent.objects.get(tag=EventTag.CHANGE_REPORTED, account=account).data["restored"] is False
    account.refresh_from_db()
    assert account.phone == "+33755501234"
    reported = change_notices.change_report(thiefs_change, ip=IP)
    assert reported is not None
    assert (reported.phone, reported.phone_verified) == ("+33698765432", True)
    assert not reported.has_usable_password()
    event = AuditEvent.objects.filter(tag=EventTag.CHANGE_REPORTED, account=account).order_by("pk").last()
    assert event is not None
    assert {k: v for k, v in event.data.items() if k != "link"} == {
        "change": "mobile",
        "restored": True,
        "sessions_ended": 0,
    }
    assert thiefs_change not in str(event.data)  # the link is kept as a keyed digest only


def test_a_report_link_serves_once():
    account = with_verified_email(active_guardian(mobile=SCHOOL_MOBILE))
    mobile_set_verified(account=account, phone="+33698765432", ip=IP)
    token = _report_token(str(mail.outbox[0].body))
    assert change_notices.change_report(token, ip=IP) is not None
    account.refresh_from_db()
    account.set_password(factories.GOOD_PASSWORD)  # the holder chose a new one by "Mot de passe perdu"
    account.save()
    assert change_notices.read_report(token) is None
    assert change_notices.change_report(token, ip=IP) is None
    account.refresh_from_db()
    assert account.has_usable_password()
    assert AuditEvent.objects.filter(tag=EventTag.CHANGE_REPORTED, account=account).count() == 1
    assert AuditEvent.objects.get(tag=EventTag.CHANGE_REPORT_REFUSED).data == {"reason": "bad_token"}


def test_a_report_ends_every_session_and_disables_the_password():
    account = with_verified_email(active_guardian(mobile=SCHOOL_MOBILE))
    mobile_set_verified(account=account, phone="+33698765432", ip=IP)
    logged_in(account)
    logged_in(account)
    reported = change_notices.change_report(_report_token(str(mail.outbox[0].body)), ip=IP)
    assert reported is not None
    assert not reported.has_usable_password()
    assert not AccountSession.objects.filter(account=account).exists()
    assert reported.phone == ""  # back to the number the school recorded
    assert AuditEvent.objects.get(tag=EventTag.CHANGE_REPORTED, account=account).data["sessions_ended"] == 2


def test_reporting_an_email_request_cancels_the_pending_address():
    account = with_verified_email(active_guardian())
    email_change(
        account=account, email="voleur@example.net", password=factories.GOOD_PASSWORD, authenticated_at=None, ip=IP
    )
    reported = change_notices.change_report(_report_token(str(mail.outbox[0].body)), ip=IP)
    assert reported is not None
    assert (reported.email, reported.pending_email, reported.email_verified) == ("sophie@example.fr", "", True)


def test_reporting_a_verified_email_change_puts_the_previous_address_back():
    account = with_verified_email(active_guardian())
    email_change(
        account=account, email="voleur@example.net", password=factories.GOOD_PASSWORD, authenticated_at=None, ip=IP
    )
    Account.objects.filter(pk=account.pk).update(email="voleur@example.net", pending_email="")  # the thief verified it
    reported = change_notices.change_report(_report_token(str(mail.outbox[0].body)), ip=IP)
    assert reported is not None
    assert (reported.email, reported.email_verified) == ("sophie@example.fr", True)


@pytest.mark.parametrize("token", ["forge", "x" * 80])
def test_a_forged_report_link_changes_nothing_and_is_audited(token):
    account = with_verified_email(active_guardian())
    assert change_notices.change_report(token, ip=IP) is None
    account.refresh_from_db()
    assert account.has_usable_password()
    assert AuditEvent.objects.get(tag=EventTag.CHANGE_REPORT_REFUSED).data == {"reason": "bad_token"}


def test_a_report_link_expires(settings):
    account = with_verified_email(active_guardian(mobile=SCHOOL_MOBILE))
    link = change_notices.report_link(account, what=change_notices.MOBILE, old="", new="+33698765432")
    settings.CHANGE_REPORT_LIFESPAN = timedelta(seconds=-1)
    assert change_notices.read_report(link.rstrip("/").rsplit("/", 1)[1]) is None


def test_the_report_link_shows_no_phone_or_email_in_clear():
    account = with_verified_email(active_guardian(mobile=SCHOOL_MOBILE))
    link = change_notices.report_link(account, what=change_notices.MOBILE, old="+33698765432", new="+33755501234")
    token = link.rstrip("/").rsplit("/", 1)[1]
    decoded = base64.urlsafe_b64decode(token.rsplit(":", 1)[1] + "==").decode(errors="replace")
    assert "9876" not in decoded
    assert "5550" not in decoded
    report = change_notices.read_report(token)
    assert report is not None
    assert (report.old, report.new) == ("+33698765432", "+33755501234")
