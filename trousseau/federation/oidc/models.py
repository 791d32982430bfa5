"""What Trousseau keeps beside django-oauth-toolkit's tables: client options and authorizations."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from oauth2_provider.settings import APPLICATION_MODEL

from trousseau.federation.claims import Release


class ClientProfile(models.Model):
    """The operator's choices for one registered client (django-oauth-toolkit's Application)."""

    application = models.OneToOneField(APPLICATION_MODEL, on_delete=models.CASCADE, related_name="trousseau")
    # A guardian's children (ids, names, schools) go only to services that need them (Pronote, the ENT).
    release_children = models.BooleanField(default=False)
    # The `{AAF}` join vectors (the académie directory's ids of the account's own records) only to
    # services that join their directory on them (ENT); the INE goes to none (claims.join_vectors).
    release_join = models.BooleanField("transmettre les vecteurs de jointure {AAF}", default=False)
    # OpenID Connect Back-Channel Logout 1.0: where logout tokens are POSTed, and whether they carry `sid`.
    backchannel_logout_uri = models.URLField(max_length=500, blank=True)
    backchannel_logout_session_required = models.BooleanField(default=True)
    # Clients with the same sector get the same pairwise `sub` (an ENT and its mobile app); default: client_id.
    sector = models.CharField(max_length=255, blank=True)
    # Where a family starts again when an authorization of this client is gone, and what "Mes services"
    # opens; the name shown is the Application's.
    home_url = models.URLField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"profile of {self.application}"

    @property
    def release(self) -> Release:
        """What the client is registered to receive; children also need the `children` scope granted."""
        return Release(children=self.release_children, join=self.release_join)

    @property
    def audience(self) -> str:
        return self.sector or str(self.application.client_id)


class Authorization(models.Model):
    """One authorization code, issued in one browser session, and all its token request needs.

    It ties the code to the session (for `sid` and back-channel logout) and to the refresh-token family
    the code gave (to revoke everything when the code is replayed or the session ends). It also holds
    what the authorization request said (redirect URI, scopes, nonce, PKCE challenge), so that the
    code is one row, written once at the authorization endpoint and claimed by one statement at the
    token endpoint (tokens.py); django-oauth-toolkit's Grant rows are no longer made.
    """

    code_hash = models.CharField(max_length=64)
    # What the authorization request said (RFC 6749 §4.1.3: the token request must match redirect_uri;
    # RFC 7636: the S256 challenge, the only method accepted).
    redirect_uri = models.TextField(blank=True)
    scope = models.TextField(blank=True)
    nonce = models.CharField(max_length=255, blank=True)
    code_challenge = models.CharField(max_length=128, blank=True)
    application = models.ForeignKey(APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40)
    sid = models.CharField(max_length=64)
    # When the person logged in to that session: the ID token's auth_time (OIDC Core §2).
    authenticated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    redeemed_at = models.DateTimeField(null=True, blank=True)
    replayed_at = models.DateTimeField(null=True, blank=True)
    # The refresh-token family the code gives, drawn with the code so that its claim changes no indexed
    # column (a HOT update: no index entry written while the family waits for its token request).
    token_family = models.UUIDField(null=True, blank=True)

    class Meta:
        # Indexes and the code's uniqueness declared here rather than by the fields, which on PostgreSQL
        # would add a second, `varchar_pattern_ops` index to each for LIKE, a query never made: one
        # more index entry written per code for nothing.
        constraints = [models.UniqueConstraint(fields=["code_hash"], name="oidc_authorization_code")]
        indexes = [
            models.Index(fields=["session_key"], name="oidc_authorization_session"),
            models.Index(fields=["token_family"], name="oidc_authorization_family"),
        ]

    def __str__(self) -> str:
        return f"authorization {self.pk} of {self.account_id} for {self.application_id}"
