"""SMS codes: lifetime, the 5-try cap (also under concurrency), resend delay and budgets."""

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from trousseau.flows.exceptions import CodeExhausted, CodeExpired, CodeInvalid, ResendTooSoon, SendLimitReached
from trousseau.flows.models import CodePurpose, Flow, FlowKind, FlowState, OneTimeCode
from trousseau.flows.steps import codes
from trousseau.notifications.models import Delivery, OutboxMessage

PHONE = "+33612345678"
IP = "198.51.100.7"
P = CodePurpose.SELF_REGISTRATION


def new_flow() -> Flow:
    return Flow.objects.create(
        kind=FlowKind.SELF_REGISTRATION,
        state=FlowState.AWAITING_CODE,
        expires_at=timezone.now() + timedelta(hours=1),
        session_binding="x",
    )


def last_sms_code() -> str:
    found = re.search(r"\b(\d{6})\b", OutboxMessage.objects.filter(to=PHONE).first().body)
    assert found is not None
    return found.group(1)


def age(otc: OneTimeCode, delta: timedelta) -> None:
    OneTimeCode.objects.filter(pk=otc.pk).update(created_at=otc.created_at - delta, expires_at=otc.expires_at - delta)


@pytest.mark.django_db
def test_the_sms_carries_the_expiry_of_its_code():
    """A code SMS that an outage holds back past this instant is dropped, not sent late."""
    otc = codes.issue(new_flow(), purpose=P, phone=PHONE, ip=IP)
    assert Delivery.objects.get().expires_at == otc.expires_at


@pytest.mark.django_db
def test_a_ten_minute_lifespan_is_a_setting_and_the_sms_says_it(settings):
    """ASVS 6.5.5's 10 minutes, for a deployment that chooses them over the seed's 30."""
    settings.SMS_CODE_LIFESPAN = timedelta(minutes=10)
    flow = new_flow()
    otc = codes.issue(flow, purpose=P, phone=PHONE, ip=IP)
    assert "valable 10 minutes" in OutboxMessage.objects.get().body
    assert otc.expires_at - otc.created_at == timedelta(minutes=10)
    age(otc, timedelta(minutes=10, seconds=1))
    with pytest.raises(CodeExpired):
        codes.verify(flow, purpose=P, code=last_sms_code(), ip=IP)


@pytest.mark.django_db
def test_code_is_sent_hashed_and_verifies_once():
    flow = new_flow()
    otc = codes.issue(flow, purpose=P, phone=PHONE, ip=IP)
    code = last_sms_code()
    assert code not in otc.code_digest
    assert "valable 30 minutes" in OutboxMessage.objects.get().body
    codes.verify(flow, purpose=P, code=code, ip=IP)
    with pytest.raises(CodeExpired):  # used: there is no live code any more
        codes.verify(flow, purpose=P, code=code, ip=IP)


@pytest.mark.django_db
def test_code_is_bound_to_its_flow_and_purpose():
    flow, other = new_flow(), new_flow()
    codes.issue(flow, purpose=P, phone=PHONE, ip=IP)
    code = last_sms_code()
    with pytest.raises(CodeExpired):
        codes.verify(other, purpose=P, code=code, ip=IP)
    with pytest.raises(CodeExpired):
        codes.verify(flow, purpose=CodePurpose.LOST_PASSWORD, code=code, ip=IP)


@pytest.mark.django_db
def test_code_expires_after_30_minutes():
    flow = new_flow()
    otc = codes.issue(flow, purpose=P, phone=PHONE, ip=IP)
    code = last_sms_code()
    age(otc, timedelta(minutes=29, seconds=59))
    codes.verify(flow, purpose=P, code=code, ip=IP)  # still valid at 29:59
    flow2 = new_flow()
    otc2 = codes.issue(flow2, purpose=P, phone="+33699999999", ip=IP)
    code2 = re.search(r"\d{6}", OutboxMessage.objects.filter(to="+33699999999").first().body).group(0)
    age(otc2, timedelta(minutes=30))
    with pytest.raises(CodeExpired):
        codes.verify(flow2, purpose=P, code=code2, ip=IP)


@pytest.mark.django_db
def test_five_wrong_tries_kill_the_code():
    flow = new_flow()
    codes.issue(flow, purpose=P, phone=PHONE, ip=IP)
    right = last_sms_code()
    wrong = "000000" if right != "000000" else "111111"
    remaining = []
    for _ in range(4):
        with pytest.raises(CodeInvalid) as exc:
            codes.verify(flow, purpose=P, code=wrong, ip=IP)
        remaining.append(exc.value.remaining)
    assert remaining == [4, 3, 2, 1]
    with pytest.raises(CodeExhausted):
        codes.verify(flow, purpose=P, code=wrong, ip=IP)
    with pytest.raises(CodeExhausted):
        codes.verify(flow, purpose=P, code=right, ip=IP)


@pytest.mark.django_db
def test_resend_waits_and_supersedes_the_old_code():
    flow = new_flow()
    first = codes.issue(flow, purpose=P, phone=PHONE, ip=IP)
    old = last_sms_code()
    with pytest.raises(ResendTooSoon) as exc:
        codes.issue(flow, purpose=P, phone=PHONE, ip=IP)
    assert 0 < exc.value.seconds <= 60
    age(first, timedelta(seconds=61))
    codes.issue(flow, purpose=P, phone=PHONE, ip=IP)
    new = last_sms_code()
    if new != old:
        with pytest.raises(CodeInvalid):
            codes.verify(flow, purpose=P, code=old, ip=IP)
    codes.verify(flow, purpose=P, code=new, ip=IP)


@pytest.mark.django_db
def test_budget_per_phone_per_hour(settings):
    for n in range(settings.SMS_PER_PHONE_PER_HOUR):
        codes.issue(new_flow(), purpose=P, phone=PHONE, ip=f"198.51.100.{n}")
    with pytest.raises(SendLimitReached):
        codes.issue(new_flow(), purpose=P, phone=PHONE, ip="203.0.113.1")
    assert OutboxMessage.objects.filter(to=PHONE).count() == settings.SMS_PER_PHONE_PER_HOUR


@pytest.mark.django_db
def test_budget_per_address_per_hour(settings):
    for n in range(settings.SMS_PER_IP_PER_HOUR):
        codes.issue(new_flow(), purpose=P, phone=f"+336123456{n:02d}", ip=IP)
    with pytest.raises(SendLimitReached):
        codes.issue(new_flow(), purpose=P, phone="+33612345699", ip=IP)
    assert OutboxMessage.objects.count() == settings.SMS_PER_IP_PER_HOUR


@pytest.mark.django_db(transaction=True)
def test_concurrent_guesses_never_exceed_the_cap():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs a server database")
    flow = new_flow()
    otc = codes.issue(flow, purpose=P, phone=PHONE, ip=IP)
    right = last_sms_code()
    wrong = "000000" if right != "000000" else "111111"

    def guess(_: int) -> str:
        try:
            codes.verify(Flow.objects.get(pk=flow.pk), purpose=P, code=wrong, ip=IP)
        except (CodeInvalid, CodeExhausted) as exc:
            return type(exc).__name__
        finally:
            connections.close_all()
        return "ok"

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(guess, range(20)))
    otc.refresh_from_db()
    assert otc.attempts == 5
    assert results.count("CodeInvalid") == 4
    assert results.count("CodeExhausted") == 16
