"""`purge_expired`: the retention rules applied in batches, then one summary audit event.

Each batch is one short statement in its own transaction (`DELETE … WHERE <rule> AND pk IN (SELECT pk
… WHERE <rule> LIMIT RETENTION_BATCH_SIZE)`), so millions of rows never make one giant transaction,
never hold long locks beside the journeys, and a purge stopped half-way keeps what it did.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from oauth2_provider.models import clear_expired, get_access_token_model, get_grant_model, get_id_token_model

from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.retention.rules import RULES, Rule

logger = logging.getLogger(__name__)
OIDC_TOKENS = "oidc_tokens"


def _apply_in_batches(rule: Rule, rows: QuerySet[Any], batch_size: int) -> dict[str, int]:
    """One statement per batch (`… WHERE pk IN (SELECT pk … LIMIT n) AND <rule>`), each committed alone.

    Returns the rows changed per model label (a delete's cascades included).
    """
    done: Counter[str] = Counter()
    label = rows.model._meta.label  # noqa: SLF001 - Django's public way to name a model
    while True:
        # The rule is applied again around the batch: a row that came back to life meanwhile stays.
        # order_by(): no sort in the subquery (the models' default orderings would force one).
        batch = rows.filter(pk__in=rows.order_by().values("pk")[:batch_size])
        with transaction.atomic():
            changed = _change(rule, batch, label)
        if not changed.get(label):
            return dict(done)  # nothing left (or nothing of this batch could go: never select the same rows again)
        done.update(changed)


def _change(rule: Rule, batch: QuerySet[Any], label: str) -> dict[str, int]:
    if rule.scrub:
        return {label: batch.update(**rule.scrub)}
    # only("pk"): where Django must collect the rows (cascades), it reads their keys, not their data.
    return batch.only("pk").delete()[1]


def _apply(rule: Rule, now: datetime, *, dry_run: bool, batch_size: int) -> dict[str, int]:
    rows = rule.rows(now)
    if dry_run:
        counts = {rule.name: rows.count()}
        if rule.cascade:
            counts[rule.cascade.name] = rule.cascade.rows_of(rows).count()
        return counts
    changed = _apply_in_batches(rule, rows, batch_size)
    counts = {rule.name: changed.get(rows.model._meta.label, 0)}  # noqa: SLF001
    if rule.cascade:
        cascaded = rule.cascade.rows_of(rows).model._meta.label  # noqa: SLF001
        counts[rule.cascade.name] = changed.get(cascaded, 0)
    return counts


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
        counts.update(_apply(rule, now, dry_run=dry_run, batch_size=batch_size))
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
        **{rule.cascade.name: f"with {rule.name}: {rule.reason}" for rule in RULES if rule.cascade},
        OIDC_TOKENS: "expired OpenID Connect codes and tokens (django-oauth-toolkit)",
    }
