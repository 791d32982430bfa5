"""Fuzzing the parsers that take outside input (research/security.md §7, check 28; issue #7).

Whatever a browser, a service provider or a school's file sends, the parser answers with its own
refusal (`Refused`, `ImportFileError`, a form error) and never with an unexpected exception: a 500
page would tell an attacker where the edges are, and a school secretary nothing at all.
"""

from __future__ import annotations

import base64
import contextlib
import io
import zlib

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

from tests import factories
from trousseau.directory.models import School
from trousseau.federation.saml.inbound import Decoded, Refused, decode
from trousseau.flows.lost_identifier.forms import LostIdentifierForm
from trousseau.flows.self_registration.forms import IdentityForm
from trousseau.flows.steps.forms import CodeForm
from trousseau.provisioning.services import ImportFileError, ImportResult, import_records
from trousseau.signin.forms import LoginForm

DB_EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PURE_EXAMPLES = settings(max_examples=300, deadline=None)

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
# Pieces that XML attacks and broken clients are made of, for hypothesis to combine.
XML_PIECES = st.sampled_from(
    [
        f'<samlp:AuthnRequest xmlns:samlp="{SAMLP}" ID="_a" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">',
        "</samlp:AuthnRequest>",
        '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>',
        "&e;",
        "&b;",
        '<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">',
        "</saml:Issuer>",
        "<![CDATA[",
        "]]>",
        "<?xml version='1.0' encoding='latin-1'?>",
        "\x00",
        "é",
        "<",
        ">",
        "'",
        '"',
    ]
)


def _refused_or_decoded(encoded: str, binding: str) -> None:
    try:
        decoded = decode(encoded, binding, "AuthnRequest")
    except Refused:
        return
    assert isinstance(decoded, Decoded)


@PURE_EXAMPLES
@given(data=st.binary(max_size=4096), binding=st.sampled_from([BINDING_HTTP_POST, BINDING_HTTP_REDIRECT]))
def test_saml_decoding_of_any_bytes_is_refused_or_parsed(data: bytes, binding: str) -> None:
    if binding == BINDING_HTTP_REDIRECT and data[:1] == b"<":
        data = zlib.compress(data)[2:-4]  # raw DEFLATE, as the Redirect binding carries it
    _refused_or_decoded(base64.b64encode(data).decode(), binding)


@PURE_EXAMPLES
@given(pieces=st.lists(XML_PIECES | st.text(max_size=20), max_size=12), deflate=st.booleans())
def test_saml_decoding_of_xml_shaped_input_is_refused_or_parsed(pieces: list[str], *, deflate: bool) -> None:
    xml = "".join(pieces).encode("utf-8", "surrogatepass")
    if deflate:
        _refused_or_decoded(base64.b64encode(zlib.compress(xml)[2:-4]).decode(), BINDING_HTTP_REDIRECT)
    else:
        _refused_or_decoded(base64.b64encode(xml).decode(), BINDING_HTTP_POST)


@PURE_EXAMPLES
@given(encoded=st.text(max_size=300))
def test_saml_decoding_of_any_text_is_refused_or_parsed(encoded: str) -> None:
    _refused_or_decoded(encoded, BINDING_HTTP_POST)


@pytest.mark.django_db
@DB_EXAMPLES
@given(message=st.text(max_size=400), relay_state=st.text(max_size=120), execution=st.text(max_size=20))
def test_the_sso_endpoints_answer_any_input_with_a_page_not_a_crash(
    message: str, relay_state: str, execution: str
) -> None:
    client = Client()  # raises any exception a view lets out
    posted = client.post("/idp/profile/SAML2/POST/SSO", {"SAMLRequest": message, "RelayState": relay_state})
    assert posted.status_code == 400
    redirected = client.get("/idp/profile/SAML2/Redirect/SSO", {"SAMLRequest": message, "RelayState": relay_state})
    assert redirected.status_code == 400
    assert client.get("/idp/profile/SAML2/Redirect/SSO", {"execution": execution}).status_code in {400, 302}


CSV_FIELD = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=15) | st.sampled_from(
    ["", "14/03/2012", "2012-03-14", "31/02/2012", "100000001AB", "0145678B", "06 12 34 56 78", "=1+1", '"', ";", "1"]
)
PUPIL_HEADER = "INE;NOM;PRENOM;DATE_NAISS;CLASSE;UAI"
GUARDIAN_HEADER = "ID_RESPONSABLE;NOM;PRENOM;TEL_PORTABLE;COURRIEL;INE_ELEVE;RESP_LEGAL"


@pytest.fixture
def school() -> School:
    """One school for every example of a test (hypothesis runs them in the test's transaction)."""
    return factories.school(uai="0145678B")


def _file(header: str | None, rows: list[list[str]], encoding: str) -> io.BytesIO:
    lines = ([header] if header is not None else []) + [";".join(row) for row in rows]
    return io.BytesIO("\r\n".join(lines).encode(encoding, "replace"))


@pytest.mark.django_db
@DB_EXAMPLES
@given(
    header=st.sampled_from([PUPIL_HEADER, "NOM;PRENOM", None]),
    rows=st.lists(st.lists(CSV_FIELD, min_size=0, max_size=8), max_size=6),
    guardian_rows=st.lists(st.lists(CSV_FIELD, min_size=0, max_size=9), max_size=4),
    encoding=st.sampled_from(["utf-8", "latin-1", "utf-8-sig"]),
)
def test_a_school_file_of_any_shape_is_reported_not_crashed_on(
    school: School, header: str | None, rows: list[list[str]], guardian_rows: list[list[str]], encoding: str
) -> None:
    try:
        result = import_records(
            pupils=_file(header, rows, encoding),
            guardians=_file(GUARDIAN_HEADER, guardian_rows, encoding),
            school=school,
            dry_run=True,
        )
    except ImportFileError as refusal:
        assert str(refusal)  # noqa: PT017 - any refusal is fine, as long as it says why
        return
    assert isinstance(result, ImportResult)
    assert all(error.reason for error in result.errors)


@pytest.mark.django_db
@DB_EXAMPLES
@given(raw=st.binary(max_size=2000))
def test_a_school_file_of_any_bytes_is_reported_not_crashed_on(raw: bytes) -> None:
    with contextlib.suppress(ImportFileError):  # a refusal with its reason is the right answer
        import_records(pupils=io.BytesIO(raw), dry_run=True)


FORM_TEXT = st.text(max_size=80) | st.sampled_from(["0612345678", "+33612345678", "١٢٣٤٥٦", "²²²²²²", "12 34 56"])


@PURE_EXAMPLES
@given(identifier=FORM_TEXT, password=FORM_TEXT, code=FORM_TEXT, mobile=FORM_TEXT, country=FORM_TEXT)
def test_the_journey_forms_take_any_text(identifier: str, password: str, code: str, mobile: str, country: str) -> None:
    LoginForm({"identifier": identifier, "password": password}).is_valid()
    form = CodeForm({"code": code})
    if form.is_valid():
        assert len(form.cleaned_data["code"]) == 6
        assert form.cleaned_data["code"].isascii()
        assert form.cleaned_data["code"].isdigit()
    IdentityForm({"last_name": identifier, "first_name": password, "country": country, "mobile": mobile}).is_valid()
    LostIdentifierForm({"country": country, "contact": mobile, "last_name": identifier}).is_valid()
    LostIdentifierForm({"country": country, "contact": f"{identifier}@{password}"}).is_valid()
