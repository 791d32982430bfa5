"""AuthnRequests verified by their Redirect query signature are read without pysaml2 (query_signed.py):
the same requests pass and the same ones are refused as through pysaml2, walked over HTTP; and
xs:boolean's other spelling, "1", is obeyed: ForceAuthn and IsPassive on both paths, AuthnRequestsSigned
and isDefault in a service provider's metadata."""

from __future__ import annotations

import base64
import html
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from defusedxml import ElementTree as SafeET
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.s_utils import VersionMismatch

from tests.federation.saml.helpers import guardian, log_in
from tests.federation.saml.sp import PySamlSP, query
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.federation.saml import idp, inbound, query_signed
from trousseau.federation.saml.idp import TrousseauServer
from trousseau.federation.saml.metadata import TRANSIENT, parse_sp
from trousseau.federation.saml.services import sp_register

pytestmark = pytest.mark.django_db
Edit = Callable[[str], str]


def _same(xml: str) -> str:
    return xml


def root_attribute(name: str, value: str) -> Edit:
    """Sets (or adds) an attribute of the AuthnRequest element."""

    def edit(xml: str) -> str:
        if re.search(rf'\s{name}="[^"]*"', xml[: xml.index(">")]):
            return re.sub(rf'(\s{name}=)"[^"]*"', rf'\1"{value}"', xml, count=1)
        return re.sub(r"(<[\w]+:AuthnRequest\s)", rf'\1{name}="{value}" ', xml, count=1)

    return edit


def url_of(sp: PySamlSP, edit: Edit = _same, **kw: Any) -> str:
    """The Redirect-binding URL of the SP's AuthnRequest (query-signed if the SP signs), its XML edited first."""
    return sp.redirect_request(edit=edit, **kw)[1]


@pytest.fixture(params=["query-signed", "unsigned"])
def sender(request, db, sp_keys) -> Callable[..., str]:
    """A service provider's request URL maker: query-signed (read by query_signed) or unsigned (by pysaml2)."""
    signed = request.param == "query-signed"
    sp = PySamlSP(sp_keys, sign_requests=signed)
    sp_register(sp.metadata(), encrypt=False, allow_idp_initiated=True)

    def make(edit: Edit = _same, **kw: Any) -> str:
        return url_of(sp, edit, **kw)

    return make


def refused(page) -> bool:
    return page.status_code == 400 and "SAMLResponse" not in page.content.decode()


def answered(page) -> bool:
    return page.status_code == 200 and 'name="SAMLResponse"' in page.content.decode()


def test_a_request_passes_and_its_replay_is_refused(client, sender):
    log_in(client, guardian())
    url = sender()
    assert answered(client.get(url))
    assert refused(client.get(url))


@pytest.mark.parametrize("spelling", ["1", "true", "TRUE"])
def test_force_authn_in_any_spelling_asks_for_the_password_again(client, sender, spelling):
    log_in(client, guardian())
    page = client.get(sender(root_attribute("ForceAuthn", spelling)))
    assert page.status_code == 302
    assert "execution=e" in page["Location"]  # the login steps, not an answer from the session


def test_force_authn_false_answers_from_the_session(client, sender):
    log_in(client, guardian())
    assert answered(client.get(sender(root_attribute("ForceAuthn", "0"))))


@pytest.mark.parametrize("spelling", ["1", "true"])
def test_is_passive_in_any_spelling_answers_no_passive_without_a_session(client, sender, spelling):
    page = client.get(sender(root_attribute("IsPassive", spelling)))
    assert answered(page)
    found = re.search(r'name="SAMLResponse" value="([^"]+)"', page.content.decode())
    assert found is not None
    assert b":status:NoPassive" in base64.b64decode(html.unescape(found[1]))


