"""The Pronote-like site (`--mode pronote`): an OpenID Connect relying party on Authlib's client.

It runs here against a fake provider shaped like Trousseau's (tests/ent/fake_op.py); its interop
with Trousseau itself is in tests/browser/test_three_services.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from ent.config import DEMO_OIDC_CLIENT_ID, Config
from ent.pronote import Pronote
from tests.ent.client import Answer, Client
from tests.ent.fake_op import FakeOP, rsa_key, s256

PRONOTE_URL = "http://127.0.0.1:8011"


@pytest.fixture
def op() -> Iterator[FakeOP]:
    provider = FakeOP().start()
    yield provider
    provider.stop()


@pytest.fixture
def config(op: FakeOP, tmp_path: Path) -> Config:
    return Config(PRONOTE_URL, "", tmp_path, mode="pronote", oidc_issuer=op.issuer)


@pytest.fixture
def client(config: Config) -> Client:
    return Client(Pronote(config))


def start(client: Client) -> str:
    """Open the site without a session: the browser is sent to the authorization endpoint."""
    answer = client.get("/")
    assert answer.status == 302, answer.text
    return answer.location


def log_in(client: Client, op: FakeOP, **options: str) -> Answer:
    _, callback = op.authorize(start(client), **options)
    return client.get(callback)


def test_an_unknown_visitor_is_sent_to_trousseau_with_pkce_state_and_nonce(client: Client, op: FakeOP):
    location = start(client)
    assert location.startswith(f"{op.issuer}/idp/profile/oidc/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == DEMO_OIDC_CLIENT_ID
    assert query["redirect_uri"] == f"{PRONOTE_URL}/auth/oidc/callback"
    assert query["scope"] == "openid profile ect.scope.cnx children"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 20
    assert len(query["nonce"]) >= 20
    # The state is bound to this browser by a short-lived cookie.
    assert client.cookies["pronote_login"] == query["state"]


def test_a_guardian_lands_on_the_home_with_the_children(client: Client, op: FakeOP):
    landed = log_in(client, op)
    assert landed.status == 303, landed.text
    assert landed.location == "/accueil"
    assert "pronote_login" not in client.cookies
    # The code was redeemed with client_secret_basic and the PKCE verifier of the challenge sent.
    (request,) = op.token_requests
    assert request["authorization"].startswith("Basic ")
    assert request["form"]["grant_type"] == "authorization_code"
    assert request["form"]["redirect_uri"] == f"{PRONOTE_URL}/auth/oidc/callback"
    assert "client_secret" not in request["form"]
    assert len(request["form"]["code_verifier"]) >= 43
    home = client.get("/accueil")
    assert home.status == 200
    assert "Pronote (démonstration)" in home.text
    assert "Bonjour Aïcha MARTIN" in home.text
    assert "Vous êtes connecté(e) à l'espace parents de Pronote (démonstration)." in home.text
    assert "Profil Responsable légal (collège ou lycée)" in home.text
    assert "MARTIN Léo 0450001A" in home.text
    assert "MARTIN Inès 0450002B" in home.text
    assert f"Fournisseur d'identité (issuer) {op.issuer}" in home.text
    assert "signature RS256 vérifiée avec la clé trousseau-current du JWKS" in home.text
    assert f"Identifiant pour ce service (sub) {op.sub}" in home.text
    assert "ORLEANS-TOURS-1815002, CRETEIL-2400417" in home.text
    # Once logged in, "/" is the home.
    assert client.get("/").location == "/accueil"


def test_a_pupil_sees_school_and_level(client: Client, op: FakeOP):
    op.claims = {
        "given_name": "Léo",
        "family_name": "MARTIN",
        "FrEduCtPersonAffiliation": ["eleve2d"],
        "FrEduCtEleveUAI": "0450001A",
        "FrEduCtEleveNiveau": "2115",
    }
    assert log_in(client, op).status == 303
    home = client.get("/accueil").text
    assert "Bonjour Léo MARTIN" in home
    assert "l'espace élèves" in home
    assert "Établissement (UAI) 0450001A" in home
    assert "Niveau 4e (2115)" in home
    assert "Mes enfants" not in home


def refused(answer: Answer, client: Client) -> bool:
    return (
        answer.status == 403
        and "La réponse du service d'authentification n'a pas pu être vérifiée" in answer.text
        and "pronote_session" not in client.cookies
        and client.get("/accueil").location == "/"
    )


@pytest.mark.parametrize(
    ("case", "change"),
    [
        ("another audience", {"aud": "another-client"}),
        ("another issuer", {"iss": "http://127.0.0.1:1"}),
        ("another nonce", {"nonce": "not-the-one-sent"}),
        ("expired", {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 4200}),
        ("issued in the future", {"iat": int(time.time()) + 3600}),
        ("access token hash", {"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}),
    ],
)
def test_bad_id_tokens_are_refused(client: Client, op: FakeOP, case: str, change: dict[str, object]):
    op.id_token_claims = change
    assert refused(log_in(client, op), client), case


def test_an_id_token_signed_by_another_key_is_refused(client: Client, op: FakeOP):
    # A key the JWKS does not publish (the client fetches the JWKS again, in vain), then a forged
    # signature under the published kid.
    op.id_token_key = rsa_key("unknown-key")
    assert refused(log_in(client, op), client)
    op.id_token_header = {"kid": "trousseau-current"}
    assert refused(log_in(client, op), client)


def test_userinfo_about_someone_else_is_refused(client: Client, op: FakeOP):
    op.userinfo_claims = {"sub": "someone-else"}
    assert refused(log_in(client, op), client)


def test_the_response_must_name_the_issuer(client: Client, op: FakeOP):
    assert refused(log_in(client, op, iss=""), client)  # RFC 9207: advertised, so required
    assert refused(log_in(client, op, iss="http://mix-up.example"), client)


def test_the_state_is_checked_used_once_and_bound_to_the_browser(client: Client, op: FakeOP):
    _, callback = op.authorize(start(client))
    forged = callback.replace("state=", "state=forged")
    assert refused(client.get(forged), client)

    # An answer for a request started in another browser (no login cookie here).
    other = Client(client.app)
    _, callback = op.authorize(start(other))
    assert refused(client.get(callback), client)

    # The right browser, but the state was already used above: once only.
    _, callback = op.authorize(start(client))
    assert client.get(callback).status == 303
    assert client.get(callback).status == 403


def test_an_error_from_the_provider_is_shown(client: Client, op: FakeOP):
    location = start(client)
    state = parse_qs(urlsplit(location).query)["state"][0]
    answer = client.get(f"/auth/oidc/callback?error=access_denied&state={state}&iss={op.issuer}")
    assert refused(answer, client)


def test_discovery_for_another_issuer_is_not_used(client: Client, op: FakeOP):
    op.discovery_overrides = {"issuer": "http://evil.example"}
    answer = client.get("/")
    assert answer.status == 503
    assert "Le service d'authentification ne répond pas" in answer.text


def test_a_provider_without_pkce_s256_is_not_used(client: Client, op: FakeOP):
    op.discovery_overrides = {"code_challenge_methods_supported": ["plain"]}
    assert client.get("/").status == 503


def test_an_unreachable_provider_is_said_so(tmp_path: Path):
    config = Config(PRONOTE_URL, "", tmp_path, mode="pronote", oidc_issuer="http://127.0.0.1:9")
    answer = Client(Pronote(config)).get("/")
    assert answer.status == 503
    assert "Le service d'authentification ne répond pas" in answer.text


# --- Logout ---------------------------------------------------------------------------------------


def test_logout_is_rp_initiated_with_the_id_token_hint(client: Client, op: FakeOP):
    assert log_in(client, op).status == 303
    home = client.get("/accueil")
    answer = client.submit(home)  # the page's first form: "Se déconnecter" in the header
    assert answer.status == 303
    assert "pronote_session" not in client.cookies
    end = urlsplit(answer.location)
    assert f"{end.scheme}://{end.netloc}{end.path}" == f"{op.issuer}/idp/profile/oidc/logout"
    query = {k: v[0] for k, v in parse_qs(end.query).items()}
    assert query["post_logout_redirect_uri"] == f"{PRONOTE_URL}/deconnecte"
    assert query["client_id"] == DEMO_OIDC_CLIENT_ID
    assert query["id_token_hint"].count(".") == 2
    # Back from Trousseau with the state: the SSO session is over too.
    page = client.get(f"/deconnecte?state={query['state']}")
    assert "Vous êtes déconnecté(e) de Pronote et du service d'authentification EduConnect." in page.text
    assert client.get("/accueil").location == "/"
    # Without the state (or with a used one), the site does not claim the SSO session ended.
    page = client.get(f"/deconnecte?state={query['state']}")
    assert "le service d'authentification n'a pas confirmé la fin de votre session" in page.text


def test_logout_needs_the_form_token(client: Client, op: FakeOP):
    assert log_in(client, op).status == 303
    assert client.post("/deconnexion", {}).status == 403
    assert client.get("/deconnexion").location == "/accueil"
    assert client.get("/accueil").status == 200


def backchannel(client: Client, token: str) -> Answer:
    return client.post("/auth/oidc/backchannel", {"logout_token": token})


def test_a_back_channel_logout_ends_the_session(client: Client, op: FakeOP):
    assert log_in(client, op).status == 303
    token = op.logout_token()
    answer = backchannel(Client(client.app), token)  # from Trousseau's server: no cookies, no form token
    assert answer.status == 200
    assert answer.header("Cache-Control") == "no-store"
    assert client.get("/accueil").location == "/"
    # The same token again is a replay.
    assert backchannel(client, token).status == 400


def test_a_back_channel_logout_by_sub_alone(client: Client, op: FakeOP):
    assert log_in(client, op).status == 303
    assert backchannel(client, op.logout_token(sid=None)).status == 200
    assert client.get("/accueil").location == "/"


@pytest.mark.parametrize(
    ("case", "changes", "header"),
    [
        ("another audience", {"aud": "another-client"}, None),
        ("another issuer", {"iss": "http://127.0.0.1:1"}, None),
        ("expired", {"exp": int(time.time()) - 600, "iat": int(time.time()) - 720}, None),
        ("no event", {"events": {}}, None),
        ("a nonce", {"nonce": "n"}, None),
        ("neither sub nor sid", {"sub": None, "sid": None}, None),
        ("no jti", {"jti": None}, None),
        ("not typed logout+jwt", {}, {"typ": "JWT"}),
    ],
)
def test_bad_logout_tokens_are_refused(
    client: Client, op: FakeOP, case: str, changes: dict[str, object], header: dict[str, str] | None
):
    assert log_in(client, op).status == 303
    answer = backchannel(client, op.logout_token(header=header, **changes))
    assert answer.status == 400, case
    assert answer.header("Content-Type") == "application/json"
    assert client.get("/accueil").status == 200, case


def test_a_logout_token_signed_by_another_key_is_refused(client: Client, op: FakeOP):
    assert log_in(client, op).status == 303
    forged = op.sign(
        {"iss": op.issuer, "aud": DEMO_OIDC_CLIENT_ID, "iat": int(time.time()), "exp": int(time.time()) + 60,
         "jti": "x", "events": {"http://schemas.openid.net/event/backchannel-logout": {}}, "sid": op.sid},
        key=rsa_key("unknown-key"), header={"typ": "logout+jwt"},
    )  # fmt: skip
    assert backchannel(client, forged).status == 400
    assert backchannel(client, "not-a-jwt").status == 400
    assert client.get("/accueil").status == 200
    assert client.get("/auth/oidc/backchannel").status == 405


def test_pages_carry_the_security_headers(client: Client, op: FakeOP):
    page = client.get("/deconnecte")
    csp = page.header("Content-Security-Policy") or ""
    assert f"form-action 'self' {op.issuer};" in csp
    assert "frame-ancestors 'none'" in csp
    assert page.header("Cache-Control") == "no-store"
    assert client.get("/sante").body == "ok"
    assert s256("x") != "x"
