"""What an AuthnRequest must be to be answered (research/security.md §2.1 and checks 26-29).

Every refusal is a French error page with status 400, and nothing is posted anywhere.
"""

from __future__ import annotations

import base64
import re
import time
import zlib
from urllib.parse import urlencode

import pytest
from django.test import RequestFactory
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

from tests.federation.saml.helpers import guardian, log_in
from tests.federation.saml.sp import PySamlSP
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.federation.saml import inbound

pytestmark = pytest.mark.django_db
SSO_POST = "/idp/profile/SAML2/POST/SSO"
SSO_REDIRECT = "/idp/profile/SAML2/Redirect/SSO"


def refused(page, text: str = "pas valable") -> bool:
    body = page.content.decode()
    return page.status_code == 400 and "SAMLResponse" not in body and text in page.text


@pytest.fixture
def logged_in(client):
    log_in(client, guardian())
    return client


@pytest.fixture(scope="session")
def other_keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp("other-sp")
    PySamlSP(directory)
    return directory


def _xml(fields: dict[str, str]) -> str:
    return base64.b64decode(fields["SAMLRequest"]).decode()


def _post(client, xml: str, **extra: str):
    return client.post(SSO_POST, {"SAMLRequest": base64.b64encode(xml.encode()).decode(), **extra})


def test_unknown_service_provider(logged_in, sp_keys):
    stranger = PySamlSP(sp_keys, entity_id="https://inconnu.example.fr/sp")
    _, url = stranger.redirect_request()
    page = logged_in.get(url)
    assert refused(page, "Ce service n'est pas connu de Trousseau")


def test_disabled_service_provider(logged_in, pysp, registered):
    registered.enabled = False
    registered.save()
    _, url = pysp.redirect_request()
    assert refused(logged_in.get(url), "pas connu")


@pytest.mark.parametrize(
    "acs",
    [
        "https://evil.example/saml/acs/",
        "https://ent.example.fr/saml/acs/x",
        "https://ent.example.fr:8443/saml/acs/",
        "http://ent.example.fr/saml/acs/",
        "https://ent.example.fr/saml/acs",
    ],
)
def test_acs_url_must_be_in_metadata(logged_in, pysp, registered, acs):
    _, url = pysp.redirect_request(assertion_consumer_service_url=acs)
    assert refused(logged_in.get(url))


def test_acs_index_must_be_in_metadata(logged_in, pysp, registered):
    _, url = pysp.redirect_request(assertion_consumer_service_index="7")
    assert refused(logged_in.get(url))
    _, url = pysp.redirect_request(assertion_consumer_service_index="1")
    assert logged_in.get(url).status_code == 200


def test_protocol_binding_must_be_post(logged_in, pysp, registered):
    _, _, fields = pysp.post_request()
    xml = _xml(fields).replace("bindings:HTTP-POST", "bindings:HTTP-Artifact")
    assert refused(_post(logged_in, xml))


def test_replayed_request_is_refused(logged_in, pysp, registered):
    _, url = pysp.redirect_request()
    assert logged_in.get(url).status_code == 200
    assert refused(logged_in.get(url))


@pytest.mark.parametrize("shift", [-3600, 3600])
def test_stale_or_future_issue_instant_is_refused(logged_in, pysp, registered, shift):
    _, _, fields = pysp.post_request()
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + shift))
    xml = re.sub(r'IssueInstant="[^"]+"', f'IssueInstant="{when}"', _xml(fields), count=1)
    assert refused(_post(logged_in, xml))


def test_wrong_destination_is_refused(logged_in, pysp, registered):
    _, _, fields = pysp.post_request()
    xml = _xml(fields).replace('Destination="http://testserver/', 'Destination="https://ailleurs.example/')
    assert refused(_post(logged_in, xml))


def test_relay_state_over_80_bytes_is_refused(logged_in, pysp, registered):
    _, url = pysp.redirect_request(relay_state="x" * 81)
    assert refused(logged_in.get(url))


def test_a_logout_request_is_not_an_authn_request(logged_in, pysp, registered):
    _, _, fields = pysp.post_request()
    xml = _xml(fields).replace("samlp:AuthnRequest", "samlp:LogoutRequest").replace(":AuthnRequest", ":LogoutRequest")
    assert refused(_post(logged_in, xml))


