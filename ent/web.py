"""The demo services as WSGI applications.

`Site` is what they share (pages, static files, cookies, CSRF, security headers), with the blocks that
show a person's attributes. The SAML service providers (the ENT, the téléservices-like site) are
`ent.saml_site.Ent`; the Pronote-like site, an OpenID Connect relying party, is `ent.pronote.Pronote`.
"""

from __future__ import annotations

import hmac
import html
import importlib.util
import logging
import mimetypes
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from ent import attributes
from ent.config import Config
from ent.pages import Markup, join, render
from ent.store import Store

log = logging.getLogger("ent")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
MAX_BODY = 512 * 1024
STATIC = Path(__file__).resolve().parent / "static"


def _dsfr_dist() -> Path | None:
    """The DSFR's built CSS and fonts, from the django-dsfr package (found, never imported)."""
    spec = importlib.util.find_spec("dsfr")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "static" / "dsfr" / "dist"


@dataclass
class Request:
    method: str
    path: str
    query_string: str
    query: dict[str, str]
    form: dict[str, str]
    cookies: dict[str, str]
    csrf: str = ""

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
        query_string = environ.get("QUERY_STRING", "")
        form: dict[str, str] = {}
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if method == "POST" and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_BODY)
            body = environ["wsgi.input"].read(length).decode("utf-8", "replace")
            form = dict(parse_qsl(body, keep_blank_values=True, max_num_fields=50))
        cookies = {}
        for part in environ.get("HTTP_COOKIE", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name and name not in cookies:
                cookies[name] = value
        raw_path = environ.get("PATH_INFO", "/") or "/"
        return cls(
            method=method,
            path=raw_path.encode("latin-1").decode("utf-8", "replace"),
            query_string=query_string,
            query=dict(parse_qsl(query_string, keep_blank_values=True, max_num_fields=50)),
            form=form,
            cookies=cookies,
        )


@dataclass
class Response:
    body: bytes = b""
    status: str = "200 OK"
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    # Browsers apply CSP form-action to every redirect after a form is sent. A logout goes through the
    # IdP and on to every other service provider of the session (their origins are not known here),
    # and an auto-posted SAML message may be redirected likewise: those pages set no form-action.
    limit_form_action: bool = True

    @classmethod
    def redirect(cls, location: str, status: str = "303 See Other") -> Response:
        return cls(status=status, headers=[("Location", location)])


class Site:
    """What every demo service shares: the WSGI call, pages, static files, cookies, CSRF, security headers."""

    # POSTs that come from the IdP (through the browser or from its server), not from this site's forms.
    csrf_exempt: frozenset[str] = frozenset()

    def __init__(self, config: Config) -> None:
        self.config = config
        self.store = Store(config.session_seconds)
        self.dsfr = _dsfr_dist()

    def routes(self) -> dict[str, Callable[[Request], Response]]:
        raise NotImplementedError

    # --- WSGI ---------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request.from_environ(environ)
        csrf = request.cookies.get(self.config.cookie("csrf"), "")
        new_csrf = "" if len(csrf) == 43 else secrets.token_urlsafe(32)  # noqa: PLR2004 - token_urlsafe(32)
        request.csrf = new_csrf or csrf
        try:
            response = self.dispatch(request)
        except Exception:
            log.exception("%s error on %s %s", self.config.mode, request.method, request.path)
            response = self.error_page(
                "Erreur", "Une erreur est survenue. Réessayez dans quelques instants.", "500 Internal Server Error"
            )
        headers = [
            ("Content-Type", response.content_type),
            *self._security_headers(request, limit_form_action=response.limit_form_action),
            *response.headers,
        ]
        if new_csrf:
            headers.append(("Set-Cookie", self._cookie("csrf", new_csrf)))
        start_response(response.status, headers)
        return [response.body]

    def dispatch(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path.startswith("/static/"):
            return self.static(path)
        if path == "/sante":  # what `python -m ent wait` polls: up, whether Trousseau is or not
            return Response(b"ok", content_type="text/plain; charset=utf-8")
        view = self.routes().get(path)
        if view is None:
            return self.error_page("Page introuvable", "Cette page n'existe pas.", "404 Not Found")
        if method not in {"GET", "HEAD", "POST"}:
            return Response(b"", "405 Method Not Allowed", headers=[("Allow", "GET, POST")])
        if method == "POST" and path not in self.csrf_exempt and not self._csrf_ok(request):
            return self.error_page(
                "Formulaire expiré", "Le formulaire a expiré. Revenez au portail et recommencez.", "403 Forbidden"
            )
        return view(request)

    # --- Pages --------------------------------------------------------------------------------

    def page(self, title: str, content: Markup, *, status: str = "200 OK", tools: Markup | None = None) -> Response:
        brand = self.config.brand
        body = render(
            "layout",
            title=title,
            ent_name=self.config.name,
            tagline=brand.tagline,
            footer=brand.footer,
            content=content,
            tools=tools or Markup(""),
        )
        return Response(body.encode("utf-8"), status)

    def home_page(self, request: Request, person: attributes.Identity, content: Markup) -> Response:
        """The logged-in home: "Bonjour …" and a "Se déconnecter" button."""
        response = self.page(
            f"Bonjour {person.first_name} {person.last_name}", content, tools=self._logout_tool(request)
        )
        # "Se déconnecter" leaves through the identity provider, and from there to the other services.
        response.limit_form_action = False
        return response

    def error_page(self, heading: str, message: str, status: str) -> Response:
        return self.page(heading, render("error", heading=heading, message=message), status=status)

    def logged_out_page(self, *, confirmed: bool, forget: Markup | None = None) -> Response:
        """After "Se déconnecter": `confirmed` when the IdP said the SSO session is over too."""
        leaving = escape_attr(self.config.brand.leaving)
        if confirmed:
            message = Markup(f"<p>Vous êtes déconnecté(e) {leaving} et du service d'authentification EduConnect.</p>")
        else:
            message = Markup(
                f'<div class="fr-alert fr-alert--warning fr-mb-3w"><p>Vous êtes déconnecté(e) {leaving}, '
                "mais le service d'authentification n'a pas confirmé la fin de votre session. "
                "Sur un ordinateur partagé, fermez le navigateur.</p></div>"
            )
        back = "Revenir au portail" if self.config.mode == "ent" else "Se reconnecter"
        return self.page("Déconnexion", render("logged_out", message=message, forget=forget or Markup(""), back=back))

    def static(self, path: str) -> Response:
        if path.startswith("/static/dsfr/") and self.dsfr is not None:
            base, rest = self.dsfr, path.removeprefix("/static/dsfr/")
        else:
            base, rest = STATIC, path.removeprefix("/static/ent/")
        target = (base / rest).resolve()
        if not target.is_relative_to(base.resolve()) or not target.is_file():
            return Response(b"Not found", "404 Not Found", "text/plain; charset=utf-8")
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind.endswith("javascript"):
            kind += "; charset=utf-8"
        return Response(target.read_bytes(), content_type=kind, headers=[("Cache-Control", "public, max-age=3600")])

    # --- Shared helpers -----------------------------------------------------------------------

    def _session(self, request: Request) -> Any:
        return self.store.session(request.cookies.get(self.config.cookie("session")))

    def _csrf_ok(self, request: Request) -> bool:
        sent, kept = request.form.get("csrf", ""), request.cookies.get(self.config.cookie("csrf"), "")
        return bool(sent) and bool(kept) and hmac.compare_digest(sent, kept)

    def _cookie(self, name: str, value: str, max_age: int | None = None) -> str:
        parts = [f"{self.config.cookie(name)}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
            if max_age == 0:
                parts.append("Expires=Thu, 01 Jan 1970 00:00:00 GMT")
        if self.config.https:
            parts.append("Secure")
        return "; ".join(parts)

    def _security_headers(self, request: Request, *, limit_form_action: bool) -> list[tuple[str, str]]:
        idp = self.config.idp_origin
        # Front-channel logout may come in a frame of the IdP's logout page.
        ancestors = idp if request.path == "/auth/saml/slo" else "'none'"
        form_action = f"form-action 'self' {idp}; " if limit_form_action else ""
        csp = (
            "default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self' data:; script-src 'self'; "
            f"{form_action}frame-ancestors {ancestors}; base-uri 'none'"
        )
        headers = [
            ("Content-Security-Policy", csp),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
        ]
        if not request.path.startswith("/static/"):
            headers.append(("Cache-Control", "no-store"))
        return headers

    def _logout_tool(self, request: Request) -> Markup:
        return Markup(
            '<div class="fr-header__tools-links"><form method="post" action="/deconnexion">'
            f'<input type="hidden" name="csrf" value="{escape_attr(request.csrf)}">'
            '<button class="fr-btn fr-btn--tertiary-no-outline fr-btn--sm" type="submit">Se déconnecter</button>'
            "</form></div>"
        )


def profile_facts(person: attributes.Identity) -> list[Markup]:
    """A pupil's school and level, as `<dt>`/`<dd>` pairs."""
    facts = []
    if person.uai:
        facts.append(render_fact("Établissement (UAI)", person.uai, "ent-uai"))
    if person.level_code:
        facts.append(render_fact("Niveau", f"{person.level} ({person.level_code})", "ent-level"))
    return facts


def home_parts(person: attributes.Identity, csrf: str) -> dict[str, Markup]:
    """What every service's home page shows alike: the person's profile card and the logout button."""
    return {
        "profile": render("profile", profile=person.profile, school=join(profile_facts(person))),
        "logout": render("logout", csrf=csrf),
    }


def children_block(person: attributes.Identity, *, released: bool) -> Markup:
    """A guardian's children table; `released`: whether this service may receive the list at all."""
    if not person.is_guardian:
        return Markup("")
    if not released:
        return Markup(
            '<p id="ent-no-children">Ce service ne reçoit pas la liste de vos enfants : '
            "il ne connaît que leurs établissements.</p>"
        )
    if not person.children:
        return Markup('<p id="ent-children">Aucun enfant communiqué par le service d\'authentification.</p>')
    rows = join([Markup(render_row([child.last_name, child.first_name, child.uai])) for child in person.children])
    return render("children", rows=rows)


def schools_list(person: attributes.Identity) -> Markup:
    items = [Markup(f"<li>{escape_attr(uai)}</li>") for uai in person.school_uais]
    if not items:
        return Markup('<p id="ent-schools">Aucun établissement communiqué.</p>')
    return Markup(f'<ul id="ent-schools">{"".join(items)}</ul>')


def render_fact(term: str, value: str, ident: str = "") -> Markup:
    dd_id = f' id="{escape_attr(ident)}"' if ident else ""
    return Markup(f"      <dt>{escape_attr(term)}</dt><dd{dd_id}>{escape_attr(value)}</dd>")


def render_row(cells: list[str]) -> str:
    return "      <tr>" + "".join(f"<td>{escape_attr(cell)}</td>" for cell in cells) + "</tr>"


def escape_attr(value: str) -> str:
    return html.escape(value, quote=True)
