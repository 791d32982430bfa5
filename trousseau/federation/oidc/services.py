"""Registering clients, and the life of an authorization: issued, redeemed once, replayed, revoked."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from oauth2_provider.models import AbstractApplication, get_application_model, get_refresh_token_model

from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.federation.claims import MINIMUM, Release
from trousseau.federation.oidc.clients import hash_secret, secret_matches
from trousseau.federation.oidc.models import Authorization, ClientProfile

__all__ = ["hash_secret", "secret_matches"]  # kept here for their callers: the validator, the tests

LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}
SID_KEY = "oidc_sid"  # in the browser session


class InvalidClient(ValueError):
    """A registration the provider refuses (bad URI, unknown or duplicate client id)."""


# --- Registration ---------------------------------------------------------------------------------


def check_uri(uri: str) -> str:
    """An absolute https URI (http only on a loopback host), without fragment, credentials or wildcard."""
    parts = urlsplit(uri)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise InvalidClient(f"not an absolute http(s) URI: {uri!r}")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise InvalidClient(f"http is allowed only on a loopback host (127.0.0.1, ::1, localhost): {uri!r}")
    if "#" in uri or "@" in parts.netloc or "*" in uri or any(c.isspace() for c in uri):
        raise InvalidClient(f"fragments, credentials, wildcards and spaces are refused: {uri!r}")
    return uri


@dataclass(frozen=True)
class Registration:
    application: AbstractApplication
    client_secret: str | None  # shown once; None for a public client or an update keeping the secret
    release: Release = MINIMUM  # what the client was registered to receive, for the command to show


@transaction.atomic
def register_client(  # noqa: PLR0913 - the operator's options, all keyword-only
    *,
    name: str,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str] | None = None,
    backchannel_logout_uri: str = "",
    backchannel_logout_session_required: bool = True,
    public: bool = False,
    release_children: bool = False,
    release_join: bool = False,
    sector: str = "",
    home_url: str = "",
    client_id: str | None = None,
    client_secret: str | None = None,
    update: bool = False,
) -> Registration:
    """Create a client (with `update`, create or change it): authorization code only, RS256, no consent screen.

    The release policy (`release_children`, `release_join`) is the minimum unless asked, on an update too.
    """
    if not redirect_uris:
        raise InvalidClient("at least one redirect URI is required")
    uris = [check_uri(u) for u in redirect_uris]
    logout_uris = [check_uri(u) for u in post_logout_redirect_uris or []]
    if backchannel_logout_uri:
        check_uri(backchannel_logout_uri)
    model = get_application_model()
    application = model.objects.filter(client_id=client_id).first() if client_id else None
    if application is not None and not update:
        raise InvalidClient(f"client {client_id!r} exists (use --update to change it)")
    if update and not client_id:
        raise InvalidClient("--update needs --client-id")
    if application is None:
        application = model(client_id=client_id or secrets.token_urlsafe(24))
        client_secret = client_secret or (None if public else secrets.token_urlsafe(48))
    application.name = name
    application.redirect_uris = " ".join(uris)
    application.post_logout_redirect_uris = " ".join(logout_uris)
    application.client_type = model.CLIENT_PUBLIC if public else model.CLIENT_CONFIDENTIAL
    application.authorization_grant_type = model.GRANT_AUTHORIZATION_CODE
    application.algorithm = model.RS256_ALGORITHM
    # First-party school services registered by the operator: no consent screen (docs/oidc.md).
    application.skip_authorization = True
    application.hash_client_secret = False  # stored as our own digest, checked by the validator
    if public:
        application.client_secret = ""
        client_secret = None
    elif client_secret:
        application.client_secret = hash_secret(client_secret)
    application.save()
    profile, _ = ClientProfile.objects.update_or_create(
        application=application,
        defaults={
            "release_children": release_children,
            "release_join": release_join,
            "backchannel_logout_uri": backchannel_logout_uri,
            "backchannel_logout_session_required": backchannel_logout_session_required,
            "sector": sector,
            "home_url": home_url,
        },
    )
    audit(EventTag.OIDC_CLIENT_REGISTERED, client=application.client_id, name=name, update=update)
    return Registration(application=application, client_secret=client_secret, release=profile.release)


# --- Authorizations -------------------------------------------------------------------------------


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def browser_sid(session: SessionBase) -> str:
    """The `sid` of a browser session: the same for every client, kept in the session itself so that
    it survives the key changes of a password change, and saying nothing of the key."""
    sid = session.get(SID_KEY)
    if not isinstance(sid, str):
        sid = session[SID_KEY] = new_sid()
    return sid


def new_sid() -> str:
    return secrets.token_urlsafe(24)


def sid_at_login(sender: object, request: HttpRequest | None = None, **_: object) -> None:
    """`user_logged_in`: the session's sid drawn at the login, whose session row is written anyway, rather
    than at its first authorization request, which would then write the session again for it alone."""
    session = getattr(request, "session", None)
    if isinstance(session, SessionBase):
        browser_sid(session)


@dataclass(frozen=True)
class Code:
    """What an authorization code is tied to (models.Authorization), and who asked, from where."""

    code: str
    application: AbstractApplication
    session_key: str
    sid: str
    authenticated_at: datetime | None
    ip: str | None
    redirect_uri: str
    scope: str
    nonce: str
    code_challenge: str


def authorization_values(code: Code, account: Account) -> dict[str, Any]:
    """The code's row (models.Authorization) by field: the ORM's save and code_rows' statement write these."""
    return {
        "code_hash": code_digest(code.code),
        "redirect_uri": code.redirect_uri,
        "scope": code.scope,
        "nonce": code.nonce,
        "code_challenge": code.code_challenge,
        "application_id": code.application.pk,
        "account_id": account.pk,
        "session_key": code.session_key,
        "sid": code.sid,
        "authenticated_at": code.authenticated_at,
        # The refresh-token family the code will give, drawn now rather than by the token request's
        # claim: the claim then changes no indexed column (claim_sql.redeem).
        "token_family": uuid.uuid4(),
    }


