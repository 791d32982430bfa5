"""`python -m ent serve` runs the demo ENT; `python -m ent metadata` prints (or writes) its SAML metadata.

Configuration comes from the environment (`ENT_PUBLIC_URL`, `ENT_IDP_METADATA_URL`, `ENT_VAR_DIR`,
…, see ent/config.py); the keys are made under ENT_VAR_DIR the first time.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from ent.config import Config
from ent.saml import ServiceProvider
from ent.server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ent", description="The demo ENT (SAML service provider).")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the ENT")
    run.add_argument("--bind", default="", help="host:port to listen on (default: that of ENT_PUBLIC_URL)")
    commands.add_parser("wait", help="wait until the ENT at ENT_PUBLIC_URL serves its metadata (15 s at most)")
    meta = commands.add_parser("metadata", help="print the SP metadata (making the keys if needed)")
    meta.add_argument("--out", type=Path, help="write it to this file instead")
    args = parser.parse_args(argv)
    config = Config.from_env()

    if args.command == "wait":
        return _wait(config.entity_id)
    if args.command == "metadata":
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
    logging.getLogger("ent").info(
        "ENT %s on %s (IdP metadata: %s)", config.entity_id, config.public_url, config.idp_metadata_url
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
    sys.stderr.write(f"the ENT did not answer at {url}\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
