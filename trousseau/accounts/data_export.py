""" "Télécharger mes données" (RGPD art. 15 and 20): what the service holds about the account, as JSON.

The holder re-types the password, guarded like the mire and the password change (the identifier's
throttle counts the attempt before the check). The document holds the account, the school records
it speaks for, its letters' dates, its sessions, the services it logged in to and its security
history, each event with the label the history page shows. Never a hash, a code, a secret, the
FranceConnect `sub` (only whether a link exists) or another person's data (staff names in events).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from trousseau.accounts.activity import EVENT_LABELS, UNKNOWN_EVENT
from trousseau.accounts.authentication import confirm_password
from trousseau.accounts.models import Account, AccountKind
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.audit.services import audit
from trousseau.directory.models import Guardian, Pupil

FORMAT = "trousseau-export/1"
# Event details the holder may read: what and how, never who on the staff side or any secret.
EVENT_DETAILS = frozenset({"channel", "client", "ending", "purpose", "reason", "service", "status"})
# Logins to services, as the audit trail records them: the event, the protocol, the key naming the service.
SERVICE_LOGINS = {
    EventTag.OIDC_CODE_ISSUED: ("openid_connect", "client"),
    EventTag.SAML_ASSERTION_ISSUED: ("saml", "service"),
}


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value else None


def _school(pupil: Pupil) -> dict[str, str]:
    return {"uai": pupil.school.uai, "name": pupil.school.name}


def _pupil(pupil: Pupil) -> dict[str, Any]:
    return {
        "ine": pupil.ine,
        "last_name": pupil.last_name,
        "first_name": pupil.first_name,
        "birth_date": _when(pupil.birth_date),
        "class_name": pupil.class_name,
        "school": _school(pupil),
    }


def _guardian(record: Guardian) -> dict[str, Any]:
    return {
        "last_name": record.last_name,
        "first_name": record.first_name,
        "mobile": record.mobile,
        "email": record.email,
        "school": record.school.uai if record.school else None,
    }


def _account(account: Account) -> dict[str, Any]:
    return {
        "identifier": account.identifier,
        "kind": account.kind,
        "state": account.state,
        "last_name": account.last_name,
        "first_name": account.first_name,
        "created_at": _when(account.created_at),
        "activated_at": _when(account.activated_at),
        "last_login": _when(account.last_login),
        "email": account.email,
        "email_verified_at": _when(account.email_verified_at),
        "pending_email": account.pending_email,
        "phone": account.phone,
        "phone_verified_at": _when(account.phone_verified_at),
        "franceconnect_linked": account.franceconnect_sub is not None,
    }


def _directory(account: Account) -> dict[str, Any]:
    pupils = account.pupils().select_related("school").order_by("last_name", "first_name", "pk")
    if account.kind == AccountKind.PUPIL:
        return {"pupil": next((_pupil(p) for p in pupils), None)}
    records = Guardian.objects.filter(account_link__account=account).select_related("school").order_by("pk")
    return {"guardian_records": [_guardian(r) for r in records], "children": [_pupil(p) for p in pupils]}


def _services(events: list[AuditEvent]) -> list[dict[str, Any]]:
    used: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for event in events:
        if event.tag in SERVICE_LOGINS:
            protocol, key = SERVICE_LOGINS[EventTag(event.tag)]
            used[protocol, str(event.data.get(key, ""))].append(event.created_at)
    return [
        {
            "protocol": protocol,
            "service": service,
            "logins": len(times),
            "first": _when(min(times)),
            "last": _when(max(times)),
        }
        for (protocol, service), times in sorted(used.items())
    ]


def _event(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": _when(event.created_at),
        "event": event.tag,
        "label": str(EVENT_LABELS.get(event.tag, UNKNOWN_EVENT)),
        "ip": event.ip_address,
        "details": {k: v for k, v in sorted(event.data.items()) if k in EVENT_DETAILS},
    }


def export_document(account: Account) -> dict[str, Any]:
    """Everything the export holds; a read only."""
    events = list(AuditEvent.objects.filter(account=account).order_by("created_at", "pk"))
    return {
        "format": FORMAT,
        "exported_at": _when(timezone.now()),
        "account": _account(account),
        "directory": _directory(account),
        "letters": [
            {
                "issued_at": _when(letter.issued_at),
                "expires_at": _when(letter.expires_at),
                "used_at": _when(letter.used_at),
                "revoked_at": _when(letter.revoked_at),
            }
            for letter in account.letters.order_by("issued_at", "pk")
        ],
        "sessions": [
            {"opened_at": _when(row.created_at), "ip": row.ip_address, "user_agent": row.user_agent}
            for row in account.sessions.order_by("created_at", "pk")
        ],
        "services": _services(events),
        "events": [_event(event) for event in events],
    }


def data_export(*, account: Account, password: str, ip: str) -> dict[str, Any]:
    """Check the password (throttled as at the mire), audit, and return the document.

    Raises TooManyTries or WrongCurrentPassword (audited), exporting nothing.
    """
    confirm_password(
        account=account, password=password, ip=ip, refused=EventTag.DATA_EXPORT_REFUSED, wrong="wrong_password"
    )
    audit(EventTag.DATA_EXPORTED, account=account, ip=ip)
    return export_document(account)
