"""The SMS adapters against a local fake provider: what goes over the wire, and what counts as failure."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from trousseau.notifications.backends.http_gateway import HttpGatewaySmsBackend
from trousseau.notifications.backends.smsmode import SmsModeSmsBackend
from trousseau.notifications.models import Delivery, DeliveryState
from trousseau.notifications.services import send_sms
from trousseau.notifications.sms import DeliveryError, PermanentDeliveryError, get_backend

TRICKY = 'Code : 123456\nÀ l\'école "Jean-Jaurès" \\ {sender} ", "admin": true, "x": "'


# --- Generic HTTP gateway ------------------------------------------------------------------------


def test_gateway_posts_the_template_with_the_auth_header(http_gateway):
    get_backend().send(to="+33612345678", body="Votre code : 123456")
    [request] = http_gateway.requests
    assert (request.method, request.path) == ("POST", "/api/sms")
    assert request.headers["Authorization"] == "Bearer s3cret-token"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.json() == {"to": "+33612345678", "text": "Votre code : 123456", "from": "TROUSSEAU"}


def test_gateway_encodes_quotes_newlines_and_accents_as_json(http_gateway):
    get_backend().send(to="+33612345678", body=TRICKY)
    [request] = http_gateway.requests
    # The body is one JSON string, exactly as written: no extra field, "{sender}" inside it untouched.
    assert request.json() == {"to": "+33612345678", "text": TRICKY, "from": "TROUSSEAU"}
    assert "école".encode() in request.body  # UTF-8 on the wire, as Content-Type says
    assert b"\\n" in request.body
    assert b"\n" not in request.body


def test_gateway_template_can_nest_and_use_digits_only(settings, http_gateway):
    settings.SMS_HTTP_BODY_TEMPLATE = '{"messages": [{"destinations": [{"to": "{to_digits}"}], "text": "[{sender}] {body}"}], "flash": false, "ttl": 3}'
    get_backend().send(to="+33612345678", body='Dites "oui"')
    assert http_gateway.requests[0].json() == {
        "messages": [{"destinations": [{"to": "33612345678"}], "text": '[TROUSSEAU] Dites "oui"'}],
        "flash": False,
        "ttl": 3,
    }


def test_gateway_without_auth_header_sends_none(settings, http_gateway):
    settings.SMS_HTTP_AUTH_HEADER = ""
    get_backend().send(to="+33612345678", body="x")
    assert "Authorization" not in http_gateway.requests[0].headers


@pytest.mark.parametrize("status", [500, 503, 400, 401, 429])
def test_gateway_non_2xx_is_a_delivery_error(http_gateway, status):
    http_gateway.status = status
    with pytest.raises(DeliveryError, match=f"HTTP {status}"):
        get_backend().send(to="+33612345678", body="x")
    assert len(http_gateway.requests) == 1


def test_gateway_redirect_is_not_followed(http_gateway):
    http_gateway.status = 302
    with pytest.raises(DeliveryError, match="HTTP 302"):
        get_backend().send(to="+33612345678", body="x")
    assert [r.path for r in http_gateway.requests] == ["/api/sms"]


def test_gateway_closing_the_connection_is_a_delivery_error(http_gateway):
    http_gateway.drop = True
    with pytest.raises(DeliveryError, match="unreachable"):
        get_backend().send(to="+33612345678", body="x")


def test_gateway_down_is_a_delivery_error(http_gateway):
    http_gateway.stop()
    with pytest.raises(DeliveryError, match="unreachable"):
        get_backend().send(to="+33612345678", body="x")


def test_gateway_timeout_is_a_delivery_error(settings, http_gateway):
    settings.SMS_HTTP_TIMEOUT = 0.2
    http_gateway.delay = 1
    with pytest.raises(DeliveryError, match="unreachable"):
        get_backend().send(to="+33612345678", body="x")


@pytest.mark.parametrize("number", ["0612345678", "+33 6 12 34 56 78", "", "+0612345678"])
def test_gateway_refuses_what_is_not_e164_without_calling(http_gateway, number):
    with pytest.raises(PermanentDeliveryError):
        get_backend().send(to=number, body="x")
    assert http_gateway.requests == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"url": "file:///etc/passwd"}, "SMS_HTTP_URL"),
        ({"url": ""}, "SMS_HTTP_URL"),
        ({"auth_header": "Bearer abc"}, "SMS_HTTP_AUTH_HEADER"),
        ({"auth_header": "Authorization: Bearer abc\r\nX-Evil: 1"}, "SMS_HTTP_AUTH_HEADER"),
        ({"body_template": '{"to": {to}, "text": {body}}'}, "SMS_HTTP_BODY_TEMPLATE"),
    ],
)
def test_gateway_misconfiguration_is_refused(changes, message):
    config = {"url": "https://sms.example.fr/send", "auth_header": "", "body_template": '{"t": "{body}"}', **changes}
    with pytest.raises(ImproperlyConfigured, match=message):
        HttpGatewaySmsBackend(**config)


# --- SMSmode ---------------------------------------------------------------------------------------


def test_smsmode_request_shape(smsmode):
    get_backend().send(to="+33612345678", body="Votre code : 123456")
    [request] = smsmode.requests
    assert (request.method, request.path) == ("POST", "/sms/v1/messages")
    assert request.headers["X-Api-Key"] == "smsmode-key-123"
    assert "Authorization" not in request.headers
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.json() == {
        "recipient": {"to": "33612345678"},
        "body": {"text": "Votre code : 123456"},
        "from": "COLLEGE",
    }


def test_smsmode_numbers_are_international_without_plus(smsmode):
    get_backend().send(to="+262692123456", body="x")  # La Réunion
    assert smsmode.requests[0].json()["recipient"] == {"to": "262692123456"}


def test_smsmode_escapes_the_text(smsmode):
    get_backend().send(to="+33612345678", body=TRICKY)
    document = smsmode.requests[0].json()
    assert document["body"] == {"text": TRICKY}
    assert set(document) == {"recipient", "body", "from"}


def test_smsmode_without_sender_lets_the_account_default_apply(settings, smsmode):
    settings.SMS_SENDER = ""
    get_backend().send(to="+33612345678", body="x")
    assert "from" not in smsmode.requests[0].json()


def test_smsmode_base_url_with_trailing_slash(settings, smsmode):
    settings.SMSMODE_BASE_URL = smsmode.url + "/"
    get_backend().send(to="+33612345678", body="x")
    assert smsmode.requests[0].path == "/sms/v1/messages"


def test_smsmode_rejected_key_is_a_delivery_error(smsmode):
    smsmode.status = 401
    with pytest.raises(DeliveryError, match="HTTP 401"):
        get_backend().send(to="+33612345678", body="x")


def test_smsmode_needs_an_api_key():
    with pytest.raises(ImproperlyConfigured, match="SMSMODE_API_KEY"):
        SmsModeSmsBackend(api_key="")


def test_smsmode_default_address_is_the_real_api(settings):
    settings.SMSMODE_API_KEY = "k"
    assert SmsModeSmsBackend().url == "https://rest.smsmode.com/sms/v1/messages"


# --- Through the service -------------------------------------------------------------------------


@pytest.mark.django_db
def test_send_sms_through_smsmode_settles_the_delivery(smsmode):
    send_sms(to="+33612345678", body="Votre code : 654321")
    assert smsmode.requests[0].json()["body"] == {"text": "Votre code : 654321"}
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_error) == (DeliveryState.SENT, 1, "")
    assert delivery.sent_at is not None
    assert delivery.body == ""  # the code is not kept once it left
