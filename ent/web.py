"""The demo services as WSGI applications.

`Site` is what they share (pages, static files, cookies, CSRF, security headers); `Ent` is a SAML
service provider: the ENT (the portal: profile, level, "Mémoriser ce choix"; SSO, home, logout) or,
in mode "teleservices", the téléservices-like site (straight to EduConnect, no portal). The
Pronote-like site, an OpenID Connect relying party, is `ent.pronote.Pronote`.
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
from ent.idp import POST, REDIRECT, MetadataError
from ent.pages import Markup, join, render
from ent.saml import Login, LogoutAnswered, Outgoing, Redirect, Refused, ServiceProvider
from ent.store import Store

log = logging.getLogger("ent")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
MAX_BODY = 512 * 1024
MEMO_SECONDS = 395 * 24 * 3600  # 13 months, the CNIL's ceiling for a cookie's life
STATIC = Path(__file__).resolve().parent / "static"

EDUCONNECT = "educonnect"
PROFILES = {
    EDUCONNECT: "Élève ou responsable légal avec EduConnect",
    "sans-educonnect": "Elève ou responsable légal sans EduConnect",
    "enseignant": "Enseignant",
    "personnel": "Personnel non enseignant",
    "correspondant": "Correspondant ENT",
    "partenaire": "Partenaire ou Invité",
}
LEVELS = {"ecole": "École", "college": "Collège", "lycee": "Lycée"}
MEMORISE = {
    "non": "Non (je me connecte depuis un lieu public)",
    "oui": "Oui (je me connecte depuis mon ordinateur)",
}


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

    def error_page(self, heading: str, message: str, status: str) -> Response:
        return self.page(heading, render("error", heading=heading, message=message), status=status)

    def logged_out_page(self, *, confirmed: bool, forget: Markup | None = None) -> Response:
        """After "Se déconnecter": `confirmed` when the IdP said the SSO session is over too."""
        leaving = _attr(self.config.brand.leaving)
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
            f'<input type="hidden" name="csrf" value="{_attr(request.csrf)}">'
            '<button class="fr-btn fr-btn--tertiary-no-outline fr-btn--sm" type="submit">Se déconnecter</button>'
            "</form></div>"
        )


class Ent(Site):
    """A SAML service provider: the ENT (mode "ent", with the seeds' portal) or the téléservices-like site."""

    csrf_exempt = frozenset({"/auth/saml/acs", "/auth/saml/slo"})

    def __init__(self, config: Config, sp: ServiceProvider | None = None) -> None:
        super().__init__(config)
        self.sp = sp or ServiceProvider(config)
        # The ENT asks for a profile and a level first; the téléservices go straight to EduConnect.
        self.portal_choice = config.mode == "ent"

    def routes(self) -> dict[str, Callable[[Request], Response]]:
        routes: dict[str, Callable[[Request], Response]] = {
            "/": self.portal if self.portal_choice else self.straight_to_sso,
            "/accueil": self.home,
            "/deconnexion": self.logout,
            "/deconnecte": self.logged_out,
            "/auth/saml/metadata": self.metadata,
            "/auth/saml/acs": self.acs,
            "/auth/saml/slo": self.slo,
        }
        if self.portal_choice:
            routes |= {"/niveau": self.level, "/oublier": self.forget}
        return routes

    def dispatch(self, request: Request) -> Response:
        profile = request.path.removeprefix("/profil/").rstrip("/")
        if self.portal_choice and request.path.startswith("/profil/") and profile in PROFILES:
            return self.not_implemented(profile)
        return super().dispatch(request)

    # --- The portal ---------------------------------------------------------------------------

    def portal(self, request: Request) -> Response:
        if self._session(request) is not None:
            return Response.redirect("/accueil", "302 Found")
        if request.method == "POST":
            profile = request.form.get("profil", "")
            if profile == EDUCONNECT:
                return Response.redirect("/niveau")
            if profile in PROFILES:
                return Response.redirect(f"/profil/{profile}")
            return self._portal_page(request, error="Choisissez un profil.", status="400 Bad Request")
        memo = self._memo(request)
        if memo is not None:
            return self.start_sso(level=memo)
        return self._portal_page(request)

    def straight_to_sso(self, request: Request) -> Response:
        """The téléservices' entrance: no portal, EduConnect at once (or the home, once logged in)."""
        if self._session(request) is not None:
            return Response.redirect("/accueil", "302 Found")
        return self.start_sso(level="")

    def _portal_page(self, request: Request, *, error: str = "", status: str = "200 OK") -> Response:
        radios = join([self._radio("profil", slug, label, checked=False) for slug, label in PROFILES.items()])
        content = render(
            "portal",
            ent_name=self.config.name,
            csrf=request.csrf,
            profiles=radios,
            error=self._error_summary(error),
            fieldset_error=" fr-fieldset--error" if error else "",
            described=" profil-error" if error else "",
            group=Markup(' role="group"') if error else "",
            field_error=Markup(f'<p class="fr-error-text fr-fieldset__element" id="profil-error">{error}</p>')
            if error
            else "",
        )
        return self.page("Choix du profil", content, status=status)

    def level(self, request: Request) -> Response:
        if self._session(request) is not None:
            return Response.redirect("/accueil", "302 Found")
        if request.method == "POST":
            level = request.form.get("niveau", "")
            memorise = request.form.get("memoriser", "non")
            if level not in LEVELS or memorise not in MEMORISE:
                return self._level_page(
                    request, level, memorise, error="Choisissez votre niveau : école, collège ou lycée."
                )
            response = self.start_sso(level=level)
            if memorise == "oui":
                response.headers.append(("Set-Cookie", self._cookie("choix", f"{EDUCONNECT}.{level}", MEMO_SECONDS)))
            else:
                response.headers.append(("Set-Cookie", self._cookie("choix", "", 0)))
            return response
        return self._level_page(request, "", "non")

    def _level_page(self, request: Request, level: str, memorise: str, *, error: str = "") -> Response:
        levels = join([self._radio("niveau", slug, label, checked=slug == level) for slug, label in LEVELS.items()])
        memo = join(
            [self._radio("memoriser", slug, label, checked=slug == memorise) for slug, label in MEMORISE.items()]
        )
        content = render(
            "level",
            csrf=request.csrf,
            levels=levels,
            memorise=memo,
            error=self._error_summary(error),
            level_error_class=" fr-fieldset--error" if error else "",
            level_described=" niveau-error" if error else "",
            level_group=Markup(' role="group"') if error else "",
            level_error=Markup(f'<p class="fr-error-text fr-fieldset__element" id="niveau-error">{error}</p>')
            if error
            else "",
        )
        return self.page("Choix du niveau", content, status="400 Bad Request" if error else "200 OK")

    def not_implemented(self, profile: str) -> Response:
        return self.page(PROFILES[profile], render("not_implemented", profile=PROFILES[profile]))

    def forget(self, request: Request) -> Response:
        response = Response.redirect("/accueil" if self._session(request) else "/")
        response.headers.append(("Set-Cookie", self._cookie("choix", "", 0)))
        return response

    # --- Single sign-on -----------------------------------------------------------------------

    def start_sso(self, *, level: str) -> Response:
        relay_state = self.store.relay_state()
        try:
            request_id, outgoing = self.sp.start_login(relay_state)
        except MetadataError as error:
            log.warning("IdP metadata unavailable: %s", error)
            return self.error_page(
                "Connexion impossible",
                "Le service d'authentification ne répond pas. Réessayez dans quelques instants.",
                "503 Service Unavailable",
            )
        self.store.expect("login", relay_state, request_id, {"level": level})
        return self.send(outgoing, "Connexion à EduConnect")

    def acs(self, request: Request) -> Response:
        if request.method != "POST" or "SAMLResponse" not in request.form:
            return self.error_page(
                "Connexion impossible", "Aucune réponse d'authentification reçue.", "400 Bad Request"
            )
        relay_state = request.form.get("RelayState", "")
        pending = self.store.answered("login", relay_state)
        data = self.sp.request_data(request.path, get=request.query, post=request.form, query=request.query_string)
        try:
            login = self.sp.accept_response(request.form["SAMLResponse"], data, pending.request_id if pending else None)
            replayed = not self.store.first_use(login.assertion_id, login.assertion_not_on_or_after)
            reason = f"assertion {login.assertion_id} replayed" if replayed else ""
        except (Refused, MetadataError) as error:
            reason = str(getattr(error, "reason", error))
        if reason:
            log.warning("SAML Response refused: %s", reason)
            return self.error_page(
                "Connexion impossible",
                "La réponse du service d'authentification n'a pas pu être vérifiée. Revenez au portail et reconnectez-vous.",
                "403 Forbidden",
            )
        level = pending.data.get("level", "") if pending else (self._memo(request) or "")
        self.store.close(request.cookies.get(self.config.cookie("session")))
        session = self.store.open(
            {"login": login, "name_id": login.name_id, "session_index": login.session_index, "level": level},
            not_after=float(login.session_not_on_or_after) if login.session_not_on_or_after else None,
        )
        target = "/accueil" if pending else _local_path(relay_state) or "/accueil"
        response = Response.redirect(target)
        response.headers.append(("Set-Cookie", self._cookie("session", session.id)))
        return response

    def metadata(self, request: Request) -> Response:
        return Response(self.sp.metadata_xml(), content_type="application/samlmetadata+xml")

    # --- Home ---------------------------------------------------------------------------------

    def home(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return Response.redirect("/", "302 Found")
        login: Login = session.data["login"]
        person = attributes.identity(login.attributes)
        memo = self._memo(request)
        connection = {
            "idp": self.sp.metadata.url.rsplit("/idp/", 1)[0] or "",
            "encrypted": "oui" if login.encrypted else "non",
            "name_id_format": login.name_id_format.rsplit(":", 1)[-1] or "non précisé",
            "join_keys": ", ".join(person.join_keys) or "aucune",
            "all_attributes": join(
                [render_fact(name, ", ".join(values)) for name, values in sorted(login.attributes.items())]
            ),
        }
        if self.config.mode == "teleservices":
            content = render(
                "teleservices_home",
                first_name=person.first_name,
                last_name=person.last_name,
                profile=person.profile,
                school=join(profile_facts(person)),
                schools=schools_list(person),
                children=children_block(person, released=bool(person.children)),
                csrf=request.csrf,
                **connection,
            )
        else:
            content = render(
                "home",
                ent_name=self.config.name,
                first_name=person.first_name,
                last_name=person.last_name,
                space=LEVELS.get(session.data.get("level") or memo or "", "").lower() or "commun",
                profile=person.profile,
                school=join(profile_facts(person)),
                memo=render("memo", csrf=request.csrf, memo_level=LEVELS[memo]) if memo else Markup(""),
                children=children_block(person, released=True),
                csrf=request.csrf,
                **connection,
            )
        response = self.page(
            f"Bonjour {person.first_name} {person.last_name}", content, tools=self._logout_tool(request)
        )
        response.limit_form_action = False  # "Se déconnecter" leaves through the IdP to other SPs
        return response

    # --- Single logout ------------------------------------------------------------------------

    def logout(self, request: Request) -> Response:
        session = self.store.close(request.cookies.get(self.config.cookie("session")))
        if session is None:
            response = Response.redirect("/deconnecte")
        else:
            relay_state = self.store.relay_state()
            try:
                started = self.sp.start_logout(session.data["login"], relay_state)
            except MetadataError as error:
                log.warning("IdP metadata unavailable for logout: %s", error)
                started = None
            if started is None:
                response = Response.redirect("/deconnecte?sso=0")
            else:
                request_id, outgoing = started
                self.store.expect("logout", relay_state, request_id)
                response = self.send(outgoing, "Déconnexion")
        response.headers.append(("Set-Cookie", self._cookie("session", "", 0)))
        return response

    def slo(self, request: Request) -> Response:
        fields = request.form if request.method == "POST" else request.query
        binding = POST if request.method == "POST" else REDIRECT
        data = self.sp.request_data(request.path, get=request.query, post=request.form, query=request.query_string)
        pending = self.store.answered("logout", fields.get("RelayState")) if "SAMLResponse" in fields else None
        try:
            result = self.sp.receive_logout(data, binding=binding, request_id=pending.request_id if pending else None)
        except (Refused, MetadataError) as error:
            log.warning("SAML logout message refused: %s", getattr(error, "reason", error))
            if "SAMLResponse" in fields:
                return Response.redirect("/deconnecte?sso=0")
            return self.error_page(
                "Déconnexion impossible", "Le message de déconnexion n'a pas pu être vérifié.", "400 Bad Request"
            )
        if isinstance(result, LogoutAnswered):
            return Response.redirect("/deconnecte" if result.success and pending else "/deconnecte?sso=0")
        ended = self.store.close_for(result.name_id, result.session_indexes)
        log.info("IdP-initiated logout ended %d session(s)", ended)
        response = self.send(result.reply, "Déconnexion")
        if self.store.session(request.cookies.get(self.config.cookie("session"))) is None:
            response.headers.append(("Set-Cookie", self._cookie("session", "", 0)))
        return response

    def logged_out(self, request: Request) -> Response:
        forget = Markup("")
        if self._memo(request):
            forget = render("memo", csrf=request.csrf, memo_level=LEVELS[self._memo(request) or "college"])
        return self.logged_out_page(confirmed=request.query.get("sso") != "0", forget=forget)

    # --- Helpers ------------------------------------------------------------------------------

    def send(self, outgoing: Outgoing, heading: str) -> Response:
        if isinstance(outgoing, Redirect):
            return Response.redirect(outgoing.url, "302 Found")
        fields = join(
            [
                Markup(f'    <input type="hidden" name="{_attr(name)}" value="{_attr(value)}">')
                for name, value in outgoing.fields.items()
            ]
        )
        response = self.page(heading, render("autopost", heading=heading, action=outgoing.url, fields=fields))
        response.limit_form_action = False
        return response

    def _memo(self, request: Request) -> str | None:
        """The level remembered by "Mémoriser ce choix", if the cookie is there and well formed."""
        if not self.portal_choice:
            return None
        profile, _, level = request.cookies.get(self.config.cookie("choix"), "").partition(".")
        return level if profile == EDUCONNECT and level in LEVELS else None

    def _radio(self, name: str, value: str, label: str, *, checked: bool) -> Markup:
        return render(
            "radio",
            id=f"{name}-{value}",
            name=name,
            value=value,
            label=label,
            checked=Markup(" checked") if checked else "",
        )

    @staticmethod
    def _error_summary(error: str) -> Markup:
        if not error:
            return Markup("")
        return render("error_summary", error=error)


def profile_facts(person: attributes.Identity) -> list[Markup]:
    """A pupil's school and level, as `<dt>`/`<dd>` pairs."""
    facts = []
    if person.uai:
        facts.append(render_fact("Établissement (UAI)", person.uai, "ent-uai"))
    if person.level_code:
        facts.append(render_fact("Niveau", f"{person.level} ({person.level_code})", "ent-level"))
    return facts


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
    items = [Markup(f"<li>{_attr(uai)}</li>") for uai in person.school_uais]
    if not items:
        return Markup('<p id="ent-schools">Aucun établissement communiqué.</p>')
    return Markup(f'<ul id="ent-schools">{"".join(items)}</ul>')


def render_fact(term: str, value: str, ident: str = "") -> Markup:
    dd_id = f' id="{_attr(ident)}"' if ident else ""
    return Markup(f"      <dt>{_attr(term)}</dt><dd{dd_id}>{_attr(value)}</dd>")


def render_row(cells: list[str]) -> str:
    return "      <tr>" + "".join(f"<td>{_attr(cell)}</td>" for cell in cells) + "</tr>"


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _local_path(target: str) -> str | None:
    """An IdP-initiated RelayState is only followed to a path of this ENT (no open redirect)."""
    if (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and all(c.isprintable() for c in target)
    ):
        return target
    return None
