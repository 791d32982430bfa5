"""Writing the audit trail: one typed row per security step."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Model

from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.core.secrets import keyed_digest

# `initial.nom` + digits, folded (accounts.identifiers): what an identifier can look like.
IDENTIFIER_SHAPE = re.compile(r"[a-z0-9]\.[a-z0-9]{1,30}")


def audit(tag: EventTag, *, account: Model | None = None, ip: str | None = None, **data: Any) -> AuditEvent:
    # `account` is an accounts.Account; typed as any model because the trail imports no app above it.
    account_id = account.pk if account is not None else None
    return AuditEvent.objects.create(tag=tag, account_id=account_id, ip_address=ip or None, data=data)


def typed_identifier(typed: str) -> str:
    """What the trail keeps of an identifier typed at a login that failed.

    People type their email, their phone number or even their password into the identifier field:
    only what has the shape of an identifier is kept as typed; an email keeps its first letter and
    domain (`l•••@exemple.fr`), anything else a keyed digest, so that repeated attempts still group.
    """
    if IDENTIFIER_SHAPE.fullmatch(typed):
        return typed
    local, at, domain = typed.rpartition("@")
    if at and local:
        return f"{local[:1]}•••@{domain}"
    return "#" + keyed_digest(typed, purpose="audit:typed-identifier")[:16]
