"""The pages single sign-on sends through the browser: the auto-POST page that carries SAML messages to a
service provider, and Shibboleth's local-storage pages (login.py).

They are tiny, fixed, and on every login: written with `format_html`-style escaping from one string
each rather than through the template engine and its context processors. Every value is escaped
(`escape`); the texts are gettext's, in the request's language.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _

# Clients read the FIRST form of these pages (research/educonnect.md §4.3): no header, no other form.
_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="origin">
  <title>{title} — Trousseau</title>
</head>
<body>
{body}
  <script src="{script}" nonce="{nonce}"></script>
</body>
</html>
"""
_NOSCRIPT = """<noscript>
      <p>{explain}</p>
      <button type="submit">{proceed}</button>
    </noscript>"""


def _inputs(fields: list[tuple[str, str]]) -> str:
    return "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">\n    ' for name, value in fields
    )


def _page(request: HttpRequest, title: str, body: str, script: str) -> HttpResponse:
    html = _PAGE.format(
        lang=escape(get_language() or "fr"),
        title=escape(title),
        body=body,
        script=escape(static(script)),
        nonce=escape(str(getattr(request, "csp_nonce", ""))),
    )
    response = HttpResponse(html)
    response["Cache-Control"] = "no-store"
    return response


def _noscript() -> str:
    return _NOSCRIPT.format(
        explain=escape(_("Votre navigateur n'exécute pas JavaScript : cliquez sur le bouton pour continuer.")),
        proceed=escape(_("Continuer")),
    )


def post_page(request: HttpRequest, action: str, fields: list[tuple[str, str]]) -> HttpResponse:
    """One form (the page's first: clients read it), an absolute action taken from metadata, sent by a static script."""
    body = (
        f'  <form method="post" action="{escape(action)}" data-autopost>\n    {_inputs(fields)}{_noscript()}\n'
        f"  </form>\n  <p>{escape(_('Connexion au service en cours…'))}</p>"
    )
    response = _page(request, _("Connexion au service"), body, "saml/autopost.js")
    # The form leaves for the SP, whose endpoint may redirect further (browsers apply form-action to
    # those redirects): no form-action limit on this page, which holds no user input and no inline script.
    response._csp_replace = {"form-action": None}  # type: ignore[attr-defined]  # noqa: SLF001
    return response


def storage_page(request: HttpRequest, action: str, fields: list[tuple[str, str]], *, write: bool) -> HttpResponse:
    """Shibboleth's client-storage read or write page: its fields, `_eventId_proceed`, a script that sends it."""
    body = (
        f"  <main>\n    <h1>{escape(_('Connexion'))}</h1>\n"
        f'    <form method="post" action="{escape(action)}" data-storage="{"write" if write else "read"}">\n'
        f'    {_inputs(fields)}<input type="hidden" name="_eventId_proceed" value="">\n    {_noscript()}\n'
        f"    </form>\n    <p>{escape(_('Connexion au service en cours…'))}</p>\n  </main>"
    )
    return _page(request, _("Connexion"), body, "saml/storage.js")
