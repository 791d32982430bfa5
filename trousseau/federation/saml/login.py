"""The login steps of single sign-on, as ÉduConnect runs them since 2025 (research/educonnect.md §4.1).

One flow per pending request (`state`), one execution URL per step, each answered at its own URL
(Spring Web Flow's post-redirect-get):

    e1s1  local-storage read page, auto-submitted by script (csrf_token, shib_idp_ls_*, _eventId_proceed)
          POST -> 302 e1s2
    e1s2  the login form (j_username, j_password, _eventId_proceed, csrf_token, optional typeUser)
          POST, good password -> 302 e1s3;  wrong password -> 200, the form and its error
    e1s3  local-storage write page, auto-submitted by script; POST -> 200, the auto-POST SAMLResponse page

Clients written before 2025 (pronotepy <= 2.15.7 among them, §4.3) post the credentials alone, with
no `csrf_token`, to the first page they are shown, then re-post them once to the URL they land on when
it has changed and shows no SAMLResponse. So, in the default "compat" mode, a POST without
`csrf_token` at e1s1 leads on to e1s2 (the credentials are not looked at there: e1s1 is not a login
page), and at e1s2 it is answered with the SAMLResponse at once: such a client never reaches e1s3,
which it would not know how to pass. In "strict" mode such POSTs get 400, as ÉduConnect answers them.

The `csrf_token` is the flow's own (Shibboleth's format), checked when sent; the views take no Django
CSRF token, as ÉduConnect's clients send none (see views/sso.py).
"""

from __future__ import annotations

import enum
import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit, audit_with_session
from trousseau.core import continuation
from trousseau.core.http import client_ip
from trousseau.federation.saml import outbound, pages, state
from trousseau.federation.saml.forms import ShibbolethLoginForm
from trousseau.federation.saml.inbound import Pending
from trousseau.signin.mire import attempt, remember_device, render_mire

READ, LOGIN, WRITE = 1, 2, 3  # the step numbers of the execution keys (eNs1, eNs2, eNs3)
STORAGE_KEY = "shib_idp_session_ss"  # the one key ÉduConnect's pages read and write (HAR2026, §4.1)
PAGE_EXPIRED = _("La page de connexion a expiré. Recommencez la connexion.")


class Token(enum.Enum):
    """What a POST says of the flow's `csrf_token`."""

    GOOD = "good"
    MISSING = "missing"  # a client written before 2025
    WRONG = "wrong"  # another flow's page, or a forged form


def token(post: QueryDict, expected: str) -> Token:
    sent = post.get("csrf_token")
    if sent is None:
        return Token.MISSING
    return Token.GOOD if hmac.compare_digest(sent, expected) else Token.WRONG


def strict() -> bool:
    return bool(settings.SAML_LOGIN_MODE == "strict")


def logged_in(request: HttpRequest) -> Account | None:
    user = request.user
    return user if isinstance(user, Account) and user.is_active else None


def answer_page(request: HttpRequest, answer: outbound.Answer) -> HttpResponse:
    return pages.post_page(
        request, answer.acs_url, [("SAMLResponse", answer.saml_response), ("RelayState", answer.relay_state)]
    )


def answer(request: HttpRequest, pending: Pending, account: Account, execution: str | None = None) -> HttpResponse:
    """The auto-POST page with the assertion for `account`; the flow, if any, is over."""
    result = outbound.authn_response(pending, account, authn_instant=state.authn_instant(request.session))
    state.participate(request.session, pending, result)
    continuation.forget(request.session)  # the service has its answer: no detour leads back to it now
    if execution:
        state.finish(request.session, execution)
    # With the session's save (one statement on PostgreSQL), which records this service for the logout.
    audit_with_session(
        request.session,
        EventTag.SAML_ASSERTION_ISSUED,
        account=account,
        ip=client_ip(request),
        service=pending.entity_id,
    )
    return answer_page(request, result)


def expired(request: HttpRequest, reason: str) -> HttpResponse:
    """400: what ÉduConnect answers to a POST without the page's token (strict mode), or with another's."""
    audit(EventTag.SAML_REFUSED, account=logged_in(request), ip=client_ip(request), reason=reason)
    context = {"title": _("Connexion impossible"), "message": PAGE_EXPIRED}
    return render(request, "saml/error.html", context, status=400)


