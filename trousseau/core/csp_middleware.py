"""django-csp's middleware, with each distinct policy built once per process instead of at every response.

django-csp rebuilds the header from the settings, and from a view's `_csp_update` / `_csp_replace`, for
every response: about 75 µs, twice that of some whole protocol requests of a morning journey (issue
#21). The policy depends only on those inputs and on whether the page asked for a nonce, so it is built
once per distinct input, with a marker where the nonce goes, and the response's own nonce is put in.
What the header says, when it is set, and the guard against reading the nonce after the header was
written are django-csp's.
"""

from __future__ import annotations

import http
import secrets

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.response import HttpResponseBase

# Cannot occur in a nonce (base64) nor in a policy of ours.
_NONCE_MARK = "nonce-mark-" + secrets.token_hex(8)
# Distinct inputs are the settings' policy plus the origins of a few services' forms: bounded, but
# kept bounded whatever a view passes.
_MOST_POLICIES = 512
_policies: dict[tuple[object, ...], str] = {}


@receiver(setting_changed)
def _forget_policies(*, setting: str, **kwargs: object) -> None:
    """The settings' policy is part of every kept one: a test that changes it starts afresh."""
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _policies.clear()


def _excluded(request: HttpRequest, setting: str) -> bool:
    prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
    return request.path_info.startswith(tuple(prefixes))


class CSPMiddleware(DjangoCSPMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        debug_page = response.status_code in (http.HTTPStatus.INTERNAL_SERVER_ERROR, http.HTTPStatus.NOT_FOUND)
        if debug_page and settings.DEBUG:
            return response
        headers = (
            (False, HEADER, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
            (True, HEADER_REPORT_ONLY, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
        )
        for report_only, header, exempt, setting in headers:
            policy = self._policy(request, response, report_only=report_only)
            wanted = policy and header not in response and not getattr(response, exempt, False)
            if wanted and not _excluded(request, setting):
                response[header] = policy
        if getattr(request, "_csp_nonce", None) is None:
            # django-csp's guard: a nonce asked for after the header was written would be in no policy.
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response

    def _policy(self, request: HttpRequest, response: HttpResponseBase, *, report_only: bool) -> str:
        parts = self.get_policy_parts(request=request, response=response, report_only=report_only)
        # repr() of the views' small dicts of lists: equal inputs, equal keys.
        key = (report_only, repr(parts.config), repr(parts.update), repr(parts.replace), parts.nonce is not None)
        policy = _policies.get(key)
        if policy is None:
            policy = build_policy(
                config=parts.config,
                update=parts.update,
                replace=parts.replace,
                nonce=_NONCE_MARK if parts.nonce else None,
                report_only=report_only,
            )
            if len(_policies) < _MOST_POLICIES:
                _policies[key] = policy
        return policy.replace(_NONCE_MARK, parts.nonce) if parts.nonce else policy
