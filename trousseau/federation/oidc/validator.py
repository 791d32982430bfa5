"""django-oauth-toolkit's request validator, with Trousseau's rules.

- PKCE (S256 only, via the RFC 9700 gates) is required from public clients and checked whenever a
  challenge was sent; a verifier sent for a code issued without a challenge is refused (downgrade).
- Codes: this validator records them at the authorization endpoint (one Authorization row each);
  they are redeemed by tokens.exchange_code, not by the toolkit, which still rotates refresh tokens.
- Claims come from scopes.claims_for (hence from federation.claims); `sub` is pairwise; the ID token
  carries the session's `sid`.
- Client secrets are kept as digests (services.hash_secret).
- ID token hints and bearer ID tokens are checked against every published key, by `kid`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from jwcrypto import jwk, jws
from oauth2_provider.models import (
    AbstractApplication,
    get_access_token_model,
    get_id_token_model,
    get_refresh_token_model,
    redirect_to_uri_allowed,
)
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import jwk_from_pem
from oauthlib.oauth2.rfc6749 import errors

from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.federation.oidc import clients, scopes, services
from trousseau.federation.oidc.models import Authorization

SESSION_KEY = "trousseau_session_key"  # credentials the authorization view adds to the oauthlib request
CLIENT_IP = "trousseau_ip"
SID = "trousseau_sid"
AUTHENTICATED_AT = "trousseau_authenticated_at"
AUTHORIZATION = "trousseau_authorization"


def published_keys() -> list[jwk.JWK]:
    return [
        jwk_from_pem(pem)
        for pem in [oauth2_settings.OIDC_RSA_PRIVATE_KEY, *oauth2_settings.OIDC_RSA_PRIVATE_KEYS_INACTIVE]
    ]


def redirect_uri_allowed(application: AbstractApplication, redirect_uri: str) -> bool:
    """Simple string comparison (RFC 9700 §4.1.3); only a public (native) client's loopback http URI
    may vary its port (RFC 8252 §7.3). A confidential client is a server on a port of its own: any
    other port of that host is someone else's, who would receive its codes."""
    registered = str(application.redirect_uris).split()
    if redirect_uri in registered:
        return True
    if application.client_type != AbstractApplication.CLIENT_PUBLIC:
        return False
    loopback = [uri for uri in registered if urlsplit(uri).scheme == "http"]
    return bool(loopback) and bool(redirect_to_uri_allowed(redirect_uri, loopback))


