"""Reads of the account page: recent logins, open sessions, the security history and its labels."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.accounts.helpers import IP, active_guardian, logged_in
from trousseau.accounts import activity
from trousseau.accounts.models import AccountSession
from trousseau.accounts.sessions import sessions_end
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.audit.services import audit

pytestmark = pytest.mark.django_db
FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


def test_every_event_tag_has_a_french_label():
    assert set(EventTag) <= set(activity.EVENT_LABELS)


@pytest.mark.parametrize(
    ("agent", "name"),
    [
        (FIREFOX_ANDROID, "Firefox, Android"),
        (CHROME_WINDOWS, "Chrome, Windows"),
        (SAFARI_IPHONE, "Safari, iPhone"),
        ("", ""),
        ("curl/8.5.0<script>", "curl/8.5.0script"),
    ],
)
def test_browser_names_are_short(agent, name):
    assert activity.browser_name(agent) == name


def test_recent_logins_are_the_last_ten_successes():
    account = active_guardian()
    for n in range(12):
        event = audit(EventTag.LOGIN_SUCCESS, account=account, ip=f"198.51.100.{n}")
        AuditEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(minutes=60 - n))
    audit(EventTag.LOGIN_FAILURE, account=account, ip=IP)
    logins = activity.recent_logins(account)
    assert len(logins) == activity.RECENT_LOGINS
    assert logins[0].ip == "198.51.100.11"
    assert logins[-1].ip == "198.51.100.2"


def test_open_sessions_list_live_ones_and_mark_this_one():
    account = active_guardian()
    logged_in(account, HTTP_USER_AGENT=FIREFOX_ANDROID)
    logged_in(account, HTTP_USER_AGENT=CHROME_WINDOWS)
    rows = list(AccountSession.objects.filter(account=account))
    current = rows[0].session_key
    sessions = activity.open_sessions(account, current_key=current)
    assert [s.current for s in sessions] == [True, False]
    assert {s.browser for s in sessions} == {"Firefox, Android", "Chrome, Windows"}
    # A session that ended elsewhere (expired, deleted) is not listed.
    sessions_end(account, keep=current)
    AccountSession.objects.create(account=account, session_key="gone" * 8)
    assert len(activity.open_sessions(account, current_key=current)) == 1


def test_history_is_the_last_fifty_events_with_labels():
    account = active_guardian()
    for _ in range(55):
        audit(EventTag.LOGOUT, account=account, ip=IP)
    audit(EventTag.PASSWORD_CHANGED, account=account, ip=IP)
    lines = activity.history(account)
    assert len(lines) == activity.HISTORY_LENGTH
    assert lines[0].label == "Mot de passe modifié"
    assert lines[1].label == "Déconnexion"


def test_an_unknown_tag_still_reads_as_a_security_event():
    account = active_guardian()
    AuditEvent.objects.create(tag="account:future:thing", account=account)
    assert activity.history(account)[0].label == "Événement de sécurité"


def test_recent_logins_name_how_each_was_made():
    account = active_guardian()
    audit(EventTag.LOGIN_PROVISIONAL, account=account, ip=IP)
    audit(EventTag.LOGIN_SUCCESS, account=account, ip=IP, method="franceconnect", first=True)
    audit(EventTag.LOGIN_SUCCESS, account=account, ip=IP)
    audit(EventTag.LOGIN_FAILURE, account=account, ip=IP)
    hows = [str(login.how) for login in activity.recent_logins(account)]
    assert hows == ["identifiant et mot de passe", "avec FranceConnect", "avec le courrier"]
