"""Registered clients as the token and userinfo endpoints see them: read once per process, then kept.

A token request authenticates its client on every call; reading the Application and its profile
each time was two statements of every exchange. A web process keeps each client it has read for
`CLIENT_CACHE_SECONDS`, keyed by client id and by primary key, and forgets them all as soon as a client or
a profile is saved or deleted in this process (register_client, the tests). Another process sees a change
(a new secret, new redirect URIs, a client deleted) within `CLIENT_CACHE_SECONDS` at most: clients
are registered by the operator with a command, and a rotated secret is announced to the service
beforehand, so half a minute of overlap is harmless, and it is said in docs/oidc.md.

Secrets are checked against their SHA-256 digest (`secret_matches`): a client secret is 384
random bits made by `secrets`, so it cannot be guessed from a fast digest and a slow hash (argon2)
would only add its cost to every token request, which is what a slow hash is for: low-entropy
passwords.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import unquote_plus

from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest
from oauth2_provider.models import AbstractApplication, get_application_model

from trousseau.federation.oidc.models import ClientProfile

CLIENT_CACHE_SECONDS = 30.0
SECRET_PREFIX = "sha256$"  # noqa: S105 - a digest prefix, not a secret


def hash_secret(secret: str) -> str:
    # Client secrets are 384 random bits from `secrets`: a plain digest resists guessing, and a slow
    # hash (argon2, made for low-entropy passwords) would only add its cost to every token request.
    return SECRET_PREFIX + hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(provided: str, stored: str) -> bool:
    if not stored.startswith(SECRET_PREFIX):
        return False  # never a clear-text comparison
    return hmac.compare_digest(hash_secret(provided), stored)


@dataclass(frozen=True)
class Client:
    application: AbstractApplication
    profile: ClientProfile
    loaded_at: float

    @property
    def client_id(self) -> str:
        return str(self.application.client_id)

    @property
    def public(self) -> bool:
        return bool(self.application.client_type == AbstractApplication.CLIENT_PUBLIC)

    @property
    def redirect_uris(self) -> list[str]:
        return str(self.application.redirect_uris).split()

    @property
    def fresh(self) -> bool:
        return time.monotonic() - self.loaded_at < CLIENT_CACHE_SECONDS


_by_client_id: dict[str, Client] = {}
_by_pk: dict[int, Client] = {}


def _keep(profile: ClientProfile) -> Client:
    client = Client(application=profile.application, profile=profile, loaded_at=time.monotonic())
    _by_client_id[client.client_id] = client
    _by_pk[int(profile.application.pk)] = client
    return client


def _load(**lookup: object) -> Client | None:
    profile = ClientProfile.objects.select_related("application").filter(**lookup).first()
    if profile is None:
        # A client made without Trousseau's command (no profile yet): the minimum release, as scopes.profile_of.
        application = get_application_model().objects.filter(
            **{k.removeprefix("application__"): v for k, v in lookup.items()}
        )
        found = application.first()
        if found is None:
            return None
        profile, _ = ClientProfile.objects.get_or_create(application=found)
        profile.application = found
    return _keep(profile)


def by_client_id(client_id: str) -> Client | None:
    cached = _by_client_id.get(client_id)
    if cached is not None and cached.fresh:
        return cached
    return _load(application__client_id=client_id)


def by_pk(pk: int) -> Client | None:
    cached = _by_pk.get(pk)
    if cached is not None and cached.fresh:
        return cached
    return _load(application__pk=pk)


def forget_all(**_: object) -> None:
    """A client or a profile changed or went in this process: read them all again (a rare event)."""
    _by_client_id.clear()
    _by_pk.clear()


for _model in (get_application_model(), ClientProfile):
    post_save.connect(forget_all, sender=_model, dispatch_uid=f"oidc-clients-{_model.__name__}-saved")
    post_delete.connect(forget_all, sender=_model, dispatch_uid=f"oidc-clients-{_model.__name__}-deleted")


# --- Client authentication (RFC 6749 §2.3.1) ------------------------------------------------------


class ClientAuthError(Exception):
    """invalid_client (401), or invalid_request when the request itself is malformed."""

    def __init__(self, error: str, client_id: str) -> None:
        super().__init__(error)
        self.error = error
        self.client_id = client_id


def basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    """client_secret_basic: `Authorization: Basic` with the form-urlencoded id and secret (§2.3.1)."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    client_id, sep, secret = decoded.partition(":")
    return (unquote_plus(client_id), unquote_plus(secret)) if sep else ("", "")


def authenticate(request: HttpRequest) -> Client:
    """The client of a token request: basic or post credentials for a confidential client, its id
    alone for a public one; one method only (§2.3). Raises ClientAuthError."""
    basic = basic_credentials(request)
    form_id, form_secret = str(request.POST.get("client_id", "")), request.POST.get("client_secret")
    if basic is not None and form_secret is not None:
        raise ClientAuthError("invalid_request", basic[0])  # two authentication methods (§2.3)
    secret: str | None
    if basic is not None:
        client_id, secret = basic
        if form_id and form_id != client_id:
            raise ClientAuthError("invalid_request", client_id)
    else:
        client_id, secret = form_id, form_secret
    client = by_client_id(client_id) if client_id else None
    if client is None:
        raise ClientAuthError("invalid_client", client_id)
    if client.public:
        if secret:  # a public client has no secret: a request with one is not from it
            raise ClientAuthError("invalid_client", client_id)
        return client
    if not secret or not secret_matches(secret, str(client.application.client_secret)):
        raise ClientAuthError("invalid_client", client_id)
    return client
