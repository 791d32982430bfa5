"""The UserInfo endpoint (OpenID Connect Core §5.3), with bearer tokens as RFC 6750 has them.

- The access token comes in the `Authorization: Bearer` header (§2.1) or, on a form-encoded POST, as
  the `access_token` parameter (§2.2); never in the query string (§2.3, RFC 9700 §2.4: it would land
  in logs), and never by two methods at once (§2: MUST NOT).
- Errors are 401 with `WWW-Authenticate: Bearer` (§3): without a token, no error code (§3.1); with a
  bad, expired or revoked one, `error="invalid_token"`; 400 `invalid_request` for a malformed
  request; 403 `insufficient_scope` for a token without `openid` (OIDC Core §5.3.3).
- The token is django-oauth-toolkit's row, found by its digest with its account's state in one
  statement (claim_sql.bearer_row): a
  revoked token (logout, a replayed code, a reused refresh token, RFC 7009) is a deleted row, so it
  fails at once. The claims are those of the ID token, kept by the token endpoint for the token's
  life (userinfo_claims.py), or computed again (scopes.claims_for) when the cache has lost them.
"""

from __future__ import annotations

import hashlib

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from trousseau.accounts.models import Account, AccountState
from trousseau.federation.oidc import claim_sql, clients, metadata, scopes, userinfo_claims
from trousseau.federation.oidc.provider_settings import OPENID
from trousseau.federation.oidc.tokens import NO_STORE


class BearerError(Exception):
    def __init__(self, status: int, error: str = "", description: str = "") -> None:
        super().__init__(error)
        self.status, self.error, self.description = status, error, description


def _challenge(error: BearerError) -> HttpResponse:
    params = [f'realm="{metadata.issuer()}"']
    if error.error:
        params.append(f'error="{error.error}"')
    if error.description:
        params.append(f'error_description="{error.description}"')
    body = {"error": error.error, "error_description": error.description} if error.error else {}
    response = JsonResponse(body, status=error.status, headers=NO_STORE)
    response["WWW-Authenticate"] = "Bearer " + ", ".join(params)
    return response


def bearer_token(request: HttpRequest) -> str:
    """The request's access token, by exactly one of the two methods allowed; BearerError otherwise."""
    # META rather than request.headers, which builds a dictionary of every header for this one.
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    in_header = value.strip() if scheme.lower() == "bearer" else None
    form = (
        request.POST if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded" else {}
    )
    in_form = form.get("access_token")
    if "access_token" in request.GET:
        raise BearerError(400, "invalid_request", "access tokens are not accepted in the query string")
    if in_header is not None and in_form is not None:
        raise BearerError(400, "invalid_request", "more than one method was used to send the access token")
    token = in_header if in_header is not None else in_form
    if not token:
        raise BearerError(401)
    return str(token)


def claims_of(token: str) -> dict[str, object]:
    """The claims the token gives access to; BearerError when it is not a live token of an active account."""
    row = claim_sql.bearer_row(hashlib.sha256(token.encode()).hexdigest())
    if row is None or row.expires <= timezone.now() or row.account_state != AccountState.ACTIVE:
        raise BearerError(401, "invalid_token", "The access token is invalid, expired or revoked.")
    granted = str(row.scope).split()
    if OPENID not in granted:
        raise BearerError(403, "insufficient_scope", "The access token does not grant the openid scope.")
    released = userinfo_claims.kept(token)
    if released is not None:
        return released
    client = clients.by_pk(row.application_id)
    account = Account.objects.filter(pk=row.user_id).first()
    if client is None or account is None:
        raise BearerError(401, "invalid_token", "The access token is invalid, expired or revoked.")
    return scopes.claims_for(account, client.application, granted, client.profile)


@csrf_exempt  # a client's server calls it with a token, never a browser's form
@require_http_methods(["GET", "POST"])
def userinfo(request: HttpRequest) -> HttpResponse:
    try:
        return JsonResponse(claims_of(bearer_token(request)), headers=NO_STORE)
    except BearerError as error:
        return _challenge(error)
