"""`{% language_switch suffix %}`: the header's language switch, rendered once per language.

base.html places the switch twice (the header's tools and the phone menu, includes/language_switch.html says
why). Rendering it (the languages in their own words, each compared with the current one, the form's URL) was
about a third of the mire's rendering, for an HTML that depends only on the current language and on whether
the page is the staff console's, but for three values: the `suffix` of its ids, the CSRF token and the `next`
path. So the include is rendered once per (language, console or not) with a marker in place of each of those
three, kept for the life of the process, and each call puts the page's values, escaped as the template would,
in place of the markers: the same HTML as the include, byte for byte.
"""

from dataclasses import dataclass
from typing import Any

from django import template
from django.conf import settings
from django.template import Engine, Template
from django.template.context import Context
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

# NUL is in no language name, URL or token, and HTML escaping leaves it alone: only our markers carry it.
_SUFFIX = "\x00suffix\x00"
_CSRF_TOKEN = "\x00csrf\x00"  # noqa: S105 - a marker for the token, not one
_NEXT_PATH = "\x00next\x00"

_rendered: dict[tuple[Any, ...], str] = {}


@dataclass(frozen=True)
class _Match:
    namespace: str


@dataclass(frozen=True)
class _MarkedRequest:
    """What the include reads of the request: the page's path (a marker here) and the console's namespace."""

    resolver_match: _Match

    def get_full_path(self) -> str:
        return _NEXT_PATH


def _include(context: Context) -> Template:
    engine = context.template.engine if context.template is not None else Engine.get_default()
    return engine.get_template("includes/language_switch.html")


def _skeleton(context: Context, namespace: str) -> str:
    key = (get_language(), namespace == "console", tuple(code for code, _name in settings.LANGUAGES))
    rendered = _rendered.get(key)
    if rendered is None:
        marked = {"suffix": _SUFFIX, "csrf_token": _CSRF_TOKEN, "request": _MarkedRequest(_Match(namespace))}
        with context.push(marked):
            rendered = str(_include(context).render(context))
        if not settings.DEBUG:  # in development, an edited include shows at the next page
            _rendered[key] = rendered
    return rendered


@register.simple_tag(takes_context=True)
def language_switch(context: Context, suffix: str = "") -> SafeString:
    request = context["request"]
    csrf_token = context.get("csrf_token")
    if not csrf_token or str(csrf_token) == "NOTPROVIDED":  # no form field then: the include as it is
        with context.push(suffix=suffix):
            html = str(_include(context).render(context))
    else:
        match = request.resolver_match
        html = (
            _skeleton(context, match.namespace if match else "")
            .replace(_SUFFIX, str(conditional_escape(suffix)))
            .replace(_CSRF_TOKEN, str(conditional_escape(csrf_token)))
            .replace(_NEXT_PATH, str(conditional_escape(request.get_full_path())))
        )
    # Every piece was escaped: by the include's rendering, and the page's values just above.
    return mark_safe(html)  # noqa: S308  # nosec B308 B703
