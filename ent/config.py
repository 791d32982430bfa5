"""What one ENT instance needs to know, read from the environment (`ENT_*`) or given by a test."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
Binding = Literal["redirect", "post"]


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "oui"}


@dataclass(frozen=True)
class Config:
    """One ENT: its public address, where Trousseau's metadata is, where its keys live."""

    public_url: str
    idp_metadata_url: str
    var_dir: Path
    name: str = "ENT de démonstration"
    # Cookies are per host, not per port: two ENTs on 127.0.0.1 (and Trousseau) need distinct names.
    cookie_prefix: str = "ent"
    # How the AuthnRequest travels: query string signature (Redirect) or enveloped signature (POST).
    sso_binding: Binding = "redirect"
    # IdP-initiated SSO (`/idp/profile/SAML2/Unsolicited/SSO?providerId=…`), as ÉduConnect's ENTs accept.
    allow_unsolicited: bool = True
    # Refuse assertions that arrive in clear (the metadata always offers an encryption key).
    require_encryption: bool = False
    metadata_ttl_seconds: int = 300
    session_seconds: int = 8 * 3600

    def __post_init__(self) -> None:
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))

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
    def https(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"

    @property
    def idp_origin(self) -> str:
        parts = urlsplit(self.idp_metadata_url)
        return f"{parts.scheme}://{parts.netloc}"

    def cookie(self, name: str) -> str:
        return f"{self.cookie_prefix}_{name}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        binding = env.get("ENT_SSO_BINDING", "redirect")
        if binding not in {"redirect", "post"}:
            raise ValueError("ENT_SSO_BINDING must be 'redirect' or 'post'")
        return cls(
            public_url=env.get("ENT_PUBLIC_URL", "http://127.0.0.1:8010"),
            idp_metadata_url=env.get("ENT_IDP_METADATA_URL", "http://127.0.0.1:8000/idp/shibboleth"),
            var_dir=Path(env.get("ENT_VAR_DIR", str(ROOT / "var" / "ent"))),
            name=env.get("ENT_NAME", "ENT de démonstration"),
            cookie_prefix=env.get("ENT_COOKIE_PREFIX", "ent"),
            sso_binding="post" if binding == "post" else "redirect",
            allow_unsolicited=_flag(env.get("ENT_ALLOW_UNSOLICITED", "1")),
            require_encryption=_flag(env.get("ENT_REQUIRE_ENCRYPTION", "0")),
        )
