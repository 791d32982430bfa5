"""One guardian's morning journey over HTTP, as the demo's three services drive it (bench/morning.py).

1. The demo ENT (SAML, signed AuthnRequests over HTTP-Redirect, encrypted assertions): its request,
   then ÉduConnect's login steps as a browser with script walks them (research/educonnect.md §4.1):
   e1s1 local-storage page and its POST, e1s2 the mire and the password, e1s3 local-storage page and
   its POST, answered by the auto-POST page with the SAMLResponse.
2. The Pronote-like (OpenID Connect, authorization code with PKCE S256, client_secret_basic): the
   authorization request riding the session, the token request, userinfo.
3. The téléservices-like (SAML, as the ENT but no children released): its request, answered at once
   from the session.

Every answer is checked on the way (status, where it leads, the fields the next step needs); what
the floor and the deeper checks need is kept in `Journey`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from bench.common import PASSWORD, BenchError, Response, request

CLIENT_ID = "pronote-demo"
CLIENT_SECRET = "pronote-demo-secret-for-the-local-demo-only"  # noqa: S105 - the Makefile's demo secret
REDIRECT_URI = "http://127.0.0.1:8011/auth/oidc/callback"  # never followed: the code is read from Location
SCOPE = "openid profile ect.scope.cnx children"  # ent/config.py's OIDC_SCOPES
AUTHORIZE, TOKEN, USERINFO = "/idp/profile/oidc/authorize", "/idp/profile/oidc/token", "/idp/profile/oidc/userinfo"

# The requests of a journey, in order: the per-request table's rows, and the `where` of the floor.
STEPS = [
    "ENT: GET SAML SSO (signed AuthnRequest) → 302 e1s1",
    "ENT: GET e1s1 (local-storage page)",
    "ENT: POST e1s1 → 302 e1s2",
    "ENT: GET e1s2 (the mire)",
    "ENT: POST e1s2 (password) → 302 e1s3",
    "ENT: GET e1s3 (local-storage page)",
    "ENT: POST e1s3 → signed, encrypted SAML response",
    "Pronote: GET OIDC authorize → code",
    "Pronote: POST token",
    "Pronote: GET userinfo",
    "Téléservices: GET SAML SSO → signed, encrypted SAML response",
]
(SSO_ENT, _, _, _, PASSWORD_STEP, _, ANSWER_ENT, _, TOKEN_STEP, _, SSO_TS) = STEPS
FIELD = re.compile(r'name="SAMLResponse" value="([^"]+)"')


class Forms(HTMLParser):
    """The forms of a page: each one's action and its inputs' values (the first of each name)."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        data = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((html.unescape(data.get("action", "")), {}))
        elif data.get("type") in {"radio", "checkbox"} and "checked" not in data:
            return  # not sent unless chosen
        elif tag == "input" and self.forms and "name" in data:
            self.forms[-1][1].setdefault(data["name"], data.get("value", ""))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_part(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    loaded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return loaded


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Journey:
    """What one journey sent and got, for the checks and the floor."""

    identifier: str
    cookies: dict[str, str] = field(default_factory=dict)
    requests: dict[str, str] = field(default_factory=dict)  # step -> the AuthnRequest URL sent
    saml: dict[str, str] = field(default_factory=dict)  # step -> SAMLResponse
    request_ids: dict[str, str] = field(default_factory=dict)  # step -> the AuthnRequest's ID
    tokens: dict[str, Any] = field(default_factory=dict)
    nonce: str = ""
    userinfo: dict[str, Any] = field(default_factory=dict)
    sent: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of each request, in order

    def send(self, port: int, method: str, url: str, body: str | None = None, headers: dict[str, str] | None = None):
        path = path_of(url)
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        sent = {**({"Cookie": cookie} if cookie else {}), **(headers or {})}
        resp = request(port, method, path, body, sent)
        self.sent.append((method, urlsplit(path).path))
        for header in resp.headers.get_all("Set-Cookie") or []:
            pair, _, attributes = header.partition(";")
            name, _, value = pair.partition("=")
            gone = "max-age=0" in attributes.lower() or "01 jan 1970" in attributes.lower()
            if gone or not value:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()
        return resp


def fail(step: str, resp: Response, what: str) -> BenchError:
    return BenchError(
        f"{step}: {what} (status {resp.status}, Location {resp.headers.get('Location')!r}): {resp.body[:300]!r}"
    )


def expect_redirect(step: str, resp: Response, contains: str) -> str:
    location = resp.headers.get("Location", "")
    if resp.status != 302 or contains not in location:  # noqa: PLR2004
        raise fail(step, resp, f"expected a 302 to …{contains}…")
    return location


def form_of(step: str, resp: Response, *names: str) -> tuple[str, dict[str, str]]:
    """The page's form that has all these inputs (the language switch and others come before it)."""
    if resp.status != 200:  # noqa: PLR2004
        raise fail(step, resp, "expected a page")
    for action, fields in Forms(resp.body.decode(errors="replace")).forms:
        if all(name in fields for name in names):
            return action, fields
    raise fail(step, resp, f"no form with {', '.join(names)}")


def saml_answer(step: str, resp: Response) -> str:
    found = FIELD.search(resp.body.decode(errors="replace"))
    if resp.status != 200 or not found:  # noqa: PLR2004
        raise fail(step, resp, "expected the auto-POST page with a SAMLResponse")
    return html.unescape(found[1])


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def saml_login(port: int, journey: Journey, sp: Any) -> None:
    """The ENT's SSO through ÉduConnect's three login steps."""
    request_id, url = sp.redirect_request(relay_state="/ent/accueil")
    journey.requests[SSO_ENT], journey.request_ids[ANSWER_ENT] = url, request_id
    step_url = expect_redirect(STEPS[0], journey.send(port, "GET", url), "execution=e1s1")
    action, fields = form_of(STEPS[1], journey.send(port, "GET", step_url), "csrf_token")
    sent = journey.send(port, "POST", action, urlencode(fields), FORM)
    step_url = expect_redirect(STEPS[2], sent, "execution=e1s2")
    action, fields = form_of(STEPS[3], journey.send(port, "GET", step_url), "csrf_token", "j_username", "j_password")
    # "Je suis : parent" as a guardian chooses it (ÉduConnect's typeUser).
    fields = {**fields, "j_username": journey.identifier, "j_password": PASSWORD, "typeUser": "responsable"}
    sent = journey.send(port, "POST", action, urlencode(fields), FORM)
    step_url = expect_redirect(STEPS[4], sent, "execution=e1s3")
    action, fields = form_of(STEPS[5], journey.send(port, "GET", step_url), "csrf_token")
    sent = journey.send(port, "POST", action, urlencode(fields), FORM)
    journey.saml[ANSWER_ENT] = saml_answer(STEPS[6], sent)


def oidc(port: int, journey: Journey, issuer: str) -> None:
    """The Pronote-like's authorization code with PKCE, its token request and userinfo; each answer checked."""
    verifier, state, journey.nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16), secrets.token_urlsafe(24)
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPE,
        "state": state,
        "nonce": journey.nonce,
        "code_challenge": b64url(hashlib.sha256(verifier.encode()).digest()),
        "code_challenge_method": "S256",
    }
    resp = journey.send(port, "GET", f"{AUTHORIZE}?{urlencode(query)}")
    location = expect_redirect(STEPS[7], resp, REDIRECT_URI + "?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    if "code" not in params or params.get("state") != state or params.get("iss") != issuer:
        raise fail(STEPS[7], resp, "no code, or a wrong state or iss")
    basic = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    body = {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT_URI}
    resp = request(
        port, "POST", TOKEN, urlencode({**body, "code_verifier": verifier}), {**FORM, "Authorization": basic}
    )
    journey.sent.append(("POST", TOKEN))  # the client's back channel: no browser cookie
    tokens = json.loads(resp.body) if resp.status == 200 else {}  # noqa: PLR2004
    if (
        not all(tokens.get(k) for k in ("access_token", "id_token"))
        or str(tokens.get("token_type")).lower() != "bearer"
    ):
        raise fail(STEPS[8], resp, "no access and ID tokens")
    claims = jwt_part(tokens["id_token"], 1)
    if claims.get("aud") not in (CLIENT_ID, [CLIENT_ID]) or claims.get("nonce") != journey.nonce:
        raise fail(STEPS[8], resp, "an ID token for another client or request")
    journey.tokens = tokens
    resp = request(port, "GET", USERINFO, headers={"Authorization": f"Bearer {tokens['access_token']}"})
    journey.sent.append(("GET", USERINFO))
    info = json.loads(resp.body) if resp.status == 200 else {}  # noqa: PLR2004
    if not info.get("sub") or info["sub"] != claims.get("sub"):
        raise fail(STEPS[9], resp, "userinfo without the ID token's sub")
    journey.userinfo = info


def saml_again(port: int, journey: Journey, sp: Any) -> None:
    """The téléservices-like's SSO: answered at once from the session."""
    request_id, url = sp.redirect_request(relay_state="/demarches")
    journey.requests[SSO_TS], journey.request_ids[SSO_TS] = url, request_id
    journey.saml[SSO_TS] = saml_answer(STEPS[10], journey.send(port, "GET", url))


def morning(port: int, identifier: str, ent: Any, teleservices: Any, issuer: str) -> Journey:
    """One guardian's whole journey, from a fresh browser; BenchError at the first answer not as expected."""
    journey = Journey(identifier)
    saml_login(port, journey, ent)
    oidc(port, journey, issuer)
    saml_again(port, journey, teleservices)
    for name, saml in journey.saml.items():
        if b"EncryptedAssertion" not in base64.b64decode(saml):
            raise BenchError(f"{name}: the assertion was not encrypted")
    if len(journey.sent) != len(STEPS):
        raise BenchError(f"a journey sent {len(journey.sent)} requests, not {len(STEPS)}")
    return journey
