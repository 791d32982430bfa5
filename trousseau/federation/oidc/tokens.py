"""The token endpoint's authorization code grant, written against the texts rather than through oauthlib.

RFC 6749 §4.1.3 (the request and what the server MUST check), §5.1 and §5.2 (the answers), RFC 7636
§4.6 (the S256 verifier), OpenID Connect Core §3.1.3 (the ID token). Profiles showed that oauthlib and
django-oauth-toolkit spent most of a token request in reads the exchange did not need (the grant six
times, the client, the account, the ID token just written); here, on PostgreSQL, one statement, atomic
by itself, with no BEGIN and COMMIT round trips around it (issue #21, claim_sql.redeem):

    UPDATE the code's authorization: redeemed (the claim: single use; the token family it gives was
           drawn with the code, so that the claim writes no index entry),
           RETURNING it joined to its account, with the account's directory rows for the claims
           (federation.claims, read by a LATERAL join), and INSERT the ID token, the access token and
           the refresh token when the request matches the authorization (the rows are
           django-oauth-toolkit's: refresh rotation, revocation, logout and RFC 7009 keep working on
           them unchanged)

Elsewhere (SQLite) the claim, the claims' read and the rows are statements of their own.

`_check` then decides on the row read back: the statement's own test of the request only spares the
rows a statement of their own (token_rows.store, the only way elsewhere), which it takes when the two
disagree; tokens written for a request `_check` refuses are revoked. A code refused stays spent.

The client comes from the process's cache (clients.py). A code redeemed twice is refused and revokes
what the first redemption gave (§4.1.2, §10.5): the family is the authorization's own; a replay
that comes while the first exchange runs waits for the claim's row lock and then revokes the tokens
written with it, or, where the rows are written after the claim, marks the authorization so that
they are not written (token_rows.py). Refresh tokens still go through django-oauth-toolkit
(views.TokenView).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.db import connection, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.signals import app_authorized
from oauth2_provider.utils import jwk_from_pem

from trousseau.accounts.selectors import ClaimsRecords
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


def warm() -> None:
    """Parse the signing key and the key set's keys now, as the first token and key set would (core/warm.py)."""
    _signer(oauth2_settings.OIDC_RSA_PRIVATE_KEY)
    for pem in oauth2_settings.OIDC_RSA_PRIVATE_KEYS_INACTIVE:
        jwk_from_pem(pem)  # django-oauth-toolkit's cache, which its key set view reads


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


# --- The request ----------------------------------------------------------------------------------


def _single(request: HttpRequest) -> None:
    """§3.2: parameters MUST NOT be included more than once."""
    for name in SINGLE:
        if len(request.POST.getlist(name)) > 1:
            raise TokenError("invalid_request", f"{name} is repeated")


def _redirect_uri(request: HttpRequest, client: clients.Client) -> str:
    # §4.1.3: redirect_uri MUST be identical to the authorization request's. Absent, the client's
    # first registered URI stands for it, as oauthlib did (the authorization request got it too).
    return request.POST.get("redirect_uri") or (client.redirect_uris or [""])[0]


def _s256(verifier: str | None) -> str | None:
    """RFC 7636 §4.6: the challenge a well-formed verifier answers; None for a missing or malformed one."""
    if not verifier or not VERIFIER.fullmatch(verifier):
        return None
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def _expected(request: HttpRequest, client: clients.Client, now: datetime) -> claim_sql.Expected:
    """_check's rules as values, for the statement that writes the tokens with the claim."""
    verifier = request.POST.get("code_verifier")
    return claim_sql.Expected(
        not_before=now - timedelta(seconds=AUTHORIZATION_CODE_SECONDS),
        redirect_uri=_redirect_uri(request, client),
        challenge=_s256(verifier),
        no_challenge_ok=verifier is None and not client.public,
    )


