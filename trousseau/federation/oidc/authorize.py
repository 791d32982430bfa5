"""The authorization endpoint's code flow, written against the texts rather than through oauthlib.

RFC 6749 §4.1.1-4.1.2.1 (the request, the code, the errors sent back or shown) and §3.1.2 (the
redirection URI, compared as registered), RFC 7636 §4.3-4.4 (the challenge, S256 only), RFC 9207
(`iss` on every answer sent back), OpenID Connect Core §3.1.2.1-3.1.2.6 (`openid`, `nonce`, `prompt`
none and login, `max_age`, response_type `code` only). Profiles showed django-oauth-toolkit's view
validating each request twice through oauthlib, reading the client again after the validator had it
from the cache, loading the account, then writing the code and its audit event apart. Here the client
comes from the process's cache (clients.py), and on PostgreSQL the usual request (a logged-in browser,
a valid request) is three statements: the session's, the account's (`request.user`, which Django
checks against the session) and the code's row with its audit event (code_rows.record).

The answers are today's, down to their order of checks and their wording (oauthlib's error classes
still name and describe each refusal): tests/federation/oidc/authorize_characterisation/ holds
them. What this module does not write out goes to the toolkit's view unchanged (views.AuthorizeView):
`prompt=create`, the `claims` and `resource` parameters, and a client registered without
`skip_authorization` (a consent page): none of them is offered to Trousseau's clients (docs/oidc.md).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.models import AbstractApplication
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import add_params_to_uri
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.uri_validate import is_absolute_uri

from trousseau.accounts.models import Account
from trousseau.accounts.sessions import authenticated_at
from trousseau.core import continuation
from trousseau.core.http import client_ip
from trousseau.federation.oidc import clients, code_rows, metadata, scopes, services
from trousseau.federation.oidc.provider_settings import OPENID
from trousseau.federation.oidc.validator import redirect_uri_allowed

SINGLE = ("client_id", "response_type", "redirect_uri", "scope", "state")  # oauthlib's order of the check
# Response types oauthlib routes to its implicit or hybrid grants: refused as not allowed for the client.
OTHER_RESPONSE_TYPES = {"none", "token", "id_token", "id_token token"}
CHALLENGE_METHODS = {"plain", "S256"}  # recognised; "plain" is then refused when the code would be issued
DELEGATED = ("claims", "resource")  # parameters only the toolkit's view handles (module docstring)


@dataclass(frozen=True)
class CodeRequest:
    """A valid authorization request: what its code is tied to."""

    client: clients.Client
    redirect_uri: str
    scopes: list[str]
    state: str
    nonce: str
    code_challenge: str | None
    code_challenge_method: str | None


class Refusal(Exception):
    """An error of §4.1.2.1: sent back to `redirect_uri`, or shown when there is none to trust (fatal)."""

    def __init__(self, error: errors.OAuth2Error, redirect_uri: str | None = None) -> None:
        super().__init__(error.error)
        self.error = error
        self.redirect_uri = redirect_uri  # None: fatal


def _prompt(request: HttpRequest) -> set[str]:
    """OIDC Core §3.1.2.1: a space-delimited, case-sensitive list."""
    return set(request.GET.get("prompt", "").split())


def _scope_list(scope: str | None) -> list[str] | None:
    return None if scope is None else scope.strip().split(" ")  # oauthlib's: "a  b" keeps an empty scope


def _single(request: HttpRequest) -> None:
    """§3.1: parameters MUST NOT be included more than once (fatal: nothing is trusted yet)."""
    try:
        query = request.META.get("QUERY_STRING", "")
        names = [name for name, _ in parse_qsl(query, keep_blank_values=True, strict_parsing=True)]
    except ValueError:
        raise Refusal(errors.InvalidRequestFatalError(description="Unable to parse query string")) from None
    for name in SINGLE:
        if names.count(name) > 1:
            raise Refusal(errors.InvalidRequestFatalError(description=f"Duplicate {name} parameter."))


def _client(request: HttpRequest) -> clients.Client:
    client_id = request.GET.get("client_id")
    if not client_id:
        raise Refusal(errors.MissingClientIdError())
    client = clients.by_client_id(client_id)
    if client is None:
        raise Refusal(errors.InvalidClientIdError())
    return client


def _redirect_uri(request: HttpRequest, application: AbstractApplication) -> str:
    """§3.1.2.3: as registered; absent, the one registered URI (several: none can be chosen)."""
    uri = request.GET.get("redirect_uri")
    if uri is None:
        registered = str(application.redirect_uris).split()
        if len(registered) != 1:
            raise Refusal(errors.MissingRedirectURIError())
        uri = registered[0]
    if not is_absolute_uri(uri):
        raise Refusal(errors.InvalidRedirectURIError())
    if not redirect_uri_allowed(application, uri):
        raise Refusal(errors.MismatchingRedirectURIError())
    return uri


def _response_type(response_type: str | None, application: AbstractApplication) -> None:
    if response_type is None:
        raise errors.MissingResponseTypeError
    if response_type == "code" and application.allows_grant_type(AbstractApplication.GRANT_AUTHORIZATION_CODE):
        return
    if "code" in response_type or response_type in OTHER_RESPONSE_TYPES:
        raise errors.UnauthorizedClientError  # the implicit and hybrid flows (RFC 9700 §2.1.2)
    raise errors.UnsupportedResponseTypeError


def _checked(request: HttpRequest, client: clients.Client) -> tuple[list[str], str | None, str | None]:
    """The normal errors of §4.1.2.1 (sent back): response_type, PKCE, scope, prompt; in oauthlib's order."""
    params = request.GET
    _response_type(params.get("response_type"), client.application)
    challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
    if client.public and challenge is None:
        raise errors.MissingCodeChallengeError  # RFC 9700 §2.1.1: PKCE from public clients
    if challenge is not None:
        method = "plain" if method is None else method  # RFC 7636 §4.3
        if method not in CHALLENGE_METHODS:
            raise errors.UnsupportedCodeChallengeMethodError
    asked = _scope_list(params.get("scope"))
    granted = asked or [OPENID]  # the default scope
    available = scopes.ScopesBackend().get_available_scopes(application=client.application)
    if not set(granted).issubset(available):
        raise errors.InvalidScopeError
    # OIDC Core §3.1.2.1: an OpenID request is one whose scope names `openid` (absent, it is not one).
    prompt = _prompt(request)
    if asked is not None and OPENID in asked and "none" in prompt and len(prompt) > 1:
        raise errors.InvalidRequestError(description="Prompt none is mutually exclusive with other values.")
    return granted, challenge, method


