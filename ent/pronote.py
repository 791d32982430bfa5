"""The Pronote-like demo site: an OpenID Connect relying party of Trousseau (`python -m ent serve --mode pronote`).

Its home greets the person, shows their profile and, for a guardian, the children of the `children`
claim (the client is registered with `--children`). It opens without a login form when the browser
already has a Trousseau session (single sign-on with the ENT and the téléservices), and its
"Se déconnecter" is an RP-initiated logout that ends the SSO session everywhere. Trousseau's
back-channel logout ends its sessions when the person logs out elsewhere.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from ent import attributes
from ent.config import Config
from ent.oidc import OidcLogin, Refused, RelyingParty, Unavailable
from ent.pages import join, render
from ent.web import Request, Response, Site, children_block, home_parts, render_fact

log = logging.getLogger("ent.pronote")

CALLBACK = "/auth/oidc/callback"
BACKCHANNEL = "/auth/oidc/backchannel"


class Pronote(Site):
    csrf_exempt = frozenset({BACKCHANNEL})  # POSTed by Trousseau's server, with a signed logout token

    def __init__(self, config: Config, rp: RelyingParty | None = None) -> None:
        super().__init__(config)
        self.rp = rp or RelyingParty(config)

    def routes(self) -> dict[str, Callable[[Request], Response]]:
        return {
            "/": self.start,
            "/accueil": self.home,
            CALLBACK: self.callback,
            "/deconnexion": self.logout,
            "/deconnecte": self.logged_out,
            BACKCHANNEL: self.backchannel,
        }

    # --- Single sign-on -----------------------------------------------------------------------

    def start(self, request: Request) -> Response:
        """Logged in: the home. Otherwise straight to Trousseau, as Pronote sends its users to EduConnect."""
        if self._session(request) is not None:
            return Response.redirect("/accueil", "302 Found")
        try:
            authorization = self.rp.start()
        except Unavailable as error:
            log.warning("OpenID Connect provider unavailable: %s", error)
            return self.unavailable()
        self.store.expect(
            "login",
            authorization.state,
            authorization.state,
            {"nonce": authorization.nonce, "code_verifier": authorization.code_verifier},
        )
        response = Response.redirect(authorization.url, "302 Found")
        # The state is also bound to this browser: an answer started in another browser is refused.
        response.headers.append(("Set-Cookie", self._cookie("login", authorization.state, 600)))
        return response

    def callback(self, request: Request) -> Response:
        state = request.query.get("state", "")
        pending = self.store.answered("login", state)
        bound = request.cookies.get(self.config.cookie("login"), "")
        reason = ""
        if pending is None:
            reason = "unknown, used or expired state"
        elif bound != state:
            reason = "the state was not issued to this browser"
        login: OidcLogin | None = None
        if pending is not None and not reason:
            try:
                login = self.rp.finish(
                    request.query, nonce=pending.data["nonce"], code_verifier=pending.data["code_verifier"]
                )
            except Unavailable as error:
                log.warning("OpenID Connect provider unavailable: %s", error)
                return self.unavailable()
            except Refused as error:
                reason = error.reason
        if login is None:
            log.warning("OpenID Connect login refused: %s", reason)
            response = self.error_page(
                "Connexion impossible",
                "La réponse du service d'authentification n'a pas pu être vérifiée. Reconnectez-vous.",
                "403 Forbidden",
            )
            response.headers.append(("Set-Cookie", self._cookie("login", "", 0)))
            return response
        self.store.close(request.cookies.get(self.config.cookie("session")))
        session = self.store.open({"login": login, "sid": login.sid, "sub": login.sub})
        response = Response.redirect("/accueil")
        response.headers += [
            ("Set-Cookie", self._cookie("session", session.id)),
            ("Set-Cookie", self._cookie("login", "", 0)),
        ]
        return response

    # --- Home ---------------------------------------------------------------------------------

    def home(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return Response.redirect("/", "302 Found")
        login: OidcLogin = session.data["login"]
        person = attributes.identity_from_claims(login.claims)
        if person.is_guardian:
            space = "parents"
        elif any(a.startswith("eleve") for a in person.affiliations):
            space = "élèves"
        else:
            space = "commun"
        content = render(
            "pronote_home",
            first_name=person.first_name,
            last_name=person.last_name,
            space=space,
            children=children_block(person, released=True),
            issuer=login.issuer,
            algorithm=login.algorithm,
            key_id=login.key_id or "non précisée",
            sub=login.sub,
            scope=login.scope,
            join_keys=", ".join(person.join_keys) or "aucune",
            all_claims=join([render_fact(name, _claim_text(value)) for name, value in sorted(login.claims.items())]),
            **home_parts(person, request.csrf),
        )
        return self.home_page(request, person, content)

    # --- Logout -------------------------------------------------------------------------------

    def logout(self, request: Request) -> Response:
        """RP-initiated logout: end the local session, then Trousseau's (and so every service's)."""
        if request.method != "POST":
            return Response.redirect("/accueil", "302 Found")
        session = self.store.close(request.cookies.get(self.config.cookie("session")))
        response = Response.redirect("/deconnecte")
        if session is not None:
            state = self.store.relay_state()
            self.store.expect("logout", state, state)
            try:
                self.rp.metadata()
                response = Response.redirect(self.rp.logout_url(session.data["login"].id_token, state))
            except Unavailable as error:
                log.warning("OpenID Connect provider unavailable for logout: %s", error)
        response.headers.append(("Set-Cookie", self._cookie("session", "", 0)))
        return response

    def logged_out(self, request: Request) -> Response:
        """Back from Trousseau's end_session_endpoint (with our state), or logged out locally only."""
        confirmed = self.store.answered("logout", request.query.get("state")) is not None
        return self.logged_out_page(confirmed=confirmed)

    def backchannel(self, request: Request) -> Response:
        """Back-Channel Logout 1.0: Trousseau ends this site's sessions of the person who logged out elsewhere."""
        headers = [("Cache-Control", "no-store")]
        if request.method != "POST":
            return Response(b"", "405 Method Not Allowed", headers=[("Allow", "POST")])
        try:
            token = self.rp.logout_token(request.form.get("logout_token", ""))
            reason = "" if self.store.first_use(f"logout:{token.jti}", token.expires_at) else "replayed"
        except (Refused, Unavailable) as error:
            reason = str(getattr(error, "reason", error))
        if reason:
            log.warning("back-channel logout refused: %s", reason)
            body = json.dumps({"error": "invalid_request", "error_description": "logout token refused"})
            return Response(body.encode(), "400 Bad Request", "application/json", headers)
        ended = (
            self.store.close_matching("sid", token.sid) if token.sid else self.store.close_matching("sub", token.sub)
        )
        log.info("back-channel logout ended %d session(s)", ended)
        return Response(b"", "200 OK", "text/plain; charset=utf-8", headers)

    # --- Helpers ------------------------------------------------------------------------------

    def unavailable(self) -> Response:
        return self.error_page(
            "Connexion impossible",
            "Le service d'authentification ne répond pas. Réessayez dans quelques instants.",
            "503 Service Unavailable",
        )


def _claim_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value)
    return json.dumps(value, ensure_ascii=False)