REFUSED_VALUES = [
    ("Version", "3.0"),
    ("Version", ""),
    ("Destination", "https://ailleurs.example/idp/profile/SAML2/Redirect/SSO"),
    ("ForceAuthn", "oui"),
    ("IsPassive", "2"),
    ("AssertionConsumerServiceIndex", "70000"),
    ("AssertionConsumerServiceIndex", "un"),
    ("AssertionConsumerServiceURL", "https://evil.example/saml/acs/"),
    ("ProtocolBinding", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"),
    ("IssueInstant", "2001-01-01T00:00:00Z"),
    ("IssueInstant", "hier"),
    ("ID", ""),
]


@pytest.mark.parametrize(("name", "value"), REFUSED_VALUES, ids=[f"{n}={v}" for n, v in REFUSED_VALUES])
def test_what_pysaml2_refuses_is_refused_on_both_paths(client, sender, name, value):
    log_in(client, guardian())
    assert refused(client.get(sender(root_attribute(name, value))))


def test_a_query_signed_request_with_two_name_id_policies_is_refused(client, signing_sp):
    log_in(client, guardian())

    def twice(xml: str) -> str:
        policy = re.search(r"<\w+:NameIDPolicy[^>]*/>", xml)
        assert policy is not None
        return xml.replace(policy[0], policy[0] * 2, 1)

    assert refused(client.get(url_of(signing_sp, twice)))
    assert "not_valid" in AuditEvent.objects.get(tag=EventTag.SAML_REFUSED).data["reason"]


def test_pysaml2_reads_no_query_signed_redirect_request_but_reads_the_others(client, signing_sp, monkeypatch):
    log_in(client, guardian())
    calls: list[str] = []
    parse = TrousseauServer.parse_authn_request

    def counted(self, *args, **kwargs):
        calls.append(args[1] if len(args) > 1 else kwargs.get("binding", ""))
        return parse(self, *args, **kwargs)

    monkeypatch.setattr(TrousseauServer, "parse_authn_request", counted)
    monkeypatch.setattr(idp, "_servers", {})  # as in a worker that has not yet met this service provider
    assert answered(client.get(url_of(signing_sp)))
    assert calls == []
    # Nor is its Server built (its metadata parsed, the keys loaded): a new worker's first sign-on per SP.
    assert idp._servers == {}
    _, action, fields = signing_sp.post_request()
    assert answered(client.post(action, fields))
    assert calls == [BINDING_HTTP_POST]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"name_id_format": TRANSIENT, "force_authn": "true"},
        {"assertion_consumer_service_url": "https://ent.example.fr/saml/acs/", "is_passive": "false"},
        {"assertion_consumer_service_index": "1", "name_id_format": None},
    ],
)
def test_query_signed_reads_the_fields_pysaml2_reads(signing_sp, options):
    """The same message through both readers: every field inbound uses is the same."""
    encoded = query(url_of(signing_sp, **options))["SAMLRequest"]
    decoded = inbound.decode(encoded, BINDING_HTTP_REDIRECT, "AuthnRequest")
    server = idp.server_for(inbound.service_provider(decoded.issuer))
    theirs = server.parse_authn_request(encoded, BINDING_HTTP_REDIRECT).message
    destinations = idp.sso_locations(BINDING_HTTP_REDIRECT)
    assert destinations == server.config.endpoint("single_sign_on_service", BINDING_HTTP_REDIRECT, "idp")
    ours = query_signed.read(decoded.root, destinations)
    for name in (
        "id",
        "issue_instant",
        "assertion_consumer_service_url",
        "assertion_consumer_service_index",
        "protocol_binding",
        "force_authn",
        "is_passive",
    ):
        assert getattr(ours, name) == getattr(theirs, name), name
    their_format = theirs.name_id_policy.format if theirs.name_id_policy is not None else None
    our_format = ours.name_id_policy.format if ours.name_id_policy is not None else None
    assert our_format == their_format


@pytest.mark.parametrize("binding", [BINDING_HTTP_REDIRECT, BINDING_HTTP_POST])
def test_the_sso_locations_are_those_pysaml2_is_configured_with(signing_sp, binding):
    server = idp.server_for(inbound.service_provider(signing_sp.entity_id))
    assert idp.sso_locations(binding) == server.config.endpoint("single_sign_on_service", binding, "idp")
    assert idp.sso_locations(binding)  # each binding has its endpoint


def test_read_refuses_a_root_without_version_as_pysaml2_does():
    root = SafeET.fromstring(
        '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_a" '
        f'IssueInstant="{time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}"/>'
    )
    with pytest.raises(VersionMismatch):
        query_signed.read(root, [])


# --- The same xs:boolean in a service provider's metadata ------------------------------------------------


@pytest.mark.parametrize("spelling", ["1", "true"])
def test_metadata_saying_authn_requests_signed_as_1_gets_unsigned_requests_refused(client, sp_keys, spelling):
    """An attacker's unsigned AuthnRequest in the name of an SP whose metadata says AuthnRequestsSigned="1"."""
    signer = PySamlSP(sp_keys, sign_requests=True)
    metadata = signer.metadata()
    assert 'AuthnRequestsSigned="true"' in metadata
    sp_register(metadata.replace('AuthnRequestsSigned="true"', f'AuthnRequestsSigned="{spelling}"'), encrypt=False)
    log_in(client, guardian())
    forged = PySamlSP(sp_keys, sign_requests=False)  # same entityID, no signature
    assert refused(client.get(url_of(forged)))
    assert "unsigned" in AuditEvent.objects.get(tag=EventTag.SAML_REFUSED).data["reason"]
    assert answered(client.get(url_of(signer)))


@pytest.mark.parametrize(("spelling", "default"), [("1", True), ("true", True), ("0", False), ("false", False)])
def test_metadata_reads_is_default_in_both_spellings(sp_keys, spelling, default):
    metadata = PySamlSP(sp_keys).metadata()
    acs = re.search(r"<[\w:]*AssertionConsumerService\s", metadata)
    assert acs is not None
    marked = metadata.replace(acs[0], f'{acs[0]}isDefault="{spelling}" ', 1)
    assert parse_sp(marked).acs[0].is_default is default
