"""The delivery worker: sends pending SMS and emails whose time has come, retrying failures.

Run it next to the web processes (`manage.py deliver_pending`); several can run at once on
PostgreSQL. `--once` does one pass and exits (cron, tests).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from trousseau.notifications.delivery import deliver_due


class Command(BaseCommand):
    help = "Send due SMS and emails, retrying failed ones with backoff."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass over what is due, then exit")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between passes (default 5)")
        parser.add_argument("--batch", type=int, default=50, help="deliveries claimed per transaction")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        if not options["once"]:
            # A stop request (systemd, docker, Ctrl-C) lets the current pass finish: killed mid-send,
            # a message would go out again once its lease ends.
            def request_stop(signum: int, frame: FrameType | None) -> None:
                stop.set()

            signal.signal(signal.SIGTERM, request_stop)
            signal.signal(signal.SIGINT, request_stop)
        while True:
            counts = deliver_due(limit=options["batch"])
            if any(counts.values()):
                self.stdout.write(", ".join(f"{count} {state}" for state, count in counts.items()))
            if options["once"] or stop.wait(options["interval"]):
                return
            # As between two requests: drop a connection the database closed (restart, failover)
            # instead of failing on it for the rest of the worker's life.
            close_old_connections()
