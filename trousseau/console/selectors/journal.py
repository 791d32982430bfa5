"""The console's own audit trail, per school: who did what, when, and for imports what they did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext

from trousseau.accounts.activity import EVENT_LABELS, UNKNOWN_EVENT
from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.directory.models import Guardian, Pupil, School

JOURNAL_LENGTH = 200
JOURNAL_ACCOUNTS = 10  # identifiers a batch's line names; the audit row keeps them all
IMPORT_TAGS = {EventTag.CONSOLE_IMPORT_PREVIEWED, EventTag.CONSOLE_IMPORT_APPLIED, EventTag.CONSOLE_IMPORT_REFUSED}


@dataclass(frozen=True)
class JournalLine:
    at: datetime
    tag: str
    label: str
    staff_email: str
    account: str
    ip: str | None
    detail: str = ""


def school_journal(school: School) -> list[JournalLine]:
    # A move made by another school's import or by the académie's command line is this school's too.
    mine = Q(tag__startswith="console:") | Q(tag=EventTag.DIRECTORY_PUPIL_TRANSFERRED)
    rows = (
        AuditEvent.objects.filter(mine, data__school=school.uai)
        .select_related("account")
        .order_by("-created_at", "-id")[:JOURNAL_LENGTH]
    )
    return [
        JournalLine(
            at=row.created_at,
            tag=row.tag,
            label=str(EVENT_LABELS.get(row.tag, UNKNOWN_EVENT)),
            staff_email=str(row.data.get("staff_email", "")),
            account=row.account.identifier if row.account else "",
            ip=row.ip_address,
            detail=detail(row.tag, row.data),
        )
        for row in rows
    ]


def detail(tag: str, data: dict[str, Any]) -> str:
    """What an import did (files, pupils who arrived, left, changed, accounts disabled), or a move."""
    if tag == EventTag.DIRECTORY_PUPIL_TRANSFERRED:
        text = gettext("Élève %(ine)s : de %(origin)s vers %(destination)s (%(actor)s)")
        return text % {
            "ine": data.get("pupil", ""),
            "origin": data.get("from", "") or "—",
            "destination": data.get("to", "") or "—",
            "actor": data.get("actor", ""),
        }
    other = _action_detail(tag, data)
    if other is not None:
        return other
    if tag not in IMPORT_TAGS:
        return ""
    files = ", ".join(str(data[k]) for k in ("pupils_name", "guardians_name") if data.get(k))
    parts = [gettext("fichiers : %(files)s") % {"files": files or "—"}]
    if data.get("mode"):
        complete = data["mode"] == "complete"
        parts.append(gettext("liste complète") if complete else gettext("ajouts et modifications"))
    if "error" in data:
        parts.append(str(data["error"]))
    pupils, accounts = data.get("pupils"), data.get("accounts")
    if isinstance(pupils, dict):
        counts = {k: pupils.get(k, 0) for k in ("created", "left", "updated", "returned")}
        parts.append(
            gettext("élèves : %(created)s arrivés, %(left)s partis, %(updated)s modifiés, %(returned)s revenus")
            % counts
        )
    if isinstance(accounts, dict):
        parts.append(gettext("comptes désactivés : %(n)s") % {"n": accounts.get("disabled", 0)})
    if data.get("error_count"):
        parts.append(gettext("lignes refusées : %(n)s") % {"n": data["error_count"]})
    if data.get("phone_conflicts"):
        parts.append(
            gettext("portables corrigés en conflit : %(n)s, dont %(f)s pris du fichier")
            % {"n": data["phone_conflicts"], "f": data.get("phones_from_file", 0)}
        )
    return " ; ".join(parts)


LETTER_TAGS = {EventTag.CONSOLE_LETTERS_PRINTED, EventTag.CONSOLE_LETTERS_EXPORTED, EventTag.CONSOLE_LETTERS_EMAILED}
LINK_TAGS = {EventTag.CONSOLE_LINK_CONFIRMED, EventTag.CONSOLE_LINK_REMOVED}
ACCOUNT_TAGS = {EventTag.CONSOLE_ACCOUNT_RESET, EventTag.CONSOLE_ACCOUNT_DISABLED, EventTag.CONSOLE_ACCOUNT_ENABLED}
BATCH_TAGS = {EventTag.CONSOLE_BATCH_APPLIED, EventTag.CONSOLE_BATCH_REFUSED}


def _scope(scope: str) -> str:
    if scope.startswith("class:"):
        return gettext("classe %(name)s") % {"name": scope.removeprefix("class:")}
    named = {
        "school": gettext("tout l'établissement"),
        "account": gettext("un compte"),
        "batch": gettext("une sélection de comptes"),
    }
    return named.get(scope, gettext("les comptes d'une famille"))


def _action_detail(tag: str, data: dict[str, Any]) -> str | None:
    """What letters, links, exports and account actions did; None for the other tags."""
    if tag in LETTER_TAGS:
        return gettext("%(scope)s : %(count)s courrier(s)") % {
            "scope": _scope(str(data.get("scope", ""))),
            "count": data.get("count", 0),
        }
    if tag in LINK_TAGS:
        return gettext("élève %(ine)s ; signalé par le compte n° %(reporter)s") % {
            "ine": data.get("pupil", ""),
            "reporter": data.get("reported_by") or "—",
        }
    if tag == EventTag.CONSOLE_FOLLOWUP_EXPORTED:
        what = {"waiting": gettext("comptes en attente"), "classes": gettext("taux par classe")}
        text = what.get(str(data.get("export", "")), gettext("évolution"))
        if data.get("class_name"):
            text += " — " + _scope(f"class:{data['class_name']}")
        return text
    if tag in BATCH_TAGS:
        return _batch_detail(tag, data)
    if tag in ACCOUNT_TAGS and "sessions_ended" in data:
        return gettext("sessions fermées : %(n)s") % {"n": data["sessions_ended"]}
    return None


def _batch_detail(tag: str, data: dict[str, Any]) -> str:
    """A batch: its action and how many accounts; the identifiers acted on (or why it was refused)."""
    action = {
        "reprint": gettext("courriers réimprimés"),
        "export": gettext("courriers exportés en CSV"),
        "reset": gettext("comptes réinitialisés"),
        "disable": gettext("comptes désactivés"),
    }.get(str(data.get("action", "")), str(data.get("action", "")))
    text = gettext("%(action)s : %(count)s compte(s)") % {"action": action, "count": data.get("count", 0)}
    if tag == EventTag.CONSOLE_BATCH_REFUSED:
        return f"{text} — {data.get('reason', '')}"
    accounts = [str(a) for a in data.get("accounts", [])]
    if not accounts:
        return text
    shown = ", ".join(accounts[:JOURNAL_ACCOUNTS])
    if len(accounts) > JOURNAL_ACCOUNTS:
        shown += " " + gettext("et %(n)s autres") % {"n": len(accounts) - JOURNAL_ACCOUNTS}
    return f"{text} ({shown})"


@dataclass(frozen=True)
class ResolvedContest:
    """A reported link the school looked at: what it decided, who decided, who had reported it."""

    at: datetime
    removed: bool
    decided_by: str  # the staff member's email
    pupil: str  # names and INE, as the directory has them now (the INE alone if the pupil is gone)
    guardian: str
    reported_by: str  # the identifier of the family account that reported it


def resolved_contests(school: School) -> list[ResolvedContest]:
    """The school's decisions on reported links, newest first, read back from the audit trail.

    A removed link is deleted from the directory (with its report): the audit event is what is left of it.
    """
    rows = list(
        AuditEvent.objects.filter(tag__in=LINK_TAGS, data__school=school.uai).order_by("-created_at", "-id")[
            :JOURNAL_LENGTH
        ]
    )
    pupils = {
        p.ine: f"{p.first_name} {p.last_name} (INE {p.ine})"
        for p in Pupil.objects.filter(ine__in={str(r.data.get("pupil", "")) for r in rows})
    }
    guardians = {
        g.pk: f"{g.first_name} {g.last_name}"
        for g in Guardian.objects.filter(pk__in={r.data.get("guardian") for r in rows if r.data.get("guardian")})
    }
    reporters = dict(
        Account.objects.filter(
            pk__in={r.data.get("reported_by") for r in rows if r.data.get("reported_by")}
        ).values_list("pk", "identifier")
    )
    return [
        ResolvedContest(
            at=row.created_at,
            removed=row.tag == EventTag.CONSOLE_LINK_REMOVED,
            decided_by=str(row.data.get("staff_email", "")),
            pupil=pupils.get(str(row.data.get("pupil", "")), f"INE {row.data.get('pupil', '')}"),
            guardian=guardians.get(row.data.get("guardian"), "—"),
            reported_by=reporters.get(row.data.get("reported_by"), "—"),
        )
        for row in rows
    ]
