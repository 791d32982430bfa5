"""Ending sessions at the clients: OpenID Connect Back-Channel Logout 1.0 and RP-initiated logout.

`PARTICIPANT` is what this protocol registers with sign-in's logout (trousseau/signin/logout.py):
when a browser session ends, `backchannel_logout` revokes the tokens it gave and POSTs a signed logout
token to every client that got tokens in it and registered a back-channel logout URI.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.module_loading import import_string
from jwcrypto import jwt
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import jwk_from_pem

from trousseau.accounts.models import Account
from trousseau.accounts.sessions import LOGOUT_REDIRECT_KEY
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.federation import claims
from trousseau.federation.oidc import services
from trousseau.federation.oidc.models import Authorization, ClientProfile
from trousseau.federation.oidc.scopes import profile_of
from trousseau.signin.logout import Participant

log = logging.getLogger(__name__)
EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_SECONDS = 120
MAX_PARALLEL = 8
Message = tuple[ClientProfile, str]  # a client and the logout token to POST to it


def logout_token(*, account: Account, profile: ClientProfile, sid: str) -> str:
    """A logout token (OIDC Back-Channel Logout §2.4): signed like ID tokens, typed `logout+jwt`."""
    key = jwk_from_pem(oauth2_settings.OIDC_RSA_PRIVATE_KEY)
    now = int(time.time())
    payload = {
        "iss": oauth2_settings.OIDC_ISS_ENDPOINT,
        "sub": claims.pairwise_id(account, profile.audience),
        "aud": profile.application.client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_SECONDS,
        "jti": uuid.uuid4().hex,
        "events": {EVENT: {}},
    }
    if profile.backchannel_logout_session_required:
        payload["sid"] = sid
    header = {"alg": "RS256", "kid": key.thumbprint(), "typ": "logout+jwt"}
    token = jwt.JWT(header=json.dumps(header), claims=json.dumps(payload))
    token.make_signed_token(key)
    return str(token.serialize())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _post(uri: str, token: str) -> bool:
    """POST the token; the client must answer 2xx (§2.8). Never follows redirects."""
    body = urllib.parse.urlencode({"logout_token": token}).encode()
    request = urllib.request.Request(  # noqa: S310 - the URI was checked at registration (https or loopback)
        uri, data=body, headers={"Content-Type": "application/x-www-form-urlencoded", "Cache-Control": "no-store"}
    )
    try:
        with _opener.open(request, timeout=settings.OIDC_BACKCHANNEL_TIMEOUT) as response:
            return bool(200 <= response.status < 300)  # noqa: PLR2004 - HTTP success range
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.warning("back-channel logout to %s failed: %s", uri, exc)
        return False


def _store() -> type[SessionBase]:
    store: type[SessionBase] = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    return store


def backchannel_logout(*, account: Account, session_key: str) -> int:
    """End the session at every client that got tokens in it; returns how many clients confirmed."""
    # The session's sid finds authorizations made before its key changed (a password change).
    sid = _store()(session_key=session_key).load().get(services.SID_KEY)
    same_session = Q(session_key=session_key) | Q(sid=sid) if isinstance(sid, str) else Q(session_key=session_key)
    messages = _end_authorizations(account, Authorization.objects.filter(same_session, account=account))
    return send_logout_messages(account, messages)


def end_other_sessions_at_clients(*, account: Account, keep: str | None) -> list[Message]:
    """Revoke what the clients got in every session of the account but `keep` (a password change or
    reset, "se déconnecter partout", a grouped or disabled account); returns the logout messages to
    send once the change is committed (`send_logout_messages`)."""
    rows = Authorization.objects.filter(account=account)
    if keep:
        sid = _store()(session_key=keep).load().get(services.SID_KEY)
        rows = rows.exclude(session_key=keep)
        if isinstance(sid, str):
            rows = rows.exclude(sid=sid)
    return _end_authorizations(account, rows)


def _end_authorizations(account: Account, query: QuerySet[Authorization]) -> list[Message]:
    rows = list(query.select_related("application"))
    if not rows:
        return []
    services.revoke(rows)  # no offline access: the session's refresh tokens end with it (§2.7)
    targets: dict[int, tuple[ClientProfile, str]] = {}
    for row in rows:
        profile = profile_of(row.application)
        if row.redeemed_at is not None and profile.backchannel_logout_uri:
            targets.setdefault(row.application.pk, (profile, row.sid))
    Authorization.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return [(profile, logout_token(account=account, profile=profile, sid=sid)) for profile, sid in targets.values()]


def send_logout_messages(account: Account, messages: list[Message]) -> int:
    """POST the logout tokens, in parallel; returns how many clients confirmed. Never inside a transaction."""
    if not messages:
        return 0
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(messages))) as pool:
        results = list(pool.map(lambda m: _post(m[0].backchannel_logout_uri, m[1]), messages))
    failed = [profile.application.client_id for (profile, _), ok in zip(messages, results, strict=True) if not ok]
    audit(EventTag.OIDC_BACKCHANNEL_LOGOUT, account=account, notified=len(messages) - len(failed), failed=failed)
    return len(messages) - len(failed)


def leave_after_logout(request: HttpRequest, target: str | None) -> None:
    """Where the browser goes once logged out everywhere; FranceConnect's own logout page comes first."""
    if target and not request.session.get(LOGOUT_REDIRECT_KEY):
        request.session[LOGOUT_REDIRECT_KEY] = target


def _leave(request: HttpRequest, account: Account | None) -> None:
    """Sign-in's logout, before the local session closes: the session's clients hear of it."""
    if account is not None and request.session.session_key:
        backchannel_logout(account=account, session_key=request.session.session_key)


def _end_elsewhere(account: Account, keep: str | None) -> None:
    """The accounts app ends sessions (a password change or reset, "se déconnecter partout", an account
    grouped or disabled): the tokens the clients got in them are revoked with the change."""
    messages = end_other_sessions_at_clients(account=account, keep=keep)
    if messages:
        # No HTTP inside the caller's transaction (it holds the account's row lock).
        transaction.on_commit(lambda: send_logout_messages(account, messages))


PARTICIPANT = Participant("oidc", leave=_leave, end_elsewhere=_end_elsewhere)
