"""Register (or update) a SAML service provider from its metadata: a file or a URL."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from trousseau.federation.saml.metadata import MetadataError
from trousseau.federation.saml.services import sp_register, sp_register_from_url


class Command(BaseCommand):
    help = "Register a SAML service provider from its metadata (--file or --url)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--file", type=Path, help="metadata XML file")
        source.add_argument("--url", help="metadata URL (kept for saml_sp_refresh)")
        parser.add_argument("--name", default="", help='name shown to families ("Mes services") and operators')
        parser.add_argument("--home-url", default="", help="the service's home page, where a family starts again")
        flag = argparse.BooleanOptionalAction
        # The release policy (claims.Release): off for a new SP unless asked, kept as is on an update.
        parser.add_argument("--release-children", action=flag, default=None, help="send a guardian's children list")
        parser.add_argument(
            "--release-join",
            action=flag,
            default=None,
            help="send the account's own {AAF} join vectors (SIECLE ids, never the INE), for an ENT's directory",
        )
        # The flag's name until issue #18 (the vectors carried the INE then): kept for operators' scripts.
        parser.add_argument("--release-ine", action=flag, dest="release_join", help=argparse.SUPPRESS)
        parser.add_argument("--encrypt", action=flag, default=None, help="encrypt assertions (needs an encryption key)")
        parser.add_argument("--idp-initiated", action=flag, default=None, help="allow Unsolicited/SSO for this SP")

    def handle(self, *args: Any, **options: Any) -> None:
        flags = {
            "name": options["name"],
            "home_url": options["home_url"],
            "release_children": options["release_children"],
            "release_join": options["release_join"],
            "encrypt": options["encrypt"],
            "allow_idp_initiated": options["idp_initiated"],
        }
        try:
            if options["file"]:
                sp = sp_register(options["file"].read_bytes(), **flags)
            else:
                sp = sp_register_from_url(options["url"], **flags)
        except (MetadataError, OSError) as exc:
            raise CommandError(f"Metadata refused: {exc}") from exc
        self.stdout.write(
            f"{sp.entity_id}: enabled={sp.enabled} encrypt={sp.encrypt_assertions} "
            f"idp_initiated={sp.allow_idp_initiated} release={sp.release.describe()}"
        )
