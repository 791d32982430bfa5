"""Thin views: django-oauth-toolkit's endpoints at ÉduConnect's paths, with Trousseau's hooks.

The hooks: the session key and client address reach the validator with the authorization request,
every authorization response carries `iss` (RFC 9207, errors too), refusals are audited, and logout
of a logged-in browser goes through sign-in's logout (/idp/profile/Logout), which ends every protocol's
sessions, the clients' by back-channel (logout.PARTICIPANT).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET
from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.views import AuthorizationView, RPInitiatedLogoutView
from oauth2_provider.views import TokenView as BaseTokenView
from oauthlib.common import add_params_to_uri

from trousseau.accounts.models import Account
from trousseau.accounts.sessions import authenticated_at, session_close
from trousseau.core import continuation
from trousseau.core.http import client_ip
from trousseau.federation.oidc import authorize as code_flow
from trousseau.federation.oidc import logout, metadata, services, tokens
from trousseau.federation.oidc.authorize import login_older_than_max_age, with_iss
from trousseau.federation.oidc.validator import AUTHENTICATED_AT, CLIENT_IP, SESSION_KEY, SID


def _client_id(request: HttpRequest) -> str:
    """The client a token request names, in its form or in its Basic credentials (for the audit trail)."""
    if request.POST.get("client_id"):
        return str(request.POST["client_id"])
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        return unquote(base64.b64decode(value).decode().partition(":")[0])
    except (binascii.Error, UnicodeDecodeError):
        return ""


def _account(request: HttpRequest) -> Account | None:
    return request.user if isinstance(request.user, Account) else None


@require_GET
def discovery(request: HttpRequest) -> HttpResponse:
    response = JsonResponse(metadata.discovery_document())
    response["Access-Control-Allow-Origin"] = "*"
    return response


class AuthorizeView(AuthorizationView):  # type: ignore[misc]
    """What authorize.py leaves to the toolkit (prompt=create, `claims`, `resource`, a consent page)."""

    template_name = "oidc/error.html"  # what a request that cannot be sent back to its client shows
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if login_older_than_max_age(request):
            # As if not logged in: prompt=none gets login_required, anything else the mire's form.
            if "none" in request.GET.get("prompt", "").split():
                return self.handle_no_permission()  # type: ignore[no-any-return]
            return self.handle_prompt_login()
        return super().get(request, *args, **kwargs)  # type: ignore[no-any-return]

    def handle_prompt_login(self) -> HttpResponse:
        """prompt=login or a stale max_age: the mire's form even for a logged-in browser, then back here
        without them, since the new login satisfies both (keeping them would ask again and again)."""
        query = [(name, value) for name, value in self.request.GET.items() if name not in {"prompt", "max_age"}]
        back = f"{self.request.path}?{urlencode(query)}"
        return redirect(f"{reverse('flows:login')}?{urlencode({'next': back, 'prompt': 'login'})}")

    def create_authorization_response(
        self,
        request: HttpRequest,
        scopes: str,
        credentials: dict[str, Any],
        allow: bool,  # noqa: FBT001 - the library's signature
    ) -> Any:
        credentials = {
            **credentials,
            SESSION_KEY: request.session.session_key,
            SID: services.browser_sid(request.session),
            AUTHENTICATED_AT: authenticated_at(request.session),
            CLIENT_IP: client_ip(request),
        }
        answer = super().create_authorization_response(request, scopes, credentials, allow)
        continuation.forget(request.session)  # the client has its code: no detour leads back to it now
        return answer

    def redirect(self, redirect_to: str, application: Any) -> HttpResponse:
        return super().redirect(with_iss(redirect_to), application)  # type: ignore[no-any-return]

    def error_response(self, error: Any, application: Any, **kwargs: Any) -> HttpResponse:
        client_id = str(self.request.GET.get("client_id", ""))
        code = str(getattr(error.oauthlib_error, "error", "invalid_request"))
        services.refused(
            endpoint="authorize",
            error=code,
            client_id=client_id,
            ip=client_ip(self.request),
            account=_account(self.request),
        )
        return super().error_response(error, application, **kwargs)  # type: ignore[no-any-return]


_TOOLKIT_AUTHORIZE = AuthorizeView.as_view()


@require_GET
def authorize(request: HttpRequest) -> HttpResponseBase:
    """The code flow written out (authorize.py); what it leaves, the toolkit's view."""
    answer = code_flow.answer(request)
    return answer if answer is not None else _TOOLKIT_AUTHORIZE(request)


class TokenView(BaseTokenView):  # type: ignore[misc]
    """The code grant is tokens.py's (RFC 6749 §4.1.3 written out); refresh tokens (and the refusal of
    any other grant) stay django-oauth-toolkit's."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.POST.get("grant_type") == "authorization_code":
            return tokens.exchange_code(request)
        # One transaction for the whole exchange: the code's claim, the tokens, the grant's deletion
        # and any refusal commit together (one wait for the disk instead of four), and a concurrent
        # replay of the code waits for the claim's row until the tokens it must revoke exist.
        with transaction.atomic():
            return self._answer(request, *args, **kwargs)

    def _answer(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().post(request, *args, **kwargs)
        if response.status_code != 200:  # noqa: PLR2004 - HTTP OK
            try:
                error = str(json.loads(response.content).get("error", ""))
            except (ValueError, AttributeError):
                error = ""
            services.refused(endpoint="token", error=error, client_id=_client_id(request), ip=client_ip(request))
        return response


class EndSessionView(RPInitiatedLogoutView):  # type: ignore[misc]
    """RP-initiated logout; also takes the ID token as a Bearer header, as some ÉduConnect clients send it."""

    template_name = "oidc/logout_confirm.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if "id_token_hint" not in request.GET and scheme.lower() == "bearer" and token:
            params = request.GET.copy()
            params["id_token_hint"] = token.strip()
            request.GET = params  # type: ignore[assignment]
        response: HttpResponseBase = super().get(request, *args, **kwargs)
        target = request.GET.get("post_logout_redirect_uri")
        if response.status_code == 200 and target:  # noqa: PLR2004 - the confirmation page
            # Its form is answered by a redirect to the (checked) client: CSP form-action must allow it.
            parts = urlsplit(target)
            response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}  # type: ignore[attr-defined]  # noqa: SLF001
        return response

    def do_logout(
        self,
        application: Any = None,
        post_logout_redirect_uri: str | None = None,
        state: str | None = None,
        token_user: Any = None,
    ) -> HttpResponse:
        target = post_logout_redirect_uri
        if target and state:
            target = add_params_to_uri(target, [("state", state)])
        if isinstance(self.request.user, Account):
            # The SSO session ends everywhere (SAML SPs too), then the browser comes back to `target`.
            logout.leave_after_logout(self.request, target)
            return redirect("idp_logout")
        session_close(self.request)
        if target:
            response: HttpResponse = OAuth2ResponseRedirect(target, application.get_allowed_schemes())
            return response
        return redirect("flows:login")

    def error_response(self, error: Any) -> HttpResponse:
        client_id = str(self.request.GET.get("client_id") or self.request.POST.get("client_id") or "")
        services.refused(
            endpoint="logout",
            error=str(error.error),
            client_id=client_id,
            ip=client_ip(self.request),
            account=_account(self.request),
        )
        return render(self.request, "oidc/error.html", {"error": error, "logout": True}, status=error.status_code)
