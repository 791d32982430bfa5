"""Delete expired tokens and codes, and authorizations older than a login session (run it daily)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from oauth2_provider.models import clear_expired

from trousseau.federation.oidc.services import prune_authorizations


class Command(BaseCommand):
    help = "Delete expired OpenID Connect tokens and codes, and authorizations older than a login session."

    def handle(self, *args: Any, **options: Any) -> None:
        clear_expired()
        self.stdout.write(f"{prune_authorizations()} old authorization(s) deleted.")
