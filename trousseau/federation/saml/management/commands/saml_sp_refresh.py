"""Fetch again the metadata of every SAML service provider registered from a URL (cron it daily)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from trousseau.federation.saml.metadata import MetadataError
from trousseau.federation.saml.models import ServiceProvider
from trousseau.federation.saml.services import sp_refresh


class Command(BaseCommand):
    help = "Refresh the metadata of SAML service providers registered with --url."

    def handle(self, *args: Any, **options: Any) -> None:
        failed = 0
        for sp in ServiceProvider.objects.exclude(metadata_url=""):
            try:
                refreshed = sp_refresh(sp)
            except MetadataError as exc:
                # The metadata already stored stays in use: an SP's outage must not cut its users off.
                failed += 1
                self.stderr.write(f"{sp.entity_id}: kept the stored metadata ({exc})")
            else:
                self.stdout.write(f"{sp.entity_id}: refreshed, release={refreshed.release.describe()}")
        if failed:
            raise CommandError(f"{failed} service provider(s) not refreshed")