def _to(request: HttpRequest, execution: str) -> HttpResponse:
    return redirect(f"{request.path}?execution={execution}")


def storage_page(request: HttpRequest, current: state.Step, *, write: bool) -> HttpResponse:
    """Shibboleth's client-storage read (e1s1) or write (e1s3) page, with its fields and a script to send it.

    Trousseau's sessions live server-side: the script only tells, as Shibboleth's does, whether this
    browser has local storage, and stores nothing. A button in <noscript> sends the form without script.
    """
    fields = [
        ("csrf_token", current.csrf),
        (f"shib_idp_ls_exception.{STORAGE_KEY}", ""),
        (f"shib_idp_ls_success.{STORAGE_KEY}", "false"),
    ]
    if not write:
        fields += [(f"shib_idp_ls_value.{STORAGE_KEY}", ""), ("shib_idp_ls_supported", "")]
    return pages.storage_page(request, f"{request.path}?execution={current.execution}", fields, write=write)


def read_step(request: HttpRequest, current: state.Step, sent: Token | None) -> HttpResponse:
    """e1s1: the local-storage read page; sent (or a pre-2025 client's credentials) -> 302 e1s2."""
    if sent is None:
        return storage_page(request, current, write=False)
    if sent is Token.WRONG:
        return expired(request, "wrong csrf_token at the local-storage read step")
    # The credentials a pre-2025 client posts here are not read: it posts them again at e1s2.
    login = state.advance(request.session, current, LOGIN)
    # What the mire at e1s2 keeps for after a detour (continuation), kept now with this step's session
    # write: the mire's page then writes no session of its own (a round trip and a commit per login).
    continuation.remember(request.session, f"{request.path}?execution={login}")
    return _to(request, login)


def login_step(request: HttpRequest, current: state.Step, sent: Token | None) -> HttpResponse:
    """e1s2: the login form. A good password -> 302 e1s3, or the SAMLResponse at once for a pre-2025 client."""
    here = f"{request.path}?execution={current.execution}"
    form = ShibbolethLoginForm(request.POST if sent is not None else None)
    error: object = ""
    if sent is Token.WRONG:
        error = PAGE_EXPIRED
    elif sent is not None and form.is_valid():
        # The flow's next step goes into the session the login opens: its row is written once, with it.
        result = attempt(
            request, form, continue_to=here, at_login=lambda session: state.advance(session, current, WRITE)
        )
        if isinstance(result, Account):
            if sent is Token.MISSING:
                return remember_device(request, answer(request, current.pending, result, current.execution), result)
            return remember_device(request, _to(request, state.advance(request.session, current, WRITE)), result)
        if isinstance(result, HttpResponse):
            return result  # letter activation first; it comes back here, logged in
        error = result
    return render_mire(request, form, error, action=here, next=here, sso={"csrf": current.csrf})  # type: ignore[arg-type]


def write_step(request: HttpRequest, current: state.Step, sent: Token | None) -> HttpResponse:
    """e1s3: the local-storage write page, after the password; sent -> the SAMLResponse."""
    account = logged_in(request)
    if account is None:
        # Logged out meanwhile (another tab): the password is asked again.
        return _to(request, f"{current.flow}s{LOGIN}")
    if sent is None:
        return storage_page(request, current, write=True)
    if sent is Token.WRONG:
        return expired(request, "wrong csrf_token at the local-storage write step")
    return answer(request, current.pending, account, current.execution)


STEPS = {READ: read_step, LOGIN: login_step, WRITE: write_step}


def run(request: HttpRequest, current: state.Step) -> HttpResponse:
    """Answer the step of the execution URL: GET shows it, POST sends it."""
    account = logged_in(request)
    if request.method == "GET" and current.number != WRITE and account is not None and not current.pending.force_authn:
        # Logged in meanwhile (another tab, or a letter's activation that comes back here).
        return answer(request, current.pending, account, current.execution)
    sent = token(request.POST, current.csrf) if request.method == "POST" else None
    if sent is Token.MISSING and strict():
        return expired(request, f"no csrf_token at step {current.number} (strict login mode)")
    return STEPS.get(current.number, read_step)(request, current, sent)
