"""Rotate the OpenID Connect signing keys (see trousseau/federation/oidc/keyfiles.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from trousseau.federation.oidc import keyfiles
from trousseau.federation.oidc.provider_settings import ID_TOKEN_SECONDS


class Command(BaseCommand):
    help = (
        "current -> retired, next -> current, a new next key; retired keys older than --keep-hours are "
        "removed. Then restart every web process."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # ID tokens are accepted (expired) as logout hints for a whole session: keep a retired key that long.
        default = (settings.SESSION_COOKIE_AGE + ID_TOKEN_SECONDS) / 3600
        parser.add_argument("--keep-hours", type=float, default=default)

    def handle(self, *args: Any, **options: Any) -> None:
        removed = keyfiles.rotate(settings.OIDC_KEYS_DIR, keep_retired=timedelta(hours=options["keep_hours"]))
        self.stdout.write(f"Keys rotated in {settings.OIDC_KEYS_DIR}; {len(removed)} retired key(s) removed.")
        self.stdout.write("Restart every web process so that they sign with the new current key.")