class Validator(OAuth2Validator):  # type: ignore[misc]
    oidc_claim_scope = None  # scopes.claims_for filters by scope itself

    # --- Clients ----------------------------------------------------------------------------------

    def _load_application(self, client_id: str, request: Any) -> Any:
        """The client from the process's cache (clients.py) instead of a query per request; the
        toolkit's own checks (is_usable) then run on it as on a row it read."""
        if not getattr(request, "client", None) and client_id:
            cached = clients.by_client_id(str(client_id))
            if cached is not None:
                request.client = cached.application
        return super()._load_application(client_id, request)

    def _check_secret(self, provided_secret: str, stored_secret: str) -> bool:
        return services.secret_matches(provided_secret, stored_secret)

    def validate_redirect_uri(self, client_id: str, redirect_uri: str, request: Any, *args: Any, **kwargs: Any) -> bool:
        return redirect_uri_allowed(request.client, redirect_uri)

    def is_pkce_required(self, client_id: str, request: Any) -> bool:
        client = getattr(request, "client", None) or self._load_application(client_id, request)
        return client is None or client.client_type == AbstractApplication.CLIENT_PUBLIC

    # --- prompt=none ------------------------------------------------------------------------------

    def validate_silent_login(self, request: Any) -> bool:
        # The view answers login_required itself when the browser is not logged in (before any code).
        return True

    def validate_silent_authorization(self, request: Any) -> bool:
        return True  # no consent screen: clients are registered by the operator

    # --- Authorization codes ----------------------------------------------------------------------

    def save_authorization_code(
        self, client_id: str, code: dict[str, str], request: Any, *args: Any, **kwargs: Any
    ) -> None:
        """The code's one row (models.Authorization), with what its token request will check; no toolkit
        Grant: the token endpoint's code grant is tokens.py's."""
        challenge = request.code_challenge or ""
        if challenge and request.code_challenge_method != "S256":
            # RFC 9700 §2.1.1: S256 only; a challenge without a method means "plain" (RFC 7636 §4.3).
            raise errors.InvalidRequestError(
                description='Unsupported code_challenge_method; use "S256".', request=request
            )
        code_row = services.Code(
            code=code["code"],
            application=request.client,
            session_key=getattr(request, SESSION_KEY),
            sid=getattr(request, SID),
            authenticated_at=getattr(request, AUTHENTICATED_AT, None),
            ip=getattr(request, CLIENT_IP, None),
            redirect_uri=request.redirect_uri or "",
            scope=" ".join(request.scopes),
            nonce=request.nonce or "",
            code_challenge=challenge,
        )
        services.record_authorization(code_row, request.user)

    def validate_code(self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        return False  # codes are redeemed by tokens.exchange_code only (views.TokenView routes them there)

    def save_bearer_token(self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any) -> None:
        if transaction.get_connection().in_atomic_block:
            # The token view's transaction already holds the exchange together (views.TokenView): the
            # toolkit's own atomic block would only add a savepoint and its release.
            self._save_bearer_token(token, request, *args, **kwargs)
            return
        super().save_bearer_token(token, request, *args, **kwargs)

    def _create_access_token(
        self, expires: datetime, request: Any, token: dict[str, Any], source_refresh_token: Any = None
    ) -> Any:
        """The toolkit's, linked to the ID token this request just saved (finalize_id_token leaves it
        on the request) instead of parsing the signed JWT, verifying it and reading its row again."""
        issued = getattr(request, "id_token", None)
        if not token.get("id_token") or not isinstance(issued, get_id_token_model()):
            return super()._create_access_token(expires, request, token, source_refresh_token)
        access_token = get_access_token_model()(
            user=request.user,
            scope=token["scope"],
            expires=expires,
            id_token=issued,
            application=request.client,
            source_refresh_token=source_refresh_token,
            resource=getattr(request, "resource", []),
        )
        self._set_token_value(access_token, token["access_token"])
        access_token.save()
        return access_token

    # --- Refresh tokens and bearer tokens ---------------------------------------------------------

    def validate_refresh_token(self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        if super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            family = request.refresh_token_instance.token_family
            authorization = services.authorization_of_family(family)
            if not services.family_outlived_session(authorization) and request.user.is_active:
                setattr(request, AUTHORIZATION, authorization)
                return True
            get_refresh_token_model().revoke_family(family)
            services.refused(endpoint="token", error="invalid_grant", client_id=client.client_id, ip=None)
            return False
        checksum = hashlib.sha256(refresh_token.encode()).hexdigest()
        reused = get_refresh_token_model().objects.filter(token_checksum=checksum, revoked__isnull=False).first()
        if reused is not None:
            audit(EventTag.OIDC_REFRESH_REUSED, account=reused.user, client=client.client_id)
        return False

    def validate_bearer_token(self, token: str, scopes: list[str], request: Any) -> bool:
        return bool(super().validate_bearer_token(token, scopes, request)) and bool(request.user.is_active)

    # --- Claims and ID tokens ---------------------------------------------------------------------

    def get_oidc_claims(self, token: Any, token_handler: Any, request: Any) -> dict[str, Any]:
        return scopes.claims_for(request.user, request.client, list(request.scopes))

    def get_discovery_claims(self, request: Any) -> list[str]:
        return scopes.supported_claims()

    def get_id_token_dictionary(self, token: Any, token_handler: Any, request: Any) -> tuple[dict[str, Any], datetime]:
        claims, expiration = super().get_id_token_dictionary(token, token_handler, request)
        authorization: Authorization | None = getattr(request, AUTHORIZATION, None)
        if authorization is not None:
            claims["sid"] = authorization.sid
            if authorization.authenticated_at is not None:  # else the toolkit's last_login
                claims["auth_time"] = int(authorization.authenticated_at.timestamp())
        return claims, expiration

    def _get_key_for_token(self, token: str) -> jwk.JWK | None:
        """The published key named by the token's `kid`: tokens signed before a rotation still verify."""
        unverified = jws.JWS()
        unverified.deserialize(token)
        header = unverified.jose_header
        payload = json.loads(unverified.objects["payload"].decode())
        if not isinstance(header, dict) or "aud" not in payload or not self._get_client_by_audience(payload["aud"]):
            return None
        return next((key for key in published_keys() if key.thumbprint() == header.get("kid")), None)
