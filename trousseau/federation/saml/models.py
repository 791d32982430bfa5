"""Registered service providers and the AuthnRequest IDs already answered (replay guard)."""

from __future__ import annotations

import threading
from datetime import datetime
from functools import cached_property

from django.db import models
from django.utils import timezone

from trousseau.federation.claims import Release
from trousseau.federation.saml.metadata import SpMetadata, parse_sp


class ServiceProvider(models.Model):
    """A SAML SP, known only through its metadata (file or URL, refreshed by `saml_sp_refresh`)."""

    entity_id = models.CharField("entityID", max_length=1024, unique=True)
    name = models.CharField("nom", max_length=200, blank=True)
    # Where a family starts again when a login request of this SP is gone, and what "Mes services" opens.
    home_url = models.URLField("page d'accueil", max_length=1024, blank=True)
    metadata_xml = models.TextField("métadonnées")
    metadata_url = models.URLField("URL des métadonnées", max_length=1024, blank=True)
    metadata_fetched_at = models.DateTimeField(null=True, blank=True)
    # Children (names, school) go only to services that need them (ENT, Pronote): data minimisation.
    release_children = models.BooleanField("transmettre les enfants", default=False)
    # The `{AAF}` join vectors (the académie directory's ids of the account's own records) only to
    # services that join their directory on them (ENT); the INE goes to none (claims.join_vectors).
    release_join = models.BooleanField("transmettre les vecteurs de jointure {AAF}", default=False)
    # Encrypted assertions need the SP's encryption certificate in its metadata.
    encrypt_assertions = models.BooleanField("chiffrer les assertions", default=False)
    # Unsolicited responses are the replay/login-CSRF vector: off unless the SP is known to need them.
    allow_idp_initiated = models.BooleanField("connexion initiée par le fournisseur d'identité", default=False)
    enabled = models.BooleanField("actif", default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "fournisseur de service SAML"

    def __str__(self) -> str:
        return self.name or self.entity_id

    @property
    def release(self) -> Release:
        return Release(children=self.release_children, join=self.release_join)

    @cached_property
    def parsed(self) -> SpMetadata:
        return parsed_metadata(self.pk, self.updated_at, self.metadata_xml)


_parsed: dict[tuple[int | None, datetime | None, str], SpMetadata] = {}
_lock = threading.Lock()
MAX_PARSED = 64


def parsed_metadata(pk: int | None, updated_at: datetime | None, xml: str) -> SpMetadata:
    """An SP's metadata parsed once per process and version: each request reads its row again, but
    the same row (same text, same `updated_at`) is not parsed again. SpMetadata is immutable."""
    key = (pk, updated_at, xml)
    with _lock:
        found = _parsed.get(key)
    if found is None:
        found = parse_sp(xml)
        with _lock:
            if len(_parsed) >= MAX_PARSED:
                _parsed.clear()
            _parsed[key] = found
    return found


class SeenRequest(models.Model):
    """An AuthnRequest or LogoutRequest ID already used, kept while such a request could still be valid."""

    service_provider = models.ForeignKey(ServiceProvider, on_delete=models.CASCADE, related_name="+")
    request_id = models.CharField(max_length=256)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = (models.UniqueConstraint(fields=("service_provider", "request_id"), name="saml_seen_once"),)

    def __str__(self) -> str:
        return self.request_id
