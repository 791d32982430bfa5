"""Which claims each scope releases; the values themselves come from trousseau.federation.claims only.

- `openid`: `sub`, pairwise (one per client, or per sector).
- `profile`: given_name, family_name, birthdate.
- `ect.scope.cnx`: every other ÉduConnect claim (FrEduCtId, FrEduCtPersonAffiliation, …); the `{AAF}`
  join vectors in FrEduCtRefId (the account's own SIECLE ids, never an INE nor a child's) only for
  clients registered with `--join`.
- `children`: a guardian's children (ids, names, schools; no join vector), only for clients registered
  to receive them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from oauth2_provider.models import AbstractApplication
from oauth2_provider.scopes import SettingsScopes

from trousseau.accounts.models import Account
from trousseau.accounts.selectors import ClaimsRecords
from trousseau.federation import claims
from trousseau.federation.oidc import clients
from trousseau.federation.oidc.models import ClientProfile
from trousseau.federation.oidc.provider_settings import CHILDREN, ECT, OPENID, PROFILE, SCOPES

PROFILE_CLAIMS = {"given_name", "family_name", "birthdate"}


def scope_of(claim: str) -> str:
    if claim == "sub":
        return OPENID
    if claim == claims.BY_NAME[claims.CHILDREN].oidc_claim:
        return CHILDREN
    return PROFILE if claim in PROFILE_CLAIMS else ECT


def supported_claims() -> list[str]:
    return ["sub", *(spec.oidc_claim for spec in claims.SPECS)]


def profile_of(application: AbstractApplication) -> ClientProfile:
    cached = clients.by_pk(int(application.pk))  # the process's copy (clients.py), read at most once
    if cached is not None and cached.application.client_id == application.client_id:
        return cached.profile
    profile, _ = ClientProfile.objects.get_or_create(application=application)
    profile.application = application  # already read: its client_id is the default audience
    return profile


def subject(account: Account, application: AbstractApplication) -> str:
    return claims.pairwise_id(account, profile_of(application).audience)


def claims_for(
    account: Account,
    application: AbstractApplication,
    scopes: list[str],
    profile: ClientProfile | None = None,
    records: ClaimsRecords | None = None,
) -> dict[str, Any]:
    """The claims of the ID token and of userinfo: the same for the same account, client and scopes.

    `profile`: the client's, when the caller has it already (clients.Client), saving its read;
    `records`: the account's directory rows, when the caller read them with it (claim_sql.redeem)."""
    profile = profile or profile_of(application)
    release = dataclasses.replace(profile.release, children=profile.release_children and CHILDREN in scopes)
    # FrEduCtDateConnexion is the time of the login, as in a SAML assertion of the same session.
    values = claims.oidc_claims(account, release=release, now=account.last_login, records=records)
    released: dict[str, Any] = {"sub": claims.pairwise_id(account, profile.audience)}
    released.update({name: value for name, value in values.items() if scope_of(name) in scopes})
    return released


class ScopesBackend(SettingsScopes):  # type: ignore[misc]
    """All scopes, except `children` for clients not registered to receive children."""

    def get_all_scopes(self) -> dict[str, str]:
        return dict(SCOPES)

    def get_available_scopes(
        self, application: AbstractApplication | None = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        if application is not None and not profile_of(application).release_children:
            return [scope for scope in SCOPES if scope != CHILDREN]
        return list(SCOPES)

    def get_default_scopes(
        self, application: AbstractApplication | None = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return [OPENID]