def record_authorization(code: Code, account: Account) -> Authorization:
    """The code's one row: who, in which session, and what the authorization request said."""
    row = Authorization.objects.create(**authorization_values(code, account))
    audit(EventTag.OIDC_CODE_ISSUED, account=account, ip=code.ip, client=code.application.client_id)
    return row


def code_refused(*, code: str, application: AbstractApplication) -> Authorization | None:
    """A code that cannot be claimed: its row if it exists. A code already redeemed is a replay: it
    revokes what the first redemption gave (RFC 6749 §4.1.2) and is audited as such."""
    row = Authorization.objects.select_related("account").filter(code_hash=code_digest(code), application=application)
    found = row.first()
    if found is not None and found.redeemed_at is not None:
        Authorization.objects.filter(pk=found.pk).update(replayed_at=timezone.now())
        revoke([found])
        audit(EventTag.OIDC_CODE_REPLAYED, account=found.account, client=application.client_id)
    return found


def revoke(rows: list[Authorization]) -> None:
    """Revoke every access and refresh token the authorizations gave, rotated ones included."""
    for family in {row.token_family for row in rows if row.redeemed_at and row.token_family}:
        get_refresh_token_model().revoke_family(family)


def authorization_of_family(token_family: uuid.UUID | None) -> Authorization | None:
    if token_family is None:
        return None
    return Authorization.objects.filter(token_family=token_family).first()


def family_outlived_session(authorization: Authorization | None) -> bool:
    """A rotated refresh chain stops when the login session it came from would have expired."""
    if authorization is None:
        return False
    age = timezone.now() - authorization.created_at
    return age.total_seconds() > settings.SESSION_COOKIE_AGE


def refused(  # noqa: PLR0913 - what the audit trail says of a refusal
    *, endpoint: str, error: str, client_id: str, ip: str | None, account: Account | None = None, reason: str = ""
) -> None:
    details = {"reason": reason} if reason else {}
    audit(
        EventTag.OIDC_REFUSED, account=account, ip=ip, endpoint=endpoint, error=error, client=client_id[:100], **details
    )


def prune_authorizations() -> int:
    """Forget authorizations older than a login session: their codes and token chains are dead."""
    cutoff = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    deleted, _ = Authorization.objects.filter(created_at__lt=cutoff).delete()
    return int(deleted)
