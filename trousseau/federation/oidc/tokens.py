"""The token endpoint's authorization code grant, written against the texts rather than through oauthlib.

RFC 6749 §4.1.3 (the request and what the server MUST check), §5.1 and §5.2 (the answers), RFC 7636
§4.6 (the S256 verifier), OpenID Connect Core §3.1.3 (the ID token). Profiles showed that oauthlib and
django-oauth-toolkit spent most of a token request in reads the exchange did not need (the grant six
times, the client, the account, the ID token just written); here, three statements on PostgreSQL,
each atomic by itself, with no BEGIN and COMMIT round trips around them (issue #21):

    UPDATE the code's authorization: redeemed, with the token family it gives (the claim: single use),
           RETURNING it joined to its account (claim_sql.py)
    SELECT what the claims need (federation.claims)
    INSERT the ID token, the access token, the refresh token (django-oauth-toolkit's rows: refresh
           rotation, revocation, logout and RFC 7009 keep working on them unchanged), only while the
           authorization is not marked replayed (token_rows.py)

The claim commits first, so a code refused by the checks in between stays spent. The client comes
from the process's cache (clients.py). A code redeemed twice is refused and revokes what the first
redemption gave (§4.1.2, §10.5): the family is recorded by the claim itself, and the replay marks the
authorization, so that tokens still being written are either revoked once committed or not written
(token_rows.py). Refresh tokens still go through django-oauth-toolkit (views.TokenView).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.signals import app_authorized
from oauth2_provider.utils import jwk_from_pem

from trousseau.core.http import client_ip
from trousseau.federation.oidc import claim_sql, clients, scopes, services, token_rows, userinfo_claims
from trousseau.federation.oidc.models import Authorization
from trousseau.federation.oidc.provider_settings import (
    ACCESS_TOKEN_SECONDS,
    AUTHORIZATION_CODE_SECONDS,
    ID_TOKEN_SECONDS,
)

# RFC 7636 §4.1: 43 to 128 characters of the unreserved set.
VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
SINGLE = ("grant_type", "code", "redirect_uri", "client_id", "client_secret", "code_verifier")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1, MUST


@dataclass
class TokenError(Exception):
    """An error answer of §5.2; `reason` and `account` go to the audit trail only."""

    error: str
    description: str = ""
    reason: str = ""
    account: Any = None
    client_id: str = ""

    @property
    def status(self) -> int:
        return 401 if self.error == "invalid_client" else 400


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def error_response(error: TokenError) -> HttpResponse:
    body = {"error": error.error}
    if error.description:
        body["error_description"] = error.description
    response = JsonResponse(body, status=error.status, headers=NO_STORE)
    if error.status == 401:  # noqa: PLR2004 - §5.2: MUST when the client tried to authenticate by a header
        response["WWW-Authenticate"] = 'Basic realm="oidc"'
    return response


# --- Signing --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _signer(pem: str) -> tuple[rsa.RSAPrivateKey, str]:
    """The signing key and its `kid` (the JWK thumbprint, as the JWKS publishes it), parsed once."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("the OpenID Connect signing key must be RSA")
    return key, str(jwk_from_pem(pem).thumbprint())