def validate(request: HttpRequest) -> CodeRequest:
    """The request's client, redirection URI and parameters; raises Refusal."""
    _single(request)
    client = _client(request)
    redirect_uri = _redirect_uri(request, client.application)
    state = request.GET.get("state") or ""
    try:
        granted, challenge, method = _checked(request, client)
    except errors.OAuth2Error as exc:
        exc.state = state
        raise Refusal(exc, redirect_uri) from None
    return CodeRequest(
        client=client,
        redirect_uri=redirect_uri,
        scopes=granted,
        state=state,
        nonce=request.GET.get("nonce") or "",
        code_challenge=challenge,
        code_challenge_method=method,
    )


# --- The answers ----------------------------------------------------------------------------------


def with_iss(uri: str) -> str:
    """The redirect URI with `iss` in its query, unless already there (RFC 9207 §2)."""
    query = urlsplit(uri).query
    if any(name == "iss" for name, _ in parse_qsl(query, keep_blank_values=True)):
        return uri
    return uri + ("&" if query else "?") + urlencode({"iss": metadata.issuer()})


def _redirect(uri: str) -> HttpResponse:
    response: HttpResponse = OAuth2ResponseRedirect(uri, oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES)
    return response


def _sent_back(uri: str) -> HttpResponse:
    """A redirect to the client with `iss` (RFC 9207 §2), once, after the other parameters."""
    parts = urlsplit(uri)
    query = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True) if name != "iss"]
    query.append(("iss", metadata.issuer()))
    return _redirect(urlunsplit(parts._replace(query=urlencode(query))))


def _account(request: HttpRequest) -> Account | None:
    return request.user if isinstance(request.user, Account) else None


