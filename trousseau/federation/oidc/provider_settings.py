"""django-oauth-toolkit's settings (`OAUTH2_PROVIDER`), built once by trousseau/settings/federation.py.

Every choice the protocol leaves open is made here, with its reason; docs/oidc.md says the same to
integrators. This module is read by the settings, so it imports nothing from Django's apps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from trousseau.federation.oidc import keyfiles

OPENID = "openid"
PROFILE = "profile"
ECT = "ect.scope.cnx"  # ÉduConnect's scope for its FrEduCt… claims (research/educonnect.md §2.2)
CHILDREN = "children"  # a guardian's children: only for clients registered with --children
SCOPES = {
    OPENID: "Identifiant de connexion propre au service (sub)",
    PROFILE: "Prénom, nom et date de naissance",
    ECT: "Attributs ÉduConnect : FrEduCtId, profil, établissement, niveau, jointures",
    CHILDREN: "Les enfants d'un responsable (identifiant, nom, prénom, établissement)",
}

AUTHORIZATION_CODE_SECONDS = 60  # research/security.md §1.6: ≤ 60 s
ACCESS_TOKEN_SECONDS = 600  # as ÉduConnect's token response (expires_in 600)
ID_TOKEN_SECONDS = 600


def oauth2_provider_settings(*, issuer: str, keys_dir: Path, dev_keys: bool, session_age: int) -> dict[str, Any]:
    try:
        keys = keyfiles.load(keys_dir, create=dev_keys)
    except keyfiles.MissingKey as exc:
        msg = f"{exc}. Set TROUSSEAU_OIDC_KEYS_DIR, or TROUSSEAU_OIDC_DEV_KEYS=1 to generate development keys."
        raise ImproperlyConfigured(msg) from exc
    compliant = {
        f"COMPLIANT_BCP_RFC9700_{gate}": True
        for gate in (
            "IMPLICIT_GRANT",
            "PASSWORD_GRANT",
            "PKCE_METHOD",  # "plain" refused: S256 only
            "ACCESS_TOKEN_TRANSPORT",  # no access token in a query string
            "AUTHZ_RESPONSE_ISS",  # RFC 9207
            "TOKEN_STORAGE",  # access and refresh tokens stored as digests
            "REFRESH_TOKEN",
            # REDIRECT_URI_SCHEME stays a deploy-check warning: http is allowed for loopback hosts only,
            # which registration checks (services.check_uri), so that a local demo client works.
            "REDIRECT_URI_MATCHING",
            "PKCE_REQUIRED",
        )
    }
    return {
        **compliant,
        "OIDC_ENABLED": True,
        "OIDC_ISS_ENDPOINT": issuer.rstrip("/"),
        "OIDC_RSA_PRIVATE_KEY": keys.current,
        "OIDC_RSA_PRIVATE_KEYS_INACTIVE": keys.published_only,
        "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
        "OIDC_SUBJECT_TYPES_SUPPORTED": ["pairwise"],
        "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["client_secret_basic", "client_secret_post", "none"],
        "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
        # Ask only when the ID token hint is missing or names someone else (OIDC RP-Initiated Logout §2).
        "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
        "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
        # The session's own tokens are revoked by our logout (logout.PARTICIPANT, at sign-in's logout), not every
        # token of the account on every device.
        "OIDC_RP_INITIATED_LOGOUT_DELETE_TOKENS": False,
        "OAUTH2_VALIDATOR_CLASS": "trousseau.federation.oidc.validator.Validator",
        "SCOPES_BACKEND_CLASS": "trousseau.federation.oidc.scopes.ScopesBackend",
        "SCOPES": SCOPES,
        "DEFAULT_SCOPES": [OPENID],
        "AUTHORIZATION_CODE_EXPIRE_SECONDS": AUTHORIZATION_CODE_SECONDS,
        "ACCESS_TOKEN_EXPIRE_SECONDS": ACCESS_TOKEN_SECONDS,
        "ID_TOKEN_EXPIRE_SECONDS": ID_TOKEN_SECONDS,
        # A refresh token lives as long as a login session; the validator also stops a rotated chain
        # once the session it came from is that old (ASVS 10.4.8 absolute expiry).
        "REFRESH_TOKEN_EXPIRE_SECONDS": session_age,
        "ROTATE_REFRESH_TOKEN": True,
        "REFRESH_TOKEN_REUSE_PROTECTION": True,  # a replayed refresh token revokes its whole family
        "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
        "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],  # http only for loopback, checked at registration
        "ALLOW_URI_WILDCARDS": False,
        "OIDC_JWKS_MAX_AGE_SECONDS": 3600,
    }
