"""The mire's page as it is first shown, rendered once per language and kept with markers.

Rendering signin/login.html (with base.html: about thirty translations, seven URLs, six static paths, the
form's fields) was most of the time of a GET of the mire, for an HTML that, when the form is shown empty to
someone not logged in and without a message, depends only on the language and on which of `next`, `action`
and `sso` the page has, but for a few values: the CSRF token, the CSP nonce, the page's path (the language
switch's `next`), and `next`, `action` and the single sign-on's `csrf_token` themselves. So that page is
rendered once per (language, form class, which of them it has, the URL namespace) with a marker in place of
each of those values, kept for the life of the process, and each GET puts its values in place of the markers,
escaped as the template escapes them: the same HTML as the template's, byte for byte (tests/signin/
test_mire_page.py), as core/templatetags/language_switch.py does for the header's language switch.

Any other page (a form sent back with its values or errors, a message to show, someone logged in) is the
template's as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.defaultfilters import urlencode
from django.template.loader import render_to_string
from django.urls import ResolverMatch
from django.utils.html import conditional_escape
from django.utils.translation import get_language

TEMPLATE = "signin/login.html"

# NUL is in no translation, URL or token, and HTML escaping leaves it alone: only our markers carry it.
# `next` also appears URL-encoded (the FranceConnect link), where its marker reads %00next%00.
_CSRF_TOKEN = "\x00csrf\x00"  # noqa: S105 - a marker for the token, not one
_NONCE = "\x00nonce\x00"
_PATH = "\x00path\x00"
_NEXT = "\x00next\x00"
_NEXT_ENCODED = str(urlencode(_NEXT))
_ACTION = "\x00action\x00"
_SSO_CSRF = "\x00sso-csrf\x00"
_MARKERS = re.compile(
    "|".join(re.escape(m) for m in (_CSRF_TOKEN, _NONCE, _PATH, _NEXT, _NEXT_ENCODED, _ACTION, _SSO_CSRF))
)

_kept: dict[tuple[Any, ...], str] = {}


@dataclass(frozen=True)
class _MarkedRequest:
    """What the templates read of the request: the CSP nonce, the page's path and its URL namespace."""

    csp_nonce: str
    resolver_match: ResolverMatch | None

    def get_full_path(self) -> str:
        return _PATH


def render_page(request: HttpRequest, context: dict[str, Any], *, status: int) -> HttpResponse:
    """The mire with `context` (form, error, next, and optionally action and sso), as `render` gives it."""
    html = _from_kept(request, context) if status == 200 else None  # noqa: PLR2004 - a plain page, no refusal
    if html is None:
        return render(request, TEMPLATE, context, status=status)
    return HttpResponse(html, status=status)


def _from_kept(request: HttpRequest, context: Mapping[str, Any]) -> str | None:
    """The page from its kept rendering, or None when it is not one of those kept (see the docstring)."""
    form = context["form"]
    sso = context.get("sso")
    if (
        settings.DEBUG  # in development, an edited template shows at the next page
        or not isinstance(form, Form)
        or form.is_bound
        or form.initial  # the kept page shows the class's own initial values
        or form.prefix
        or context.get("error")
        or set(context) - {"form", "error", "next", "action", "sso"}
        or (sso and set(sso) != {"csrf"})
        or request.user.is_authenticated
        or len(
            get_messages(request)
        )  # counted, not read: they stay for the next page, as {% if messages %} leaves them
    ):
        return None
    values: dict[str, Callable[[], str]] = {
        _CSRF_TOKEN: lambda: get_token(request),  # as the template's context: one token for the page
        _NONCE: lambda: str(getattr(request, "csp_nonce", "")),  # read: django-csp then sends it in the header
        _PATH: request.get_full_path,
        _NEXT: lambda: str(context.get("next") or ""),
        _ACTION: lambda: str(context.get("action") or ""),
        _SSO_CSRF: lambda: str(sso["csrf"] if sso else ""),
    }
    filled = {marker: str(conditional_escape(value())) for marker, value in values.items()}
    filled[_NEXT_ENCODED] = str(conditional_escape(urlencode(str(context.get("next") or ""))))
    # One pass: a value that happens to hold a marker's text is not replaced in its turn.
    return _MARKERS.sub(lambda found: filled[found.group(0)], _skeleton(request, context, form))


def _skeleton(request: HttpRequest, context: Mapping[str, Any], form: Form) -> str:
    match = request.resolver_match
    has = tuple(bool(context.get(name)) for name in ("next", "action", "sso"))
    key = (get_language(), type(form), has, match.namespace if match else "", tuple(settings.LANGUAGES))
    rendered = _kept.get(key)
    if rendered is None:
        has_next, has_action, has_sso = has
        marked: dict[str, Any] = {
            "form": form,
            "error": "",
            "next": _NEXT if has_next else "",
            # What the context processors would give, for the page as kept: nobody logged in, no message.
            "request": _MarkedRequest(_NONCE, match),
            "csrf_token": _CSRF_TOKEN,
            "user": AnonymousUser(),
            "messages": [],
        }
        if has_action:
            marked["action"] = _ACTION
        if has_sso:
            marked["sso"] = {"csrf": _SSO_CSRF}
        rendered = render_to_string(TEMPLATE, marked, request)
        _kept[key] = rendered
    return rendered
