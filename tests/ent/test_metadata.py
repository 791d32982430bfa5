"""The ENT's SP metadata, its keys, Trousseau's metadata as the ENT reads it, the attributes it shows."""

from __future__ import annotations

import stat

import pytest
from lxml import etree
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from ent import attributes
from ent.config import Config
from ent.idp import POST, REDIRECT, MetadataError, MetadataSource, parse
from ent.saml import ServiceProvider
from tests.ent.client import Client
from tests.ent.conftest import ENT_URL, FixedMetadata
from tests.ent.fake_idp import FakeIdp

MD = {"md": "urn:oasis:names:tc:SAML:2.0:metadata", "ds": "http://www.w3.org/2000/09/xmldsig#"}


def test_the_metadata_is_served_and_valid(client: Client, config: Config):
    served = client.get("/auth/saml/metadata")
    assert served.status == 200
    assert served.header("Content-Type") == "application/samlmetadata+xml"
    root = etree.fromstring(served.body.encode())
    assert root.get("entityID") == f"{ENT_URL}/auth/saml/metadata"
    sp = root.find("md:SPSSODescriptor", MD)
    assert sp.get("AuthnRequestsSigned") == "true"
    assert sp.get("WantAssertionsSigned") == "true"
    certs = {
        k.get("use"): k.findtext(".//ds:X509Certificate", namespaces=MD) for k in sp.findall("md:KeyDescriptor", MD)
    }
    assert set(certs) == {"signing", "encryption"}
    assert certs["signing"] != certs["encryption"]
    acs = sp.find("md:AssertionConsumerService", MD)
    assert (acs.get("Binding"), acs.get("Location")) == (POST, f"{ENT_URL}/auth/saml/acs")
    slo = {s.get("Binding"): s.get("Location") for s in sp.findall("md:SingleLogoutService", MD)}
    assert slo == {REDIRECT: f"{ENT_URL}/auth/saml/slo", POST: f"{ENT_URL}/auth/saml/slo"}
    asked = {a.get("FriendlyName") for a in sp.findall(".//md:RequestedAttribute", MD)}
    assert {"FrEduCtId", "givenName", "sn", "FrEduCtPersonAffiliation", "FrEduCtEnfant", "FrEduCtRefId"} <= asked
    # The SAML metadata schema, as python3-saml checks it.
    settings = OneLogin_Saml2_Settings(
        {"sp": {"entityId": "x", "assertionConsumerService": {"url": "http://ent.example/acs"}}},
        sp_validation_only=True,
    )
    assert settings.validate_metadata(served.body.encode()) == []


def test_keys_are_made_once_and_kept_private(config: Config, metadata: FixedMetadata, tmp_path):
    fresh = Config(config.public_url, config.idp_metadata_url, tmp_path / "var" / "ent")
    first = ServiceProvider(fresh, metadata).metadata_xml()
    for use in ("signing", "encryption"):
        mode = (fresh.var_dir / f"sp-{use}.key").stat().st_mode
        assert stat.S_IMODE(mode) == 0o600
    assert ServiceProvider(fresh, metadata).metadata_xml() == first


def test_trousseau_style_metadata_is_read(idp: FakeIdp):
    found = parse(idp.metadata_xml(post_only=True))
    assert found.entity_id == "http://idp.test/idp"
    assert found.sso_endpoint(REDIRECT).binding == POST
    assert found.slo_endpoint(REDIRECT).location == "http://idp.test/idp/profile/SAML2/POST/SLO"
    assert found.signing_certs == [idp.pair.cert_base64]
    # The same reading as python3-saml's own parser.
    theirs = OneLogin_Saml2_IdPMetadataParser.parse(idp.metadata_xml().decode())
    assert theirs["idp"]["entityId"] == found.entity_id


def test_metadata_without_signing_key_or_sso_is_refused(idp: FakeIdp):
    xml = idp.metadata_xml()
    with pytest.raises(MetadataError, match="signing certificate"):
        parse(xml.replace(b'use="signing"', b'use="encryption"'))
    with pytest.raises(MetadataError, match="not XML"):
        parse(b"<md:EntityDescriptor")
    with pytest.raises(MetadataError, match="IDPSSODescriptor"):
        parse(b'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>')


def test_metadata_with_entities_is_read(idp: FakeIdp):
    wrapped = (
        b'<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">'
        + idp.metadata_xml().split(b"\n", 0)[0]
        + b"</md:EntitiesDescriptor>"
    )
    assert parse(wrapped).entity_id == "http://idp.test/idp"


def test_an_unreachable_idp_is_reported():
    with pytest.raises(MetadataError, match="cannot fetch"):
        MetadataSource("http://127.0.0.1:9/idp/shibboleth", ttl=60).get()
    with pytest.raises(MetadataError, match="http"):
        MetadataSource("file:///etc/passwd", ttl=60).get()


@pytest.mark.parametrize(
    ("vector", "key"),
    [
        ("{AAF}18|0450001A|1814477", "ORLEANS-TOURS-1814477"),
        ("{AAF}24|AC2D|181", "CRETEIL-181"),
        ("{AAF}99|X|7", "99-7"),
        ("{ECT}" + "a" * 96, None),
        ("{AAF}18|only-two", None),
    ],
)
def test_join_keys_as_ents_build_them(vector: str, key: str | None):
    assert attributes.join_key(vector) == key


@pytest.mark.parametrize(
    ("vector", "uai"),
    [
        ("{AAF}18|0450001A|1814477", "0450001A"),
        ("{AAF}18|AC2D|1814477", None),  # ÉduConnect's and Trousseau's: the directory, not a school
        ("{ECT}" + "a" * 96, None),
        ("{AAF}18|only-two", None),
    ],
)
def test_only_a_uai_in_a_vector_is_taken_for_a_school(vector: str, uai: str | None):
    assert attributes.vector_uai(vector) == uai


def test_identity_reads_children_and_ignores_malformed_ones():
    person = attributes.identity(
        {
            "givenName": ["Aïcha"],
            "sn": ["MARTIN"],
            "FrEduCtPersonAffiliation": ["resp1d", "resp2d"],
            "FrEduCtEnfant": ["id1|MARTIN|Léo|0450001A", "broken"],
        }
    )
    assert person.is_guardian
    assert person.profile == "Responsable légal (école), Responsable légal (collège ou lycée)"
    assert [c.first_name for c in person.children] == ["Léo"]


def test_config_from_the_environment(tmp_path):
    config = Config.from_env(
        {"ENT_PUBLIC_URL": "https://ent.example/", "ENT_VAR_DIR": str(tmp_path), "ENT_SSO_BINDING": "post"}
    )
    assert config.entity_id == "https://ent.example/auth/saml/metadata"
    assert config.https
    assert config.sso_binding == "post"
    with pytest.raises(ValueError, match="ENT_SSO_BINDING"):
        Config.from_env({"ENT_SSO_BINDING": "artifact"})
