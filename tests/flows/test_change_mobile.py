"""'Mon numéro de téléphone portable': a code to the NEW number, then the account's verified mobile."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.accounts.helpers import IP, active_guardian, active_pupil, logged_in
from tests.codes import other_code
from trousseau.accounts.exceptions import FreshLoginRequired, WrongCurrentPassword
from trousseau.accounts.recovery import recorded_mobile
from trousseau.accounts.sessions import AUTHENTICATED_AT_KEY
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.flows.change_mobile import transitions as change_mobile
from trousseau.flows.exceptions import CodeInvalid, MobileChangeLimitReached, SendLimitReached, WrongState
from trousseau.flows.models import CodePurpose, Flow, FlowKind, FlowState
from trousseau.flows.views.common import BROWSER_KEY
from trousseau.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db
SCHOOL_PHONE = "+33612345678"
NEW_PHONE = "+33698765432"
START = reverse("flows:change_mobile")
PROOF: dict[str, Any] = {"password": factories.GOOD_PASSWORD, "authenticated_at": None}


def sms_code(phone: str = NEW_PHONE) -> str:
    found = re.search(r"\b(\d{6})\b", OutboxMessage.objects.filter(to=phone).first().body)
    assert found is not None
    return found.group(1)


# Journey


def test_the_code_goes_to_the_new_number_and_the_right_code_sets_it():
    account = active_guardian(mobile=SCHOOL_PHONE)
    flow = change_mobile.start(account=account, phone=NEW_PHONE, ip=IP, browser_secret="s", **PROOF)
    assert flow.kind == FlowKind.CHANGE_MOBILE
    assert flow.state == FlowState.AWAITING_CODE
    assert not OutboxMessage.objects.filter(to=SCHOOL_PHONE).exists()
    assert flow.codes.get().purpose == CodePurpose.CHANGE_MOBILE
    changed = change_mobile.submit_code(flow, code=sms_code(), ip=IP)
    assert changed.phone == NEW_PHONE
    assert changed.phone_verified
    assert flow.state == FlowState.COMPLETED
    assert recorded_mobile(changed) == NEW_PHONE
    assert AuditEvent.objects.filter(tag=EventTag.CHANGE_MOBILE_STARTED, account=account).exists()
    assert AuditEvent.objects.filter(tag=EventTag.CHANGE_MOBILE_SUCCESS, account=account).exists()


def test_a_wrong_code_changes_nothing_and_the_flow_ends_after_success():
    account = active_guardian()
    flow = change_mobile.start(account=account, phone=NEW_PHONE, ip=IP, browser_secret="s", **PROOF)
    code = sms_code()
    with pytest.raises(CodeInvalid):
        change_mobile.submit_code(flow, code=other_code(code), ip=IP)
    account.refresh_from_db()
    assert account.phone == ""
    change_mobile.submit_code(flow, code=code, ip=IP)
    with pytest.raises(WrongState):
        change_mobile.submit_code(flow, code=code, ip=IP)


def test_a_spent_sms_budget_fails_the_flow_before_anything_is_sent(settings):
    settings.MOBILE_CHANGES_PER_ACCOUNT_PER_DAY = 10  # the per-phone budget is the one spent here
    account = active_guardian()
    for _ in range(settings.SMS_PER_PHONE_PER_HOUR):
        flow = change_mobile.start(account=account, phone=NEW_PHONE, ip=IP, browser_secret="s", **PROOF)
    with pytest.raises(SendLimitReached):
        change_mobile.start(account=account, phone=NEW_PHONE, ip=IP, browser_secret="s", **PROOF)
    assert Flow.objects.filter(state=FlowState.FAILED).count() == 1
    assert OutboxMessage.objects.filter(to=NEW_PHONE).count() == settings.SMS_PER_PHONE_PER_HOUR
    assert flow.state == FlowState.AWAITING_CODE


# Pages


def start(client: Client, mobile: str = "06 98 76 54 32", country: str = "FR"):
    return client.post(START, {"country": country, "mobile": mobile, "current_password": factories.GOOD_PASSWORD})


def test_the_number_page_has_the_country_selector_and_labels():
    html = logged_in(active_guardian()).get(START).text
    for words in [
        "Mon numéro de téléphone portable",
        "Indicatif",
        "+262 La Réunion",
        "Nouveau numéro de téléphone portable",
    ]:
        assert words in html, words


def test_the_whole_journey_over_http_then_the_home_shows_the_number():
    account = active_guardian()
    client = logged_in(account)
    step = start(client)["Location"]
    html = client.get(step).text
    assert "au nouveau numéro se terminant par 32" in html
    response = client.post(step, {"code": sms_code()}, follow=True)
    assert "Votre numéro de téléphone portable est enregistré et vérifié." in response.text
    assert "+33 6 98 76 54 32" in response.text  # shown as people read it
    assert "Changer mon numéro" in response.text
    assert client.get(step, follow=True).redirect_chain[-1][0] == START


def test_an_overseas_number_is_parsed_with_its_country_code():
    account = active_guardian()
    client = logged_in(account)
    start(client, mobile="0692 12 34 56", country="RE")
    assert OutboxMessage.objects.filter(to="+262692123456").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"country": "FR", "mobile": "01 23 45 67 89"}, "n'est pas un numéro de téléphone portable valide"),
        ({"country": "FR", "mobile": "abc"}, "n'est pas un numéro de téléphone portable valide"),
        ({"country": "FR", "mobile": ""}, "Indiquez votre numéro de téléphone portable."),
        ({"country": "XX", "mobile": "06 98 76 54 32"}, "Choisissez un indicatif dans la liste."),
    ],
)
def test_bad_numbers_are_refused_and_nothing_is_sent(data, message):
    client = logged_in(active_guardian())
    response = client.post(START, {**data, "current_password": factories.GOOD_PASSWORD})
    assert response.status_code == 400
    assert message in response.text
    assert not Flow.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_a_wrong_code_is_told_with_the_tries_left():
    account = active_guardian()
    client = logged_in(account)
    step = start(client)["Location"]
    response = client.post(step, {"code": other_code(sms_code())})
    assert response.status_code == 400
    assert "Ce code n'est pas le bon. Il vous reste 4 essais." in response.text
    assert "Le code de sécurité contient 6 chiffres." in client.post(step, {"code": "12"}).text
    account.refresh_from_db()
    assert account.phone == ""


def test_resend_waits_for_the_delay():
    client = logged_in(active_guardian())
    step = start(client)["Location"]
    html = client.post(step, {"resend": "1"}).text
    assert "avant de demander un nouveau code" in html
    assert OutboxMessage.objects.filter(to=NEW_PHONE).count() == 1


def test_the_flow_belongs_to_this_browser_and_this_account():
    account = active_guardian()
    client = logged_in(account)
    step = start(client)["Location"]
    assert logged_in(account).get(step).status_code == 403  # same account, other browser
    assert Client().get(step)["Location"].startswith(reverse("flows:login"))


def test_another_account_cannot_use_the_flow_even_with_its_browser_secret():
    client = logged_in(active_guardian())
    step = start(client)["Location"]
    stranger = logged_in(active_guardian(first_name="Marc"))
    session = stranger.session
    session[BROWSER_KEY] = client.session[BROWSER_KEY]
    session.save()
    assert stranger.get(step).status_code == 403
    assert stranger.post(step, {"code": sms_code()}).status_code == 403


def test_pupils_do_not_manage_a_mobile():
    response = logged_in(active_pupil()).get(START, follow=True)
    assert "se gère sur le compte d'un responsable" in response.text


# The holder's proof and the account's budget (issue #15, findings 5 and 9)


def test_a_wrong_password_sends_nothing_and_takes_nothing_from_the_budget(settings):
    settings.MOBILE_CHANGES_PER_ACCOUNT_PER_DAY = 1
    account = active_guardian()
    with pytest.raises(WrongCurrentPassword):
        change_mobile.start(
            account=account, phone=NEW_PHONE, ip=IP, browser_secret="s", password="Pas#leBon1", authenticated_at=None
        )
    assert not Flow.objects.exists()
    assert not OutboxMessage.objects.exists()
    assert AuditEvent.objects.filter(tag=EventTag.CHANGE_MOBILE_FAILURE, account=account).count() == 1
    change_mobile.start(account=account, phone=NEW_PHONE, ip=IP, browser_secret="s", **PROOF)  # budget intact


def test_the_accounts_daily_budget_of_mobile_changes(settings):
    settings.MOBILE_CHANGES_PER_ACCOUNT_PER_DAY = 2
    account = active_guardian()
    for n in range(2):
        change_mobile.start(account=account, phone=f"+3369876543{n}", ip=IP, browser_secret="s", **PROOF)
    with pytest.raises(MobileChangeLimitReached) as refused:
        change_mobile.start(account=account, phone="+33698765439", ip=IP, browser_secret="s", **PROOF)
    assert 0 < refused.value.seconds <= 24 * 3600
    assert Flow.objects.count() == 2  # no flow for the refused one
    assert not OutboxMessage.objects.filter(to="+33698765439").exists()
    event = AuditEvent.objects.get(tag=EventTag.CHANGE_MOBILE_LIMIT_REACHED, account=account)
    assert event.data == {"limit": 2}
    # Another account has its own budget.
    change_mobile.start(
        account=active_guardian(first_name="Marc"), phone="+33698765439", ip=IP, browser_secret="s", **PROOF
    )


def test_an_account_without_a_password_needs_a_fresh_franceconnect_login():
    account = active_guardian()
    account.set_unusable_password()
    account.save()
    with pytest.raises(FreshLoginRequired):
        change_mobile.start(
            account=account, phone=NEW_PHONE, ip=IP, browser_secret="s", password="", authenticated_at=None
        )
    assert not OutboxMessage.objects.exists()
    flow = change_mobile.start(
        account=account, phone=NEW_PHONE, ip=IP, browser_secret="s", password="", authenticated_at=timezone.now()
    )
    assert flow.state == FlowState.AWAITING_CODE


def test_the_page_asks_the_password_and_says_so_in_french():
    client = logged_in(active_guardian())
    assert "Mot de passe actuel" in client.get(START).text
    response = client.post(START, {"country": "FR", "mobile": "06 98 76 54 32"})
    assert response.status_code == 400
    assert "Saisissez votre mot de passe actuel." in response.text
    response = client.post(START, {"country": "FR", "mobile": "06 98 76 54 32", "current_password": "Pas#leBon1"})
    assert response.status_code == 400
    assert "Le mot de passe actuel est incorrect. Rien n'a été modifié." in response.text
    assert not OutboxMessage.objects.exists()


def test_the_page_of_an_account_without_a_password_offers_franceconnect_and_refuses_a_stale_login():
    account = active_guardian()
    account.set_unusable_password()
    account.save()
    client = Client()
    client.force_login(account)
    session = client.session
    session[AUTHENTICATED_AT_KEY] = (timezone.now() - timedelta(hours=1)).isoformat()
    session.save()
    html = client.get(START).text
    assert "Mot de passe actuel" not in html
    assert "Me reconnecter avec FranceConnect" in html
    response = client.post(START, {"country": "FR", "mobile": "06 98 76 54 32"})
    assert response.status_code == 400
    assert "reconnectez-vous avec FranceConnect" in response.text
    assert not OutboxMessage.objects.exists()


def test_the_page_answers_429_when_the_accounts_budget_is_spent(settings):
    settings.MOBILE_CHANGES_PER_ACCOUNT_PER_DAY = 1
    client = logged_in(active_guardian())
    assert start(client).status_code == 302
    response = start(client, mobile="06 98 76 54 31")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Vous avez déjà demandé plusieurs changements de numéro aujourd'hui." in response.text


def test_once_the_identifier_is_throttled_the_page_answers_429(settings):
    account = active_guardian()
    client = logged_in(account)
    data = {"country": "FR", "mobile": "06 98 76 54 32", "current_password": "Pas#leBon1"}
    for _ in range(settings.THROTTLE_ACCOUNT_FREE_FAILURES + 1):
        assert client.post(START, data).status_code == 400
    response = client.post(START, {**data, "current_password": factories.GOOD_PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 60
    assert "Trop de tentatives." in response.text
    assert not OutboxMessage.objects.exists()
