"""Migrate the database named by DATABASE_URL and create active accounts in it; print them as JSON.

    DATABASE_URL=postgres://… python bench/seed.py ACCOUNTS

Run by bench/cluster.py before the web processes start (so the keys they share exist too). The
accounts are bench/common.py's: half pupils, half their guardians (each with a mobile of their own),
all with the password `bench.common.PASSWORD`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(count: int) -> list[dict[str, str]]:
    import django

    django.setup()
    from django.core.management import call_command

    from bench.common import create_accounts
    from trousseau.accounts.models import Account

    call_command("migrate", verbosity=0)
    identifiers, _ = create_accounts(count)
    rows = Account.objects.filter(identifier__in=identifiers).values_list(
        "identifier", "kind", "guardian_links__guardian__mobile"
    )
    return [{"identifier": i, "kind": kind, "phone": phone or ""} for i, kind, phone in rows]


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
