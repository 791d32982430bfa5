"""Prometheus metrics: counted where the events happen, exposed only to the scraper's token, summed over workers."""

from __future__ import annotations

import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from tests.accounts.helpers import active_guardian, login
from tests.federation.oidc.conftest import RP, account, browser, refresh, rp, tokens  # noqa: F401 - fixtures
from tests.ops.serving import METRICS_TOKEN, free_port, gunicorn, production_env
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.notifications import services as notifications

TOKEN = "scraper-" + secrets.token_hex(8)
SUCCESS = {"outcome": "success", "reason": "active", "method": "password"}
FAILURE = {"outcome": "failure", "reason": "bad_credentials", "method": "password"}


def sample(text: str, name: str, labels: dict[str, str] | None = None) -> float:
    """The value of one sample in a /metrics text (0 when the series does not exist yet)."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == (labels or {}):
                return float(found.value)
    return 0.0


def scrape(client: Client | None = None) -> str:
    with override_settings(METRICS_TOKEN=TOKEN):
        response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


@pytest.mark.django_db
def test_a_login_through_the_mire_increments_the_login_counter():
    guardian = active_guardian()
    before = scrape()
    assert login(Client(), guardian.identifier).status_code == 302
    assert login(Client(), guardian.identifier, "Mauvais#Mot2passe").status_code == 200
    after = scrape()
    assert sample(after, "trousseau_logins_total", SUCCESS) == sample(before, "trousseau_logins_total", SUCCESS) + 1
    assert sample(after, "trousseau_logins_total", FAILURE) == sample(before, "trousseau_logins_total", FAILURE) + 1
    tag = {"tag": "account:login:success"}
    assert sample(after, "trousseau_audit_events_total", tag) == sample(before, "trousseau_audit_events_total", tag) + 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("configured", "given"),
    [("", ""), ("", "Bearer "), (TOKEN, ""), (TOKEN, "Bearer wrong"), (TOKEN, TOKEN)],
    ids=["unset", "unset-empty-bearer", "no-header", "wrong-token", "not-bearer"],
)
def test_metrics_do_not_exist_without_the_token(configured: str, given: str):
    with override_settings(METRICS_TOKEN=configured):
        response = Client().get("/metrics", HTTP_AUTHORIZATION=given)
    assert response.status_code == 404
    assert response.content == b""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("tag", "data", "metric", "labels"),
    [
        (EventTag.LOGIN_SUCCESS, {"method": "franceconnect"}, "trousseau_logins_total",
         {"outcome": "success", "reason": "active", "method": "franceconnect"}),
        (EventTag.LOGIN_SUCCESS, {"method": "franceconnect", "first": True}, "trousseau_flow_completions_total",
         {"kind": "franceconnect_first_login"}),
        (EventTag.LOGIN_THROTTLED, {"locked": True}, "trousseau_logins_total",
         {"outcome": "failure", "reason": "locked", "method": "password"}),
        (EventTag.CONSOLE_TOTP_FAILURE, {}, "trousseau_logins_total",
         {"outcome": "failure", "reason": "bad_totp", "method": "console"}),
        (EventTag.ACTIVATION_BY_LETTER_SUCCESS, {}, "trousseau_flow_completions_total", {"kind": "activation_by_letter"}),
        (EventTag.SELF_REGISTRATION_SUCCESS, {}, "trousseau_flow_completions_total", {"kind": "self_registration"}),
        (EventTag.LOST_PASSWORD_SUCCESS, {}, "trousseau_flow_completions_total", {"kind": "lost_password"}),
        (EventTag.CHANGE_MOBILE_SUCCESS, {}, "trousseau_flow_completions_total", {"kind": "change_mobile"}),
        (EventTag.SAML_ASSERTION_ISSUED, {}, "trousseau_saml_responses_total", {"outcome": "issued"}),
        (EventTag.SAML_REFUSED, {}, "trousseau_saml_responses_total", {"outcome": "refused"}),
    ],
)  # fmt: skip
def test_each_audited_step_feeds_its_counter(tag: EventTag, data: dict[str, Any], metric: str, labels: dict[str, str]):
    before = sample(scrape(), metric, labels)
    audit(tag, ip="198.51.100.9", **data)
    assert sample(scrape(), metric, labels) == before + 1


class _Abandoned(Exception):
    pass


@pytest.mark.django_db
def test_an_audit_row_rolled_back_is_not_counted():
    labels = {"outcome": "refused"}
    before = sample(scrape(), "trousseau_saml_responses_total", labels)

    def refused_then_abandoned() -> None:
        with transaction.atomic():
            audit(EventTag.SAML_REFUSED, ip="198.51.100.9")
            raise _Abandoned

    with pytest.raises(_Abandoned):
        refused_then_abandoned()
    assert sample(scrape(), "trousseau_saml_responses_total", labels) == before


@pytest.mark.django_db
def test_oidc_codes_and_tokens_are_counted_by_grant(browser: Client, rp: RP):  # noqa: F811 - fixtures
    code = {"grant_type": "authorization_code"}
    renewal = {"grant_type": "refresh_token"}
    before = scrape()
    issued = tokens(browser, rp)
    assert refresh(rp, issued["refresh_token"]).status_code == 200
    after = scrape()
    assert sample(after, "trousseau_oidc_codes_total") == sample(before, "trousseau_oidc_codes_total") + 1
    assert sample(after, "trousseau_oidc_tokens_total", code) == sample(before, "trousseau_oidc_tokens_total", code) + 1
    assert (
        sample(after, "trousseau_oidc_tokens_total", renewal)
        == sample(before, "trousseau_oidc_tokens_total", renewal) + 1
    )


@pytest.mark.django_db
def test_deliveries_are_counted_by_channel_and_outcome():
    sent = {"channel": "email", "outcome": "sent"}
    retry = {"channel": "sms", "outcome": "retry"}
    before = scrape()
    notifications.send_email(
        to="parent@example.fr", subject="Test", template="accounts/email/password_changed.txt", context={}
    )
    gateway_down = {
        "SMS_BACKEND": "trousseau.notifications.backends.http_gateway.HttpGatewaySmsBackend",
        "SMS_HTTP_URL": f"http://127.0.0.1:{free_port()}/sms",
        "SMS_HTTP_TIMEOUT": 2,
    }
    with override_settings(**gateway_down):
        notifications.send_sms(to="+33612345678", body="Votre code : 123456")
    after = scrape()
    assert (
        sample(after, "trousseau_notifications_total", sent)
        == sample(before, "trousseau_notifications_total", sent) + 1
    )
    assert (
        sample(after, "trousseau_notifications_total", retry)
        == sample(before, "trousseau_notifications_total", retry) + 1
    )


@pytest.mark.django_db
def test_request_latency_is_labelled_by_route_name_never_by_path():
    flow_id = uuid.uuid4()
    Client().get(f"/activation/{flow_id}/")
    text = scrape()
    labels = {"route": "flows:activation_by_letter", "method": "GET", "status": "3xx"}
    labels_4xx = {**labels, "status": "4xx"}
    count = sample(text, "trousseau_request_duration_seconds_count", labels)
    count += sample(text, "trousseau_request_duration_seconds_count", labels_4xx)
    assert count >= 1
    assert str(flow_id) not in text


def test_under_gunicorn_the_workers_counts_add_up(site: Path, tmp_path: Path):
    metrics_dir = tmp_path / "metrics"
    env = production_env(site, TROUSSEAU_SECURE_COOKIES="0", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    with gunicorn(env, workers=2) as server, ThreadPoolExecutor(4) as pool:
        # Concurrent requests until both workers have served some (each observes into its own file).
        # Bounded by time, not by a count: on a loaded machine the second worker may still be
        # importing Django while the first one serves hundreds of mires.
        mire_views = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            statuses = list(pool.map(lambda _: server.get("/login").status_code, range(4)))
            mire_views += len(statuses)
            assert set(statuses) == {200}
            if len(list(metrics_dir.glob("histogram_*.db"))) == 2:
                break
            time.sleep(0.05)
        assert len(list(metrics_dir.glob("histogram_*.db"))) == 2
        # One at a time: two SQLite writers at once get "database is locked" (PostgreSQL in production).
        failures = [server.failed_login() for _ in range(8)]
        text = server.metrics()
    assert failures == [200] * 8
    mire = {"route": "flows:login", "method": "GET", "status": "2xx"}
    # Each failed login also fetched the mire once for its CSRF token.
    assert sample(text, "trousseau_request_duration_seconds_count", mire) == mire_views + 8
    assert sample(text, "trousseau_logins_total", FAILURE) == 8
    assert METRICS_TOKEN not in text
