"""The téléservices-like site (`--mode teleservices`): the ENT's SAML service provider with its own
entityID, keys, cookies and branding, no portal, and a home that shows schools rather than children.
Also: what each mode reads from the environment, and the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from ent.config import BRANDS, ROOT, Config
from ent.saml import ServiceProvider
from ent.saml_site import Ent
from tests.ent.client import Client
from tests.ent.conftest import TS_URL, FixedMetadata
from tests.ent.fake_idp import GUARDIAN, FakeIdp, decode_redirect

ACS = f"{TS_URL}/auth/saml/acs"
ENTITY = f"{TS_URL}/auth/saml/metadata"
# What Trousseau sends an SP registered without --release-children: no FrEduCtEnfant; with --release-join,
# the guardian's own `{AAF}` vectors, which name the directory (AC2D), not a school (issue #18).
GUARDIAN_WITHOUT_CHILDREN = {key: values for key, values in GUARDIAN.items() if key[0] != "FrEduCtEnfant"}
GUARDIAN_WITHOUT_CHILDREN[("FrEduCtRefId", "urn:oid:1.3.6.1.4.1.99999.1.1")] = [
    "{ECT}" + "a" * 96,
    "{AAF}18|AC2D|1815002",
    "{AAF}24|AC2D|2400417",
]
# Vectors of an older kind, with a school's UAI in the middle: that school is shown.
GUARDIAN_WITH_UAI_VECTORS = {
    **GUARDIAN_WITHOUT_CHILDREN,
    ("FrEduCtRefId", "urn:oid:1.3.6.1.4.1.99999.1.1"): ["{AAF}18|0450001A|1814477", "{AAF}18|0450002B|1814478"],
}


@pytest.fixture
def ts_config(keys_dir: Path) -> Config:
    return Config(TS_URL, "http://idp.test/idp/shibboleth", keys_dir / "teleservices", mode="teleservices")


@pytest.fixture
def ts(ts_config: Config, metadata: FixedMetadata) -> Client:
    return Client(Ent(ts_config, ServiceProvider(ts_config, metadata)))


def log_in(client: Client, idp: FakeIdp, attributes: dict[tuple[str, str], list[str]]) -> None:
    start = client.get("/")
    assert start.status == 302, start.text
    request, query = decode_redirect(start.location)
    assertion = idp.assertion(audience=ENTITY, recipient=ACS, in_response_to=request.get("ID"), attributes=attributes)
    saml_response = idp.response(destination=ACS, in_response_to=request.get("ID"), assertion=assertion)
    landed = client.post("/auth/saml/acs", {"SAMLResponse": saml_response, "RelayState": query["RelayState"]})
    assert landed.status == 303, landed.text
    assert landed.location == "/accueil"


def test_the_teleservices_go_straight_to_educonnect(ts: Client):
    answer = ts.get("/")
    assert answer.status == 302
    request, _ = decode_redirect(answer.location)
    assert answer.location.startswith("http://idp.test/idp/profile/SAML2/Redirect/SSO?")
    assert request.get("AssertionConsumerServiceURL") == ACS
    # The ENT's portal pages are not part of this site.
    assert ts.get("/niveau").status == 404
    assert ts.get("/profil/enseignant").status == 404
    assert ts.get("/oublier").status == 404


def test_a_guardian_sees_neither_the_children_nor_a_directory_code_as_a_school(ts: Client, idp: FakeIdp):
    log_in(ts, idp, GUARDIAN_WITHOUT_CHILDREN)
    home = ts.get("/accueil")
    assert home.status == 200
    assert "<title>Bonjour Aïcha MARTIN — Téléservices (démonstration)</title>" in home.body
    assert "Vous êtes connecté(e) aux téléservices avec EduConnect." in home.text
    assert "Profil Responsable légal (collège ou lycée)" in home.text
    assert '<p id="ent-schools">Aucun établissement communiqué.</p>' in home.body  # AC2D is no school
    assert "ORLEANS-TOURS-1815002, CRETEIL-2400417" in home.text
    assert "Ce service ne reçoit pas la liste de vos enfants" in home.text
    assert "Mes enfants" not in home.text
    assert "Mes démarches" in home.text
    assert "Les démarches en ligne des familles et des élèves" in home.text
    assert "ent_session" not in ts.cookies
    assert "teleservices_session" in ts.cookies


def test_the_schools_of_older_vectors_are_shown(ts: Client, idp: FakeIdp):
    log_in(ts, idp, GUARDIAN_WITH_UAI_VECTORS)
    assert "Établissements (UAI) 0450001A 0450002B" in ts.get("/accueil").text


def test_a_guardian_with_children_released_sees_them(ts: Client, idp: FakeIdp):
    log_in(ts, idp, GUARDIAN)
    home = ts.get("/accueil").text
    assert "MARTIN Léo 0450001A" in home
    assert "Établissements (UAI) 0450001A 0450002B" in home


def test_a_pupil_sees_their_school(ts: Client, idp: FakeIdp):
    ect = "urn:oid:1.3.6.1.4.1.20326.10.999.1."
    pupil = {
        ("FrEduCtId", ect + "57"): ["d" * 96],
        ("FrEduCtPersonAffiliation", ect + "7"): ["eleve2d"],
        ("givenName", "urn:oid:2.5.4.42"): ["Léo"],
        ("sn", "urn:oid:2.5.4.4"): ["MARTIN"],
        ("FrEduCtEleveUAI", ect + "72"): ["0450001A"],
        ("FrEduCtEleveNiveau", ect + "73"): ["2115"],
    }
    log_in(ts, idp, pupil)
    home = ts.get("/accueil").text
    assert "Établissement (UAI) 0450001A" in home
    assert "Niveau 4e (2115)" in home
    assert "Ce service ne reçoit pas la liste" not in home


def test_its_metadata_is_its_own(ts: Client, ts_config: Config, config: Config):
    assert (
        ServiceProvider(config, FixedMetadata.empty()).signing.cert_pem
        != ServiceProvider(ts_config, FixedMetadata.empty()).signing.cert_pem
    )
    metadata = etree.fromstring(ts.get("/auth/saml/metadata").body.encode())
    assert metadata.get("entityID") == ENTITY
    names = metadata.findall(".//{urn:oasis:names:tc:SAML:metadata:ui}DisplayName")
    assert [name.text for name in names] == ["Téléservices (démonstration)"]


def test_the_logout_page_names_the_teleservices(ts: Client):
    page = ts.get("/deconnecte")
    assert "Vous êtes déconnecté(e) des téléservices et du service d'authentification EduConnect." in page.text
    assert "Se reconnecter" in page.text


# --- Configuration and command line -------------------------------------------------------------


@pytest.mark.parametrize(("mode", "port", "prefix"), [("ent", 8010, "ent"), ("pronote", 8011, "pronote"), ("teleservices", 8012, "teleservices")])  # fmt: skip
def test_each_mode_has_its_defaults(mode: str, port: int, prefix: str):
    config = Config.from_env({}, mode=mode)  # type: ignore[arg-type]
    assert config.public_url == f"http://127.0.0.1:{port}"
    assert config.cookie_prefix == prefix
    assert config.var_dir == ROOT / "var" / mode
    assert config.name == BRANDS[mode].name  # type: ignore[index]
    assert Config.from_env({}, mode=mode, port=9999).public_url == "http://127.0.0.1:9999"  # type: ignore[arg-type]


def test_the_environment_overrides_the_defaults():
    config = Config.from_env(
        {
            "ENT_PUBLIC_URL": "http://127.0.0.1:18011/",
            "ENT_OIDC_ISSUER": "http://127.0.0.1:18000/",
            "ENT_OIDC_CLIENT_ID": "pronote-college",
            "ENT_OIDC_CLIENT_SECRET": "s3cret",
            "ENT_COOKIE_PREFIX": "pronote2",
        },
        mode="pronote",
        port=1,
    )
    assert config.public_url == "http://127.0.0.1:18011"
    assert config.oidc_issuer == "http://127.0.0.1:18000"
    assert config.idp_origin == "http://127.0.0.1:18000"
    assert (config.oidc_client_id, config.oidc_client_secret) == ("pronote-college", "s3cret")
    assert config.cookie("session") == "pronote2_session"
    assert config.redirect_uri == "http://127.0.0.1:18011/auth/oidc/callback"
    assert config.ready_url == "http://127.0.0.1:18011/sante"
    with pytest.raises(ValueError, match="mode must be one of"):
        Config("http://x", "", Path(), mode="cas")  # type: ignore[arg-type]


def test_the_command_line_knows_the_modes(tmp_path: Path):
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {"ENT_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
        return subprocess.run(  # noqa: S603 - our own module
            [sys.executable, "-m", "ent", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    refused = run("metadata", "--mode", "pronote")
    assert refused.returncode == 2
    assert "only the SAML modes" in refused.stderr
    assert run("serve", "--mode", "cas").returncode == 2
    helped = run("serve", "--help")
    assert "--mode {ent,teleservices,pronote}" in helped.stdout
