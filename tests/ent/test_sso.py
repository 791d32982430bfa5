"""The ENT's ACS: what it accepts from the IdP and what it refuses."""

from __future__ import annotations

import base64
import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from ent.config import Config
from ent.saml import ServiceProvider
from ent.saml_site import Ent
from tests.ent.client import Answer, Client
from tests.ent.conftest import ENT_URL, FixedMetadata
from tests.ent.fake_idp import GUARDIAN, SAML, SAMLP, FakeIdp, decode_redirect

ACS = f"{ENT_URL}/auth/saml/acs"
ENTITY = f"{ENT_URL}/auth/saml/metadata"
ECT = "urn:oid:1.3.6.1.4.1.20326.10.999.1."
PUPIL = {
    ("FrEduCtId", ECT + "57"): ["d" * 96],
    ("FrEduCtPersonAffiliation", ECT + "7"): ["eleve2d"],
    ("givenName", "urn:oid:2.5.4.42"): ["Léo"],
    ("sn", "urn:oid:2.5.4.4"): ["MARTIN"],
    ("FrEduCtEleveUAI", ECT + "72"): ["0450001A"],
    ("FrEduCtEleveNiveau", ECT + "73"): ["2115"],
}


def start(client: Client, level: str = "college") -> tuple[str, str]:
    """Portal -> level -> the AuthnRequest the browser carries to the IdP: (its ID, the RelayState)."""
    answer = client.submit(client.get("/niveau"), niveau=level, memoriser="non")
    assert answer.status == 302, answer.text
    request, query = decode_redirect(answer.location)
    return request.get("ID"), query["RelayState"]


def answer(client: Client, idp: FakeIdp, request_id: str | None, relay_state: str, **options) -> Answer:
    assertion_options = {k: options.pop(k) for k in ("audience", "recipient", "attributes", "lifetime") if k in options}
    assertion = idp.assertion(
        audience=assertion_options.pop("audience", ENTITY),
        recipient=assertion_options.pop("recipient", ACS),
        in_response_to=request_id,
        **assertion_options,
    )
    destination = options.pop("destination", ACS)
    saml_response = idp.response(destination=destination, in_response_to=request_id, assertion=assertion, **options)
    return client.post("/auth/saml/acs", {"SAMLResponse": saml_response, "RelayState": relay_state})


