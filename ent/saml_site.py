"""The ENT and the téléservices-like site: a SAML service provider on `ent.web.Site`.

In mode "ent" it is the portal (profile, level, "Mémoriser ce choix"), then single sign-on, home and
logout; in mode "teleservices" it goes straight to EduConnect, without the portal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ent import attributes
from ent.config import Config
from ent.idp import POST, REDIRECT, MetadataError
from ent.pages import Markup, join, render
from ent.saml import Login, LogoutAnswered, Outgoing, Redirect, Refused, ServiceProvider
from ent.web import (
    Request,
    Response,
    Site,
    children_block,
    escape_attr,
    home_parts,
    render_fact,
    schools_list,
)

log = logging.getLogger("ent")

MEMO_SECONDS = 395 * 24 * 3600  # 13 months, the CNIL's ceiling for a cookie's life

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
            **fieldset_error("profil", error),
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
            **fieldset_error("niveau", error),
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
        connection = render(
            "saml_connection",
            idp=self.sp.metadata.url.rsplit("/idp/", 1)[0] or "",
            encrypted="oui" if login.encrypted else "non",
            name_id_format=login.name_id_format.rsplit(":", 1)[-1] or "non précisé",
            join_keys=", ".join(person.join_keys) or "aucune",
            all_attributes=join(
                [render_fact(name, ", ".join(values)) for name, values in sorted(login.attributes.items())]
            ),
        )
        shared = {"first_name": person.first_name, "last_name": person.last_name, "connection": connection}
        if self.config.mode == "teleservices":
            content = render(
                "teleservices_home",
                schools=schools_list(person),
                children=children_block(person, released=bool(person.children)),
                **shared,
                **home_parts(person, request.csrf),
            )
        else:
            content = render(
                "home",
                ent_name=self.config.name,
                space=LEVELS.get(session.data.get("level") or memo or "", "").lower() or "commun",
                memo=render("memo", csrf=request.csrf, memo_level=LEVELS[memo]) if memo else Markup(""),
                children=children_block(person, released=True),
                **shared,
                **home_parts(person, request.csrf),
            )
        return self.home_page(request, person, content)

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
                Markup(f'    <input type="hidden" name="{escape_attr(name)}" value="{escape_attr(value)}">')
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


def fieldset_error(ident: str, error: str) -> dict[str, str]:
    """The radio fieldset `ident`'s placeholders for `error` (DSFR's error state), all empty without one."""
    if not error:
        return {"fieldset_error": "", "described": "", "group": "", "field_error": ""}
    return {
        "fieldset_error": " fr-fieldset--error",
        "described": f" {ident}-error",
        "group": Markup(' role="group"'),
        "field_error": Markup(f'<p class="fr-error-text fr-fieldset__element" id="{ident}-error">{error}</p>'),
    }