XXE = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"
 ID="_x" Version="2.0" IssueInstant="2030-01-01T00:00:00Z"><saml:Issuer>&xxe;</saml:Issuer></samlp:AuthnRequest>"""
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + ']><samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&lol9;</samlp:AuthnRequest>'
)


@pytest.mark.parametrize("payload", [XXE, LAUGHS], ids=["external-entity", "billion-laughs"])
def test_dtds_and_entities_are_refused_in_both_bindings(logged_in, registered, payload):
    started = time.monotonic()
    assert refused(_post(logged_in, payload))
    deflated = zlib.compress(payload.encode())[2:-4]
    query = urlencode({"SAMLRequest": base64.b64encode(deflated).decode()})
    assert refused(logged_in.get(f"{SSO_REDIRECT}?{query}"))
    assert time.monotonic() - started < 1


def test_deflate_bomb_is_refused_quickly(logged_in, registered):
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = bomb.compress(b"<" + b" " * (40 * 1024 * 1024)) + bomb.flush()
    encoded = base64.b64encode(deflated).decode()
    assert len(encoded) < 64 * 1024
    started = time.monotonic()
    assert refused(logged_in.get(SSO_REDIRECT, {"SAMLRequest": encoded}))
    assert time.monotonic() - started < 1


def test_garbage_is_refused(logged_in, registered):
    assert refused(logged_in.get(SSO_REDIRECT, {"SAMLRequest": "%%%not base64"}))
    assert refused(logged_in.post(SSO_POST, {"SAMLRequest": base64.b64encode(b"<a>").decode()}))
    assert refused(logged_in.get(SSO_REDIRECT))


# --- Signed requests ---------------------------------------------------------------------------------


def test_signed_requests_pass_in_both_bindings(logged_in, signing_sp):
    _, url = signing_sp.redirect_request()
    assert "Signature=" in url
    assert logged_in.get(url).status_code == 200
    _, action, fields = signing_sp.post_request()
    assert "Signature" in _xml(fields)
    assert logged_in.post(action, fields).status_code == 200


def test_unsigned_request_refused_when_metadata_says_authn_requests_signed(logged_in, signing_sp, sp_keys):
    unsigned = PySamlSP(sp_keys, sign_requests=False)
    _, url = unsigned.redirect_request()
    assert refused(logged_in.get(url))
    _, action, fields = unsigned.post_request()
    assert refused(logged_in.post(action, fields))


def test_signature_by_another_key_is_refused(logged_in, signing_sp, other_keys):
    impostor = PySamlSP(other_keys, sign_requests=True)  # same entityID, not the key in metadata
    _, url = impostor.redirect_request()
    assert refused(logged_in.get(url))
    _, action, fields = impostor.post_request()
    assert refused(logged_in.post(action, fields))


def test_tampered_signed_request_is_refused(logged_in, signing_sp):
    _, _, fields = signing_sp.post_request()
    xml = _xml(fields).replace('AssertionConsumerServiceURL="https://ent.example.fr/saml/acs/"', 'ForceAuthn="true"', 1)
    assert "ForceAuthn" in xml
    assert refused(_post(logged_in, xml))
    _, url = signing_sp.redirect_request(relay_state="a")
    assert refused(logged_in.get(url.replace("RelayState=a", "RelayState=b")))


def test_refusals_are_audited(logged_in, sp_keys):
    stranger = PySamlSP(sp_keys, entity_id="https://inconnu.example.fr/sp")
    _, url = stranger.redirect_request()
    logged_in.get(url)
    event = AuditEvent.objects.get(tag=EventTag.SAML_REFUSED)
    assert "unknown_sp" in event.data["reason"]


# --- One copy of each parameter (issue #15, finding 4) -------------------------------------------------


def test_params_of_keeps_the_raw_parts_and_decodes_those_very_parts():
    request = RequestFactory().get("/", QUERY_STRING="SAMLRequest=a%2Bb&RelayState=x+y&SigAlg=s&Signature=c%3D&z=1&z=2")
    params = inbound.params_of(request, BINDING_HTTP_REDIRECT)
    assert params.raw == {
        "SAMLRequest": "SAMLRequest=a%2Bb",
        "RelayState": "RelayState=x+y",
        "SigAlg": "SigAlg=s",
        "Signature": "Signature=c%3D",
    }
    assert params.values == {"SAMLRequest": "a+b", "RelayState": "x y", "SigAlg": "s", "Signature": "c="}


@pytest.mark.parametrize(
    "query",
    [
        "SAMLRequest=a&SAMLRequest=b",
        "SAMLRequest=a&SAML%52equest=b",
        "SAMLResponse=a&SAMLResponse=b",
        "SAMLRequest=a&RelayState=x&RelayState=y",
        "SAMLRequest=a&SigAlg=s&SigAlg=t",
        "SAMLRequest=a&Signature=s&Signature",
    ],
)
def test_params_of_refuses_a_repeated_saml_parameter(query: str):
    with pytest.raises(inbound.Refused) as refusal:
        inbound.params_of(RequestFactory().get("/", QUERY_STRING=query), BINDING_HTTP_REDIRECT)
    assert refusal.value.reason == "repeated_parameter"


def test_params_of_refuses_a_repeated_form_field():
    request = RequestFactory().post("/", {"SAMLRequest": ["a", "b"]})
    with pytest.raises(inbound.Refused, match="repeated_parameter"):
        inbound.params_of(request, BINDING_HTTP_POST)
    assert inbound.params_of(RequestFactory().post("/", {"SAMLRequest": "a"}), BINDING_HTTP_POST).values == {
        "SAMLRequest": "a"
    }


def test_a_repeated_parameter_is_refused_in_both_bindings_and_audited(logged_in, signing_sp):
    _, url = signing_sp.redirect_request(relay_state="a")
    assert refused(logged_in.get(url + "&RelayState=b"))
    _, action, fields = signing_sp.post_request(relay_state="a")
    assert refused(logged_in.post(action, {**fields, "RelayState": ["a", "b"]}))
    reasons = [e.data["reason"] for e in AuditEvent.objects.filter(tag=EventTag.SAML_REFUSED)]
    assert reasons == ["repeated_parameter: RelayState"] * 2


def test_a_replayed_id_is_refused_by_one_statement_that_leaves_the_transaction_usable(registered):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from trousseau.federation.saml.models import SeenRequest

    with transaction.atomic():
        inbound.remember_id(registered, "_first")
        with CaptureQueriesContext(connection) as captured, pytest.raises(inbound.Refused, match="replayed"):
            inbound.remember_id(registered, "_first")
        assert len(captured.captured_queries) == 1
        # No error left in the transaction (PostgreSQL would refuse any further statement).
        assert SeenRequest.objects.filter(service_provider=registered, request_id="_first").count() == 1
    inbound.remember_id(registered, "_second")  # another ID of the same SP passes