def refused(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    """Audited; shown as a page when the redirection URI is not to be trusted (§4.1.2.1), else sent back."""
    error = refusal.error
    services.refused(
        endpoint="authorize",
        error=str(error.error),
        client_id=str(request.GET.get("client_id", "")),
        ip=client_ip(request),
        account=_account(request),
    )
    if refusal.redirect_uri is None:
        return render(request, "oidc/error.html", {"error": error}, status=error.status_code)
    separator = "&" if "?" in refusal.redirect_uri else "?"
    # The error's parameters as oauthlib encodes them, then `iss` appended (not re-encoded), as before.
    return _redirect(with_iss(refusal.redirect_uri + separator + error.urlencoded))


def login_required(request: HttpRequest) -> HttpResponse:
    """prompt=none without a (fresh enough) login: §3.1.2.6's login_required, for a valid request only
    (an open redirector otherwise); not a refusal of the client, hence not audited, as before."""
    try:
        valid = validate(request)
    except Refusal as refusal:
        return refused(request, refusal)
    answer = {"error": "login_required", **({"state": valid.state} if valid.state else {})}
    separator = "&" if "?" in valid.redirect_uri else "?"
    return _redirect(with_iss(valid.redirect_uri + separator + urlencode(answer)))


def to_the_mire(request: HttpRequest) -> HttpResponse:
    """prompt=login or a stale max_age: the mire's form even for a logged-in browser, then back here
    without them, since the new login satisfies both (keeping them would ask again and again)."""
    query = [(name, value) for name, value in request.GET.items() if name not in {"prompt", "max_age"}]
    back = f"{request.path}?{urlencode(query)}"
    return redirect(f"{reverse('flows:login')}?{urlencode({'next': back, 'prompt': 'login'})}")


def _plain(valid: CodeRequest) -> bool:
    """RFC 9700 §2.1.1: S256 only; a challenge without a method means "plain" (RFC 7636 §4.3)."""
    return bool(valid.code_challenge) and valid.code_challenge_method != "S256"


def _code(request: HttpRequest, valid: CodeRequest, sid: str) -> services.Code:
    session = request.session
    return services.Code(
        code=secrets.token_urlsafe(32),  # 256 random bits; the row keeps its digest only
        application=valid.client.application,
        session_key=str(session.session_key),
        sid=sid,
        authenticated_at=authenticated_at(session),
        ip=client_ip(request),
        redirect_uri=valid.redirect_uri,
        scope=" ".join(valid.scopes),
        nonce=valid.nonce,
        code_challenge=valid.code_challenge or "",
    )


def _sent(request: HttpRequest, valid: CodeRequest, code: services.Code) -> HttpResponse:
    """§4.1.2: the code sent back with `state` and `iss`."""
    continuation.forget(request.session)  # the client has its code: no detour leads back to it now
    answer = [("code", code.code), *([("state", valid.state)] if valid.state else [])]
    return _sent_back(add_params_to_uri(valid.redirect_uri, answer))


def issue(request: HttpRequest, valid: CodeRequest, account: Account) -> HttpResponse:
    """A code for the logged-in account: its row and its audit event (one statement on PostgreSQL)."""
    sid = services.browser_sid(request.session)  # in the session from now on, even if refused next
    if _plain(valid):
        error = errors.InvalidRequestError(description='Unsupported code_challenge_method; use "S256".')
        error.state = valid.state
        return refused(request, Refusal(error, valid.redirect_uri))
    code = _code(request, valid, sid)
    code_rows.record(code, account)
    return _sent(request, valid, code)


# --- The endpoint ---------------------------------------------------------------------------------


def _delegated(request: HttpRequest) -> bool:
    return "create" in _prompt(request) or any(name in request.GET for name in DELEGATED)


def _not_logged_in(request: HttpRequest) -> HttpResponse:
    prompt = _prompt(request)
    if "none" in prompt:
        return login_required(request)
    if "login" in prompt:
        return to_the_mire(request)
    return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))


def login_older_than_max_age(request: HttpRequest) -> bool:
    """`max_age` (OIDC Core §3.1.2.1): seconds since the person last logged in to this session."""
    try:
        max_age = int(request.GET.get("max_age", ""))
    except ValueError:
        return False  # absent or not a number: no limit asked
    logged_in_at = authenticated_at(request.session)
    return logged_in_at is None or (timezone.now() - logged_in_at).total_seconds() > max(max_age, 0)


def answer(request: HttpRequest) -> HttpResponse | None:
    """The answer to an authorization request, or None for what the toolkit's view answers (module docstring)."""
    if _delegated(request):
        return None
    # In the toolkit's order: the login (loading the account), max_age, the checks, prompt.
    account = _account(request)
    if account is None:
        return _not_logged_in(request)
    if login_older_than_max_age(request):
        # As if not logged in: prompt=none gets login_required, anything else the mire's form.
        return login_required(request) if "none" in _prompt(request) else to_the_mire(request)
    try:
        valid = validate(request)
    except Refusal as refusal:
        return refused(request, refusal)
    if "login" in _prompt(request):
        return to_the_mire(request)
    # A client with a consent page (none of Trousseau's: register_client skips it) is the toolkit's.
    return issue(request, valid, account) if valid.client.application.skip_authorization else None