def sign(claims: dict[str, Any], *, typ: str = "JWT") -> str:
    """An RS256 JWS compact serialization (RFC 7515) with the current key."""
    key, kid = _signer(oauth2_settings.OIDC_RSA_PRIVATE_KEY)
    header = {"typ": typ, "alg": "RS256", "kid": kid}
    signing_input = ".".join(
        b64url(json.dumps(part, separators=(",", ":"), default=str).encode()) for part in (header, claims)
    )
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6: the left half of the SHA-256 of the access token, base64url."""
    return b64url(hashlib.sha256(access_token.encode()).digest()[:16])


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 random bits


# --- The request ----------------------------------------------------------------------------------


def _single(request: HttpRequest) -> None:
    """§3.2: parameters MUST NOT be included more than once."""
    for name in SINGLE:
        if len(request.POST.getlist(name)) > 1:
            raise TokenError("invalid_request", f"{name} is repeated")


def _claim(code: str, client: clients.Client) -> Authorization:
    """Mark the code redeemed, once, with the refresh-token family it gives; raise invalid_grant if it
    is unknown (or another client's) or was already redeemed (which revokes what it gave)."""
    digest, application_id, family, now = (
        services.code_digest(code),
        client.application.pk,
        uuid.uuid4(),
        timezone.now(),
    )
    if connection.vendor == "postgresql":
        claimed = claim_sql.claim(code_hash=digest, application_id=application_id, family=family, now=now)
    else:
        rows = Authorization.objects.filter(code_hash=digest, application_id=application_id)
        updated = rows.filter(redeemed_at=None).update(redeemed_at=now, token_family=family)
        claimed = rows.select_related("account").get() if updated == 1 else None
    if claimed is None:
        with transaction.atomic():  # the replay's mark, its revocation and its audit event together
            row = services.code_refused(code=code, application=client.application)
        reason = "replayed" if row is not None else "unknown"
        raise TokenError("invalid_grant", reason=reason, account=row.account if row else None)
    return claimed


def _check(authorization: Authorization, request: HttpRequest, client: clients.Client) -> None:
    account = authorization.account
    age = (timezone.now() - authorization.created_at).total_seconds()
    if age > AUTHORIZATION_CODE_SECONDS:
        raise TokenError("invalid_grant", "code expired", reason="expired", account=account)
    # §4.1.3: redirect_uri MUST be identical to the authorization request's. Absent, the client's
    # first registered URI stands for it, as oauthlib did (the authorization request got it too).
    redirect_uri = request.POST.get("redirect_uri") or (client.redirect_uris or [""])[0]
    if redirect_uri != authorization.redirect_uri:
        raise TokenError(
            "invalid_grant", "redirect_uri differs from the authorization request's", "redirect_uri", account
        )
    verifier = request.POST.get("code_verifier")
    if authorization.code_challenge:
        if not verifier or not VERIFIER.fullmatch(verifier):
            raise TokenError("invalid_grant", "code_verifier missing or malformed", "pkce", account)
        computed = b64url(hashlib.sha256(verifier.encode("ascii")).digest())
        if not hmac.compare_digest(computed, authorization.code_challenge):
            raise TokenError("invalid_grant", "code_verifier does not match", "pkce", account)
    elif verifier is not None:
        raise TokenError("invalid_grant", "no code_challenge was sent for this code", "pkce_downgrade", account)
    elif client.public:
        raise TokenError("invalid_grant", "PKCE is required", "pkce", account)  # authorize refuses it first
    if not account.is_active:
        raise TokenError("invalid_grant", reason="account_inactive", account=account)


def _issue(authorization: Authorization, client: clients.Client) -> dict[str, Any]:
    """The ID token, access token and refresh token of a redeemed code, stored as the toolkit does."""
    account, application = authorization.account, client.application
    granted = authorization.scope.split()
    now = timezone.now()
    access, refresh = new_token(), new_token()
    jti = uuid.uuid4()
    logged_in_at = authorization.authenticated_at or account.last_login or now
    released = scopes.claims_for(account, application, granted, client.profile)
    id_claims = dict(released)
    iat = int(time.time())
    id_claims.update(
        iss=oauth2_settings.OIDC_ISS_ENDPOINT,
        aud=client.client_id,
        iat=iat,
        exp=iat + ID_TOKEN_SECONDS,
        auth_time=int(logged_in_at.timestamp()),
        jti=str(jti),
        sid=authorization.sid,
        at_hash=at_hash(access),
    )
    if authorization.nonce:
        id_claims["nonce"] = authorization.nonce
    id_token = sign(id_claims)
    scope = " ".join(granted)
    if authorization.token_family is None:  # the claim sets it, in the same statement as redeemed_at
        raise RuntimeError("a redeemed authorization without its token family")
    stored = token_rows.store(
        authorization_id=authorization.pk,
        account_id=account.pk,
        application_id=application.pk,
        scope=scope,
        jti=jti,
        id_expires=now + timedelta(seconds=ID_TOKEN_SECONDS),
        access_token=access,
        access_expires=now + timedelta(seconds=ACCESS_TOKEN_SECONDS),
        refresh_token=refresh,
        token_family=authorization.token_family,
        now=now,
    )
    if not stored:  # replayed while this exchange ran: the replay revoked the family, nothing written
        raise TokenError("invalid_grant", reason="replayed_during_exchange", account=account)
    userinfo_claims.keep(access, released)
    return {
        "access_token": access,
        "expires_in": ACCESS_TOKEN_SECONDS,
        "token_type": "Bearer",
        "scope": scope,
        "refresh_token": refresh,
        "id_token": id_token,
    }


def _request(request: HttpRequest) -> tuple[clients.Client, str]:
    """The authenticated client and the code of a well-formed request; TokenError otherwise."""
    _single(request)
    try:
        client = clients.authenticate(request)
    except clients.ClientAuthError as exc:
        raise TokenError(exc.error, client_id=exc.client_id) from None
    code = request.POST.get("code", "")
    if not code:
        raise TokenError("invalid_request", "code is missing", client_id=client.client_id)
    return client, code


def exchange_code(request: HttpRequest) -> HttpResponse:
    """POST grant_type=authorization_code: tokens, or an error of §5.2, each refusal audited once."""
    try:
        client, code = _request(request)
    except TokenError as exc:
        return _refused(request, exc)
    try:
        authorization = _claim(code, client)
        _check(authorization, request, client)
        body = _issue(authorization, client)
    except TokenError as exc:
        exc.client_id = client.client_id
        return _refused(request, exc)
    # The toolkit's signal of an issued token, as its token view sends it (ops counts tokens by grant):
    # with the token's facts, unsaved, rather than reading back the row just written as it does.
    issued = get_access_token_model()(
        user=authorization.account,
        application=client.application,
        scope=body["scope"],
        expires=timezone.now() + timedelta(seconds=ACCESS_TOKEN_SECONDS),
    )
    app_authorized.send(sender=exchange_code, request=request, token=issued)
    return JsonResponse(body, headers=NO_STORE)


def _refused(request: HttpRequest, refusal: TokenError) -> HttpResponse:
    services.refused(
        endpoint="token",
        error=refusal.error,
        client_id=refusal.client_id,
        ip=client_ip(request),
        account=refusal.account,
        reason=refusal.reason,
    )
    return error_response(refusal)
