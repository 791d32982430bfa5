"""What one demo service instance needs to know, read from the environment (`ENT_*`) or given by a test.

The same small app runs three demo services (`python -m ent serve --mode …`), each its own instance
with its own address, keys and cookies:

- `ent`: the ENT with the seeds' portal, a SAML service provider (python3-saml);
- `teleservices`: a téléservices-like site, another SAML service provider of the same code;
- `pronote`: a Pronote-like site, an OpenID Connect relying party (Authlib's client).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
Binding = Literal["redirect", "post"]
Mode = Literal["ent", "teleservices", "pronote"]
MODES: tuple[Mode, ...] = get_args(Mode)
SAML_MODES = ("ent", "teleservices")


@dataclass(frozen=True)
class Brand:
    """How a demo service presents itself, and its defaults."""

    name: str
    tagline: str
    footer: str
    # How the logout page names what the person left: "Vous êtes déconnecté(e) de l'ENT …".
    leaving: str
    port: int


BRANDS: dict[Mode, Brand] = {
    "ent": Brand(
        name="ENT de démonstration",
        tagline="Espace numérique de travail des écoles, collèges et lycées",
        footer="Démonstration : un ENT fictif qui se connecte à Trousseau comme un ENT se connecte à ÉduConnect (SAML 2.0).",
        leaving="de l'ENT",
        port=8010,
    ),
    "pronote": Brand(
        name="Pronote (démonstration)",
        tagline="Vie scolaire : notes, cahier de textes, absences",
        footer="Démonstration : un service fictif, façon Pronote, qui se connecte à Trousseau en OpenID Connect (client Authlib).",
        leaving="de Pronote",
        port=8011,
    ),
    "teleservices": Brand(
        name="Téléservices (démonstration)",
        tagline="Les démarches en ligne des familles et des élèves",
        footer="Démonstration : des téléservices fictifs, façon Scolarité Services, qui se connectent à Trousseau en SAML 2.0.",
        leaving="des téléservices",
        port=8012,
    ),
}

# The demo Pronote-like client, as `make run` registers it (`oidc_client_add --update`). Demo only.
DEMO_OIDC_CLIENT_ID = "pronote-demo"
DEMO_OIDC_CLIENT_SECRET = "pronote-demo-secret-for-the-local-demo-only"  # noqa: S105 - a demo's fixed secret
OIDC_SCOPES = "openid profile ect.scope.cnx children"


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "oui"}


@dataclass(frozen=True)
class Config:
    """One demo service: its public address, where Trousseau is, where its keys live."""

    public_url: str
    idp_metadata_url: str
    var_dir: Path
    # Empty: the mode's name ("ENT de démonstration", "Pronote (démonstration)", …).
    name: str = ""
    # Cookies are per host, not per port: two services on 127.0.0.1 (and Trousseau) need distinct names.
    # Empty: the mode's name.
    cookie_prefix: str = ""
    # How the AuthnRequest travels: query string signature (Redirect) or enveloped signature (POST).
    sso_binding: Binding = "redirect"
    # IdP-initiated SSO (`/idp/profile/SAML2/Unsolicited/SSO?providerId=…`), as ÉduConnect's ENTs accept.
    allow_unsolicited: bool = True
    # Refuse assertions that arrive in clear (the metadata always offers an encryption key).
    require_encryption: bool = False
    metadata_ttl_seconds: int = 300
    session_seconds: int = 8 * 3600
    mode: Mode = "ent"
    # OpenID Connect (mode "pronote"): the issuer (discovery at issuer + /.well-known/openid-configuration).
    oidc_issuer: str = ""
    oidc_client_id: str = DEMO_OIDC_CLIENT_ID
    oidc_client_secret: str = DEMO_OIDC_CLIENT_SECRET
    oidc_scopes: str = OIDC_SCOPES

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        object.__setattr__(self, "oidc_issuer", self.oidc_issuer.rstrip("/"))
        object.__setattr__(self, "name", self.name or self.brand.name)
        object.__setattr__(self, "cookie_prefix", self.cookie_prefix or self.mode)

    @property
    def brand(self) -> Brand:
        return BRANDS[self.mode]

    @property
    def saml(self) -> bool:
        return self.mode in SAML_MODES

    @property
    def entity_id(self) -> str:
        return f"{self.public_url}/auth/saml/metadata"

    @property
    def acs_url(self) -> str:
        return f"{self.public_url}/auth/saml/acs"

    @property
    def slo_url(self) -> str:
        return f"{self.public_url}/auth/saml/slo"

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/auth/oidc/callback"

    @property
    def post_logout_uri(self) -> str:
        return f"{self.public_url}/deconnecte"

    @property
    def backchannel_uri(self) -> str:
        return f"{self.public_url}/auth/oidc/backchannel"

    @property
    def ready_url(self) -> str:
        """What `python -m ent wait` polls: the SAML metadata (keys made), or a page that needs no IdP."""
        return self.entity_id if self.saml else f"{self.public_url}/sante"

    @property
    def https(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"

    @property
    def idp_origin(self) -> str:
        parts = urlsplit(self.idp_metadata_url if self.saml else self.oidc_issuer)
        return f"{parts.scheme}://{parts.netloc}"

    def cookie(self, name: str) -> str:
        return f"{self.cookie_prefix}_{name}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, mode: Mode = "ent", port: int = 0) -> Config:
        """The `mode` service from `ENT_*` variables; without ENT_PUBLIC_URL, http://127.0.0.1:<port>."""
        env = os.environ if environ is None else environ
        binding = env.get("ENT_SSO_BINDING", "redirect")
        if binding not in {"redirect", "post"}:
            raise ValueError("ENT_SSO_BINDING must be 'redirect' or 'post'")
        brand = BRANDS[mode]
        return cls(
            public_url=env.get("ENT_PUBLIC_URL", f"http://127.0.0.1:{port or brand.port}"),
            idp_metadata_url=env.get("ENT_IDP_METADATA_URL", "http://127.0.0.1:8000/idp/shibboleth"),
            var_dir=Path(env.get("ENT_VAR_DIR", str(ROOT / "var" / mode))),
            name=env.get("ENT_NAME", ""),
            cookie_prefix=env.get("ENT_COOKIE_PREFIX", ""),
            sso_binding="post" if binding == "post" else "redirect",
            allow_unsolicited=_flag(env.get("ENT_ALLOW_UNSOLICITED", "1")),
            require_encryption=_flag(env.get("ENT_REQUIRE_ENCRYPTION", "0")),
            mode=mode,
            oidc_issuer=env.get("ENT_OIDC_ISSUER", "http://127.0.0.1:8000"),
            oidc_client_id=env.get("ENT_OIDC_CLIENT_ID", DEMO_OIDC_CLIENT_ID),
            oidc_client_secret=env.get("ENT_OIDC_CLIENT_SECRET", DEMO_OIDC_CLIENT_SECRET),
        )
