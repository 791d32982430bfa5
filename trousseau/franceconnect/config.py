"""FranceConnect settings, read at each use so that an operator's environment (or a test) decides."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from trousseau.franceconnect.errors import NotConfigured

# FranceConnect v2 signs with ES256 (recommended) or RS256; HS256 (v1) and "none" are never accepted.
ALLOWED_ALGORITHMS = frozenset({"ES256", "RS256"})
# eIDAS levels, lowest first: a login at a higher level than asked is fine, a lower one is not.
ACR_LEVELS = ("eidas1", "eidas2", "eidas3")


@dataclass(frozen=True)
class Config:
    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    algorithm: str
    acr_values: str
    redirect_uri: str
    post_logout_redirect_uri: str
    timeout: float
    leeway: int
    metadata_ttl: int

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def acr_accepted(self, acr: object) -> bool:
        """The returned level is at least the one asked for (FranceConnect+ doc: the RP's duty)."""
        if not isinstance(acr, str) or acr not in ACR_LEVELS:
            return False
        return ACR_LEVELS.index(acr) >= ACR_LEVELS.index(self.acr_values)


def enabled() -> bool:
    return bool(settings.FRANCECONNECT_ENABLED)


def config() -> Config:
    """The relying party's configuration; NotConfigured if FranceConnect is off or incomplete."""
    base = str(settings.FRANCECONNECT_BASE_URL).rstrip("/")
    client_id, secret = str(settings.FRANCECONNECT_CLIENT_ID), str(settings.FRANCECONNECT_CLIENT_SECRET)
    if not (settings.FRANCECONNECT_ENABLED and base and client_id and secret):
        raise NotConfigured
    algorithm = str(settings.FRANCECONNECT_SIGNING_ALG)
    if algorithm not in ALLOWED_ALGORITHMS:
        raise NotConfigured("algorithm", f"FRANCECONNECT_SIGNING_ALG must be ES256 or RS256, not {algorithm!r}")
    scopes = str(settings.FRANCECONNECT_SCOPES).split()
    if "openid" not in scopes:
        scopes.insert(0, "openid")
    public = str(settings.PUBLIC_URL).rstrip("/")
    return Config(
        issuer=base,
        client_id=client_id,
        client_secret=secret,
        scopes=" ".join(scopes),
        algorithm=algorithm,
        acr_values=str(settings.FRANCECONNECT_ACR_VALUES),
        redirect_uri=public + reverse("flows:franceconnect_callback"),
        post_logout_redirect_uri=public + reverse("flows:franceconnect_logged_out"),
        timeout=float(settings.FRANCECONNECT_HTTP_TIMEOUT),
        leeway=int(settings.FRANCECONNECT_CLOCK_LEEWAY),
        metadata_ttl=int(settings.FRANCECONNECT_METADATA_TTL),
    )
