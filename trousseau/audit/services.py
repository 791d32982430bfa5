"""Writing the audit trail: one typed row per security step."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.db import connection
from django.db.models import Model
from django.db.models.signals import post_save

from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.core.model_sql import insert
from trousseau.core.secrets import keyed_digest
from trousseau.core.session_store import SessionStore

# `initial.nom` + digits, folded (accounts.identifiers): what an identifier can look like.
IDENTIFIER_SHAPE = re.compile(r"[a-z0-9]\.[a-z0-9]{1,30}")


def audit(tag: EventTag, *, account: Model | None = None, ip: str | None = None, **data: Any) -> AuditEvent:
    # `account` is an accounts.Account; typed as any model because the trail imports no app above it.
    account_id = account.pk if account is not None else None
    return AuditEvent.objects.create(tag=tag, account_id=account_id, ip_address=ip or None, data=data)


_COLUMNS = ("tag", "account_id", "ip_address", "data", "created_at")


def audit_statement(
    tag: EventTag, *, account: Model | None = None, ip: str | None = None, **data: Any
) -> tuple[AuditEvent, tuple[str, list[Any]]]:
    """`audit`'s event unsaved, and its `INSERT … RETURNING id`, for a caller that sends it with other
    writes in one statement (a password login: accounts/authentication.py), then calls `audited`."""
    event = AuditEvent(
        tag=tag, account_id=account.pk if account is not None else None, ip_address=ip or None, data=data
    )
    return event, insert(AuditEvent, {name: getattr(event, name) for name in _COLUMNS}, returning="id")


def audited(event: AuditEvent, pk: int) -> AuditEvent:
    """The event `audit_statement` gave, now inserted as `pk`: announced as `audit`'s save announces it
    (ops/counting.py counts the events from that signal)."""
    event.pk = pk
    event._state.adding = False  # noqa: SLF001 - as Model.save leaves it
    post_save.send(
        sender=AuditEvent, instance=event, created=True, update_fields=None, raw=False, using=connection.alias
    )
    return event


def audit_with_session(
    session: SessionBase, tag: EventTag, *, account: Model | None = None, ip: str | None = None, **data: Any
) -> None:
    """`audit`, written by the session's save at the end of this response: with the session's row in one
    statement on PostgreSQL (core/session_store.py). For the event of what a response does only when it
    is delivered with its session (a SAML answer: an error response, which saves no session, delivers
    no assertion either). Another session store writes the event at once."""
    if not isinstance(session, SessionStore):
        audit(tag, account=account, ip=ip, **data)
        return
    event, (sql, params) = audit_statement(tag, account=account, ip=ip, **data)
    session.write_with_save(sql, params, lambda pk: audited(event, pk))


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