def test_the_authn_request_is_signed_and_says_where_to_answer(client: Client, config: Config):
    page = client.submit(client.get("/niveau"), niveau="college", memoriser="non")
    request, query = decode_redirect(page.location)
    assert request.tag == f"{{{SAMLP}}}AuthnRequest"
    assert request.get("Destination") == "http://idp.test/idp/profile/SAML2/Redirect/SSO"
    assert request.get("AssertionConsumerServiceURL") == ACS
    assert request.get("ProtocolBinding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    assert request.findtext(f"{{{SAML}}}Issuer") == ENTITY
    policy = request.find(f"{{{SAMLP}}}NameIDPolicy")
    assert policy.get("Format") == "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    assert query["SigAlg"] == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    # The signature covers SAMLRequest, RelayState, SigAlg as encoded in the URL (SAML bindings §3.4.4.1).
    raw = dict(part.split("=", 1) for part in urlsplit(page.location).query.split("&"))
    signed = "&".join(f"{name}={raw[name]}" for name in ("SAMLRequest", "RelayState", "SigAlg"))
    cert = x509.load_pem_x509_certificate((config.var_dir / "sp-signing.crt").read_bytes())
    public = cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(base64.b64decode(query["Signature"]), signed.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_post_binding_sends_an_enveloped_signature(config: Config, metadata: FixedMetadata, idp: FakeIdp):
    import xmlsec

    post = Config(config.public_url, config.idp_metadata_url, config.var_dir, sso_binding="post")
    client = Client(Ent(post, ServiceProvider(post, metadata)))
    page = client.submit(client.get("/niveau"), niveau="lycee", memoriser="non")
    assert page.status == 200
    action, fields = page.form()
    assert action == "http://idp.test/idp/profile/SAML2/POST/SSO"
    assert set(fields) == {"SAMLRequest", "RelayState"}
    assert '<script src="/static/ent/autopost.js"></script>' in page.body
    request = etree.fromstring(base64.b64decode(fields["SAMLRequest"]))
    assert request.get("Destination") == action
    signature = request.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
    xmlsec.tree.add_ids(request, ["ID"])
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_file(str(config.var_dir / "sp-signing.crt"), xmlsec.constants.KeyDataFormatCertPem)
    context.verify(signature)


def test_a_guardian_lands_on_the_home_with_the_children(client: Client, idp: FakeIdp):
    request_id, relay_state = start(client)
    landed = answer(client, idp, request_id, relay_state)
    assert landed.status == 303, landed.text
    assert landed.location == "/accueil"
    home = client.get("/accueil")
    assert home.status == 200
    assert "Bonjour Aïcha MARTIN" in home.text
    assert "Vous êtes connecté(e) à l'espace collège" in home.text
    assert "Profil Responsable légal (collège ou lycée)" in home.text
    assert "MARTIN Léo 0450001A" in home.text
    assert "MARTIN Inès 0450002B" in home.text
    assert "ORLEANS-TOURS-1815002" in home.text
    assert "Assertion chiffrée non" in home.text


def test_a_pupil_sees_school_and_level(client: Client, idp: FakeIdp):
    request_id, relay_state = start(client, "college")
    assert answer(client, idp, request_id, relay_state, attributes=PUPIL).status == 303
    home = client.get("/accueil")
    assert "Bonjour Léo MARTIN" in home.text
    assert "Profil Élève (collège ou lycée)" in home.text
    assert "Établissement (UAI) 0450001A" in home.text
    assert "Niveau 4e (2115)" in home.text
    assert "Mes enfants" not in home.text


@pytest.mark.parametrize(
    "in_context",
    [
        False,  # Shibboleth and Trousseau: self-contained, with the response's prefixes
        True,  # namespace declared outside the encrypted data
    ],
)
def test_an_encrypted_assertion_is_decrypted(client: Client, idp: FakeIdp, config: Config, in_context: bool):
    request_id, relay_state = start(client)
    assertion = idp.assertion(audience=ENTITY, recipient=ACS, in_response_to=request_id)
    cert = (config.var_dir / "sp-encryption.crt").read_text()
    saml_response = idp.response(
        destination=ACS, in_response_to=request_id, assertion=assertion, encrypt_for=cert, in_context=in_context
    )
    landed = client.post("/auth/saml/acs", {"SAMLResponse": saml_response, "RelayState": relay_state})
    assert landed.status == 303
    home = client.get("/accueil").text
    assert "Assertion chiffrée oui" in home
    assert "Bonjour Aïcha MARTIN" in home


def test_encryption_can_be_required(config: Config, metadata: FixedMetadata, idp: FakeIdp):
    strict = Config(config.public_url, config.idp_metadata_url, config.var_dir, require_encryption=True)
    client = Client(Ent(strict, ServiceProvider(strict, metadata)))
    request_id, relay_state = start(client)
    assert answer(client, idp, request_id, relay_state).status == 403
    request_id, relay_state = start(client)
    cert = (config.var_dir / "sp-encryption.crt").read_text()
    assert answer(client, idp, request_id, relay_state, encrypt_for=cert).status == 303


def test_assertion_encrypted_for_the_signing_key_is_refused(client: Client, idp: FakeIdp, config: Config):
    request_id, relay_state = start(client)
    wrong = (config.var_dir / "sp-signing.crt").read_text()
    assert answer(client, idp, request_id, relay_state, encrypt_for=wrong).status == 403


@pytest.mark.parametrize(
    ("case", "options"),
    [
        ("unsigned", {"sign_response": False, "sign_assertion": False}),
        ("assertion unsigned", {"sign_assertion": False}),
        ("response unsigned", {"sign_response": False}),
        ("wrong audience", {"audience": "http://other-sp.test/metadata"}),
        ("wrong recipient", {"recipient": "http://other-sp.test/acs"}),
        ("wrong destination", {"destination": "http://other-sp.test/acs"}),
        ("expired", {"lifetime": dt.timedelta(minutes=-10)}),
    ],
)
def test_bad_responses_are_refused(client: Client, idp: FakeIdp, case: str, options: dict[str, object]):
    request_id, relay_state = start(client)
    refused = answer(client, idp, request_id, relay_state, **options)
    assert refused.status == 403, case
    assert "La réponse du service d'authentification n'a pas pu être vérifiée" in refused.text
    assert "ent_session" not in client.cookies
    assert client.get("/accueil").location == "/"


def test_a_response_signed_by_another_key_is_refused(client: Client, other_idp: FakeIdp):
    request_id, relay_state = start(client)
    assert answer(client, other_idp, request_id, relay_state).status == 403


def test_in_response_to_must_be_the_request_sent_from_here(client: Client, idp: FakeIdp):
    _, relay_state = start(client)
    assert answer(client, idp, "_not-our-request", relay_state).status == 403
    # An answer to a request whose RelayState is unknown (another browser's, or already used).
    request_id, _ = start(client)
    assert answer(client, idp, request_id, "forged-relay-state").status == 403


def test_a_response_is_used_once(client: Client, idp: FakeIdp):
    request_id, relay_state = start(client)
    assertion = idp.assertion(audience=ENTITY, recipient=ACS, in_response_to=request_id)
    saml_response = idp.response(destination=ACS, in_response_to=request_id, assertion=assertion)
    assert client.post("/auth/saml/acs", {"SAMLResponse": saml_response, "RelayState": relay_state}).status == 303
    other = Client(client.app)
    assert other.post("/auth/saml/acs", {"SAMLResponse": saml_response, "RelayState": relay_state}).status == 403
    # Even as an unsolicited response (no RelayState): the assertion ID was seen.
    assert other.post("/auth/saml/acs", {"SAMLResponse": saml_response}).status == 403


def test_an_idp_initiated_response_is_used_once(client: Client, idp: FakeIdp):
    assertion = idp.assertion(audience=ENTITY, recipient=ACS, in_response_to=None)
    saml_response = idp.response(destination=ACS, in_response_to=None, assertion=assertion)
    assert client.post("/auth/saml/acs", {"SAMLResponse": saml_response}).status == 303
    assert Client(client.app).post("/auth/saml/acs", {"SAMLResponse": saml_response}).status == 403


def test_idp_initiated_sso_is_accepted(client: Client, idp: FakeIdp):
    landed = answer(client, idp, None, "")
    assert landed.status == 303
    assert landed.location == "/accueil"
    assert "Bonjour Aïcha MARTIN" in client.get("/accueil").text


def test_idp_initiated_relay_state_is_followed_only_inside_the_ent(client: Client, idp: FakeIdp):
    assert answer(client, idp, None, "/accueil?onglet=enfants").location == "/accueil?onglet=enfants"
    assert answer(Client(client.app), idp, None, "https://evil.example/").location == "/accueil"
    assert answer(Client(client.app), idp, None, "//evil.example/").location == "/accueil"


def test_idp_initiated_sso_can_be_refused(config: Config, metadata: FixedMetadata, idp: FakeIdp):
    closed = Config(config.public_url, config.idp_metadata_url, config.var_dir, allow_unsolicited=False)
    client = Client(Ent(closed, ServiceProvider(closed, metadata)))
    assert answer(client, idp, None, "").status == 403


def test_signature_wrapping_is_refused(client: Client, idp: FakeIdp):
    """A signed assertion for someone else is kept; an unsigned forged one is put first (XSW)."""
    request_id, relay_state = start(client)
    genuine = idp.assertion(audience=ENTITY, recipient=ACS, in_response_to=request_id)
    idp.sign(genuine)
    forged = idp.assertion(
        audience=ENTITY, recipient=ACS, in_response_to=request_id, name_id="victim", attributes=PUPIL
    )
    forged.set("ID", "_forged")
    response = etree.fromstring(
        base64.b64decode(
            idp.response(destination=ACS, in_response_to=request_id, assertion=genuine, sign_assertion=False)
        )
    )
    response.insert(2, forged)
    wrapped = base64.b64encode(etree.tostring(response)).decode()
    refused = client.post("/auth/saml/acs", {"SAMLResponse": wrapped, "RelayState": relay_state})
    assert refused.status == 403


def test_garbage_is_refused_plainly(client: Client):
    assert client.post("/auth/saml/acs", {"SAMLResponse": "pas du base64 !"}).status == 403
    assert client.post("/auth/saml/acs", {"SAMLResponse": base64.b64encode(b"<x/>").decode()}).status == 403
    entity_bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><x>&b;</x>'
    assert client.post("/auth/saml/acs", {"SAMLResponse": base64.b64encode(entity_bomb).decode()}).status == 403
    assert client.post("/auth/saml/acs", {}).status == 400
    assert client.get("/auth/saml/acs").status == 400


def test_key_rollover_trusts_every_published_signing_key(
    client: Client, idp: FakeIdp, other_idp: FakeIdp, metadata: FixedMetadata
):
    xml = idp.metadata_xml().replace(
        b"</md:KeyDescriptor>",
        b'</md:KeyDescriptor><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
        + other_idp.pair.cert_base64.encode()
        + b"</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
        1,
    )
    from ent.idp import parse

    metadata.current = parse(xml)
    request_id, relay_state = start(client)
    assert answer(client, other_idp, request_id, relay_state).status == 303


def test_attributes_named_only_by_oid_are_understood(client: Client, idp: FakeIdp):
    request_id, relay_state = start(client)
    assertion = idp.assertion(audience=ENTITY, recipient=ACS, in_response_to=request_id, attributes=PUPIL)
    for attribute in assertion.iter(f"{{{SAML}}}Attribute"):
        del attribute.attrib["FriendlyName"]
    saml_response = idp.response(destination=ACS, in_response_to=request_id, assertion=assertion)
    assert client.post("/auth/saml/acs", {"SAMLResponse": saml_response, "RelayState": relay_state}).status == 303
    assert "Bonjour Léo MARTIN" in client.get("/accueil").text


def test_the_portal_sends_a_logged_in_person_home(client: Client, idp: FakeIdp):
    request_id, relay_state = start(client)
    answer(client, idp, request_id, relay_state)
    assert client.get("/").location == "/accueil"
    assert client.get("/niveau").location == "/accueil"


def test_guardian_fixture_is_what_trousseau_sends():
    # FrEduCtEnfant values are "id|NOM|Prénom|UAI" (trousseau/federation/claims.py).
    assert all(len(v.split("|")) == 4 for v in GUARDIAN[("FrEduCtEnfant", "urn:oid:1.3.6.1.4.1.99999.1.2")])
    assert parse_qs("a=1") == {"a": ["1"]}
