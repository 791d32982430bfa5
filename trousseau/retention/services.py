"""`purge_expired`: the retention rules applied in batches, then one summary audit event.

Each batch is its own short transaction (`DELETE … WHERE pk IN (…)` of at most RETENTION_BATCH_SIZE
rows, the rule re-checked in the statement), so millions of rows never make one giant transaction,
never hold long locks beside the journeys, and a purge stopped half-way keeps what it did.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from oauth2_provider.models import clear_expired, get_access_token_model, get_grant_model, get_id_token_model

from trousseau.accounts.events import EventTag
from trousseau.accounts.models import AuditEvent
from trousseau.retention.rules import RULES, Rule

logger = logging.getLogger(__name__)
OIDC_TOKENS = "oidc_tokens"


def _apply_in_batches(rule: Rule, rows: QuerySet[Any], batch_size: int) -> int:
    done = 0
    label = rows.model._meta.label  # noqa: SLF001 - Django's public way to name a model
    while pks := list(rows.values_list("pk", flat=True)[:batch_size]):
        with transaction.atomic():
            # The rule is applied again inside the statement: a row that came back to life meanwhile stays.
            if rule.scrub:
                changed = rows.filter(pk__in=pks).update(**rule.scrub)
            else:
                # only("pk"): where Django must collect the rows (cascades), it reads their keys, not their data.
                changed = rows.filter(pk__in=pks).only("pk").delete()[1].get(label, 0)
        if not changed:
            break  # nothing of this batch could go: stop rather than select the same rows again
        done += changed
    return done


def _expired_oidc_tokens(now: datetime) -> int:
    """What django-oauth-toolkit's `clear_expired` removes, as far as it can be told beforehand."""
    return int(
        get_grant_model().objects.filter(expires__lt=now).count()
        + get_access_token_model().objects.filter(refresh_token__isnull=True, expires__lt=now).count()
        + get_id_token_model().objects.filter(access_token__isnull=True, expires__lt=now).count()
    )


def purge_expired(
    *, dry_run: bool = False, now: datetime | None = None, batch_size: int | None = None
) -> dict[str, int]:
    """Apply every retention rule; how many rows each deleted (or, in a dry run, would delete).

    A dry run counts and changes nothing. A real run ends with one RETENTION_PURGED audit event.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.RETENTION_BATCH_SIZE
    counts: dict[str, int] = {}
    for rule in RULES:
        rows = rule.rows(now)
        counts[rule.name] = rows.count() if dry_run else _apply_in_batches(rule, rows, batch_size)
    counts[OIDC_TOKENS] = _expired_oidc_tokens(now)
    if not dry_run:
        clear_expired()  # batched by django-oauth-toolkit (CLEAR_EXPIRED_TOKENS_BATCH_SIZE)
        AuditEvent.objects.create(tag=EventTag.RETENTION_PURGED, data=counts)
        logger.info("retention purge: %s", ", ".join(f"{name} {n}" for name, n in counts.items()))
    return counts


def reasons() -> dict[str, str]:
    """Each kind of row and why it goes, for the command's report."""
    return {
        **{rule.name: rule.reason for rule in RULES},
        OIDC_TOKENS: "expired OpenID Connect codes and tokens (django-oauth-toolkit)",
    }
