"""`python -m ent serve` runs a demo service; `python -m ent metadata` prints (or writes) its SAML metadata.

`--mode ent` (default) is the demo ENT, `--mode teleservices` the téléservices-like site (both SAML
service providers), `--mode pronote` the Pronote-like site (an OpenID Connect relying party).
Configuration comes from the environment (`ENT_PUBLIC_URL`, `ENT_IDP_METADATA_URL`, `ENT_VAR_DIR`,
`ENT_OIDC_ISSUER`, `ENT_OIDC_CLIENT_ID`, `ENT_OIDC_CLIENT_SECRET`, …, see ent/config.py); SAML keys are
made under ENT_VAR_DIR the first time.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from ent.config import MODES, Config, Mode
from ent.saml import ServiceProvider
from ent.server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ent", description="The demo services (ENT, téléservices, Pronote)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the demo service")
    run.add_argument("--bind", default="", help="host:port to listen on (default: that of ENT_PUBLIC_URL)")
    run.add_argument("--port", type=int, default=0, help="without ENT_PUBLIC_URL: serve http://127.0.0.1:PORT")
    wait = commands.add_parser("wait", help="wait until the service at ENT_PUBLIC_URL answers (15 s at most)")
    wait.add_argument("--port", type=int, default=0, help="as for serve")
    meta = commands.add_parser("metadata", help="print the SP metadata (making the keys if needed)")
    meta.add_argument("--out", type=Path, help="write it to this file instead")
    for command in (run, wait, meta):
        command.add_argument("--mode", choices=MODES, default="ent", help="ent (default), teleservices or pronote")
    args = parser.parse_args(argv)
    mode: Mode = args.mode
    config = Config.from_env(mode=mode, port=getattr(args, "port", 0))

    if args.command == "wait":
        return _wait(config.ready_url)
    if args.command == "metadata":
        if not config.saml:
            parser.error("only the SAML modes (ent, teleservices) have SAML metadata")
        xml = ServiceProvider(config).metadata_xml()
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_bytes(xml)
        else:
            sys.stdout.buffer.write(xml)
        return 0

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    public = urlsplit(config.public_url)
    host, _, port = (args.bind or public.netloc).rpartition(":")
    server = serve(config, host or "127.0.0.1", int(port or public.port or 80))
    if config.saml:
        logging.getLogger("ent").info(
            "%s: %s on %s (IdP metadata: %s)", config.name, config.entity_id, config.public_url, config.idp_metadata_url
        )
    else:
        logging.getLogger("ent").info(
            "%s: client %s on %s (issuer: %s)",
            config.name,
            config.oidc_client_id,
            config.public_url,
            config.oidc_issuer,
        )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _wait(url: str, seconds: float = 15) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - our own http(s) URL
                return 0 if answer.status == 200 else 1  # noqa: PLR2004
        except OSError:
            time.sleep(0.2)
    sys.stderr.write(f"the demo service did not answer at {url}\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
