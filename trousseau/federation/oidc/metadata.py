"""The discovery document (OpenID Connect Discovery 1.0), served at /.well-known/openid-configuration."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from oauth2_provider.settings import oauth2_settings

from trousseau.federation.oidc import scopes
from trousseau.federation.oidc.provider_settings import SCOPES


def issuer() -> str:
    return str(oauth2_settings.OIDC_ISS_ENDPOINT)


def endpoint(name: str) -> str:
    return issuer() + reverse(f"oidc:{name}")


def discovery_document() -> dict[str, Any]:
    return {
        "issuer": issuer(),
        "authorization_endpoint": endpoint("authorize"),
        "token_endpoint": endpoint("token"),
        "userinfo_endpoint": endpoint("userinfo"),
        "jwks_uri": endpoint("jwks"),
        "end_session_endpoint": endpoint("logout"),
        "revocation_endpoint": endpoint("revoke"),
        "scopes_supported": list(SCOPES),
        "claims_supported": scopes.supported_claims(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "prompt_values_supported": ["none", "login"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
        "ui_locales_supported": ["fr", "en"],
    }