def _claim(code: str, client: clients.Client, request: HttpRequest, issue: token_rows.Issue) -> claim_sql.Redeemed:
    """Mark the code redeemed, once, with the refresh-token family it gives, and on PostgreSQL read the
    claims' directory rows and write the tokens in the same statement when the request matches; raise
    invalid_grant if it is unknown (or another client's) or was already redeemed (which revokes what
    it gave)."""
    digest, application_id = services.code_digest(code), client.application.pk
    redeemed: claim_sql.Redeemed | None
    if connection.vendor == "postgresql":
        expected = _expected(request, client, issue.now)
        redeemed = claim_sql.redeem(code_hash=digest, application_id=application_id, issue=issue, expected=expected)
    else:
        rows = Authorization.objects.filter(code_hash=digest, application_id=application_id)
        family = Coalesce("token_family", Value(issue.token_family))
        updated = rows.filter(redeemed_at=None).update(redeemed_at=issue.now, token_family=family)
        claimed = rows.select_related("account").get() if updated == 1 else None
        redeemed = None if claimed is None else claim_sql.Redeemed(claimed, written=False, records=None)
    if redeemed is None:
        with transaction.atomic():  # the replay's mark, its revocation and its audit event together
            row = services.code_refused(code=code, application=client.application)
        reason = "replayed" if row is not None else "unknown"
        raise TokenError("invalid_grant", reason=reason, account=row.account if row else None)
    return redeemed


def _check(authorization: Authorization, request: HttpRequest, client: clients.Client, now: datetime) -> None:
    account = authorization.account
    age = (now - authorization.created_at).total_seconds()
    if age > AUTHORIZATION_CODE_SECONDS:
        raise TokenError("invalid_grant", "code expired", reason="expired", account=account)
    if _redirect_uri(request, client) != authorization.redirect_uri:
        raise TokenError(
            "invalid_grant", "redirect_uri differs from the authorization request's", "redirect_uri", account
        )
    verifier = request.POST.get("code_verifier")
    if authorization.code_challenge:
        computed = _s256(verifier)
        if computed is None:
            raise TokenError("invalid_grant", "code_verifier missing or malformed", "pkce", account)
        if not hmac.compare_digest(computed, authorization.code_challenge):
            raise TokenError("invalid_grant", "code_verifier does not match", "pkce", account)
    elif verifier is not None:
        raise TokenError("invalid_grant", "no code_challenge was sent for this code", "pkce_downgrade", account)
    elif client.public:
        raise TokenError("invalid_grant", "PKCE is required", "pkce", account)  # authorize refuses it first
    if not account.is_active:
        raise TokenError("invalid_grant", reason="account_inactive", account=account)


def _redeem(code: str, client: clients.Client, request: HttpRequest) -> tuple[Authorization, dict[str, Any]]:
    """Claim the code, check the request against it, write and answer its tokens."""
    issue = token_rows.Issue(application_id=client.application.pk, now=timezone.now())
    redeemed = _claim(code, client, request, issue)
    authorization = redeemed.authorization
    try:
        _check(authorization, request, client, issue.now)  # the rules, whatever the statement decided
    except TokenError:
        if redeemed.written:  # cannot happen while claim_sql.Expected mirrors _check; if it did, nothing stays live
            services.revoke([authorization])
        raise
    if not redeemed.written and not token_rows.store(
        issue, authorization=authorization
    ):  # replayed while this exchange ran: the replay revoked the family, nothing written
        raise TokenError("invalid_grant", reason="replayed_during_exchange", account=authorization.account)
    return authorization, _answer(authorization, client, issue, redeemed.records)


def _answer(
    authorization: Authorization, client: clients.Client, issue: token_rows.Issue, records: ClaimsRecords | None
) -> dict[str, Any]:
    """§5.1's answer: the tokens written, and the ID token signed over the claims released."""
    account, application = authorization.account, client.application
    logged_in_at = authorization.authenticated_at or account.last_login or issue.now
    released = scopes.claims_for(account, application, authorization.scope.split(), client.profile, records)
    id_claims = dict(released)
    iat = int(time.time())
    id_claims.update(
        iss=oauth2_settings.OIDC_ISS_ENDPOINT,
        aud=client.client_id,
        iat=iat,
        exp=iat + ID_TOKEN_SECONDS,
        auth_time=int(logged_in_at.timestamp()),
        jti=str(issue.jti),
        sid=authorization.sid,
        at_hash=at_hash(issue.access_token),
    )
    if authorization.nonce:
        id_claims["nonce"] = authorization.nonce
    userinfo_claims.keep(issue.access_token, released)
    return {
        "access_token": issue.access_token,
        "expires_in": ACCESS_TOKEN_SECONDS,
        "token_type": "Bearer",
        "scope": authorization.scope,
        "refresh_token": issue.refresh_token,
        "id_token": sign(id_claims),
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
        authorization, body = _redeem(code, client, request)
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
