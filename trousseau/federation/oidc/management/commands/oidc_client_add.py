"""Register an OpenID Connect client (operator only: there is no dynamic registration)."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trousseau.federation.oidc.metadata import issuer
from trousseau.federation.oidc.services import InvalidClient, register_client


class Command(BaseCommand):
    help = (
        "Register an OpenID Connect client (authorization code + PKCE, no consent screen) and print its "
        "client id and, once, its secret."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="shown to users on the logout page")
        parser.add_argument(
            "--redirect-uri", action="append", required=True, dest="redirect_uris", help="exact, repeatable"
        )
        parser.add_argument(
            "--post-logout-uri", action="append", default=[], dest="post_logout_uris", help="repeatable"
        )
        parser.add_argument("--backchannel-uri", default="", help="where logout tokens are POSTed")
        parser.add_argument("--backchannel-without-sid", action="store_true", help="logout tokens carry sub, not sid")
        parser.add_argument("--public", action="store_true", help="a public client (no secret, PKCE required)")
        parser.add_argument(
            "--children", action="store_true", help="may receive a guardian's children (scope children)"
        )
        parser.add_argument(
            "--join",
            action="store_true",
            help="may receive the account's own {AAF} join vectors (SIECLE ids, never the INE), for an ENT",
        )
        # The flag's name until issue #18 (the vectors carried the INE then): kept for operators' scripts.
        parser.add_argument("--ine", action="store_true", dest="join", help=argparse.SUPPRESS)
        parser.add_argument("--home-url", default="", help="the service's home page, where a family starts again")
        parser.add_argument("--sector", default="", help="clients of one sector get the same pairwise sub")
        parser.add_argument("--client-id", default=None, help="default: generated")
        parser.add_argument("--client-secret", default=None, help="demos only; default: generated")
        parser.add_argument(
            "--update", action="store_true", help="create or change the client --client-id (idempotent, for scripts)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            registration = register_client(
                name=options["name"],
                redirect_uris=options["redirect_uris"],
                post_logout_redirect_uris=options["post_logout_uris"],
                backchannel_logout_uri=options["backchannel_uri"],
                backchannel_logout_session_required=not options["backchannel_without_sid"],
                public=options["public"],
                release_children=options["children"],
                release_join=options["join"],
                sector=options["sector"],
                home_url=options["home_url"],
                client_id=options["client_id"],
                client_secret=options["client_secret"],
                update=options["update"],
            )
        except InvalidClient as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"issuer: {issuer()}")
        self.stdout.write(f"client_id: {registration.application.client_id}")
        self.stdout.write(f"release: {registration.release.describe()}")
        if registration.client_secret:
            self.stdout.write(f"client_secret: {registration.client_secret}")
            self.stdout.write("The secret is shown only now: Trousseau keeps only its digest.")
