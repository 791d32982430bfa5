"""Single sign-on state in the browser session: pending requests by execution key, SPs reached.

Like Shibboleth's Spring Web Flow, a pending AuthnRequest lives server-side under a flow key (`e1`,
`e2`: one flow per request in this session) so the login page URL carries no SAML; its pages are the
execution keys `e1s1`, `e1s2`, `e1s3`, one per step (research/educonnect.md §4.1). The
SPs that got an assertion in this session are recorded with the NameID and SessionIndex they got:
single logout sends each of them a LogoutRequest.

A POST-binding request comes cross-site, so a `SameSite=Lax` session cookie does not come with it
(research/security.md §2.1 item 8): writing the session then would replace the browser's real one
and lose its login. Such a request is handed to the next GET (which carries the cookie) in a signed,
short-lived URL parameter instead.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core import signing
from django.http import HttpRequest
from django.utils import timezone

from trousseau.accounts.sessions import authenticated_at
from trousseau.federation.saml.inbound import Pending, Refused
from trousseau.federation.saml.outbound import Answer

# Flows by "eN" key (an older layout, keyed by "eNs1", is simply not found: its login starts again).
PENDING_KEY = "saml_flows_pending"
EXECUTION = re.compile(r"(?P<flow>e[1-9][0-9]{0,8})s(?P<step>[1-9])")
COUNTER_KEY = "saml_flows"
PARTICIPATIONS_KEY = "saml_participations"
MAX_PENDING = 5
HANDOFF_SALT = "trousseau.saml.handoff"
HANDOFF_MAX_AGE = 300  # seconds between the SP's POST and the browser's next GET


def has_session_cookie(request: HttpRequest) -> bool:
    return settings.SESSION_COOKIE_NAME in request.COOKIES


def handoff_dumps(pending: Pending) -> str:
    return signing.dumps(pending.to_dict(), salt=HANDOFF_SALT, compress=True)


def handoff_loads(token: str) -> Pending:
    try:
        data = signing.loads(token, salt=HANDOFF_SALT, max_age=HANDOFF_MAX_AGE)
    except signing.BadSignature as exc:
        raise Refused("handoff_expired") from exc
    return Pending.from_dict(data)


def csrf_token() -> str:
    """Shibboleth's format: "_" and 40 hex characters (research/educonnect.md §4.1)."""
    return "_" + secrets.token_hex(20)


@dataclass(frozen=True)
class Step:
    """A pending request as one execution URL shows it: `eNsM` is step M of flow N."""

    flow: str  # "eN"
    number: int  # M: 1 local-storage read, 2 login form, 3 local-storage write (trousseau/federation/saml/login.py)
    pending: Pending
    csrf: str

    @property
    def execution(self) -> str:
        return f"{self.flow}s{self.number}"


def _parse(execution: str) -> tuple[str, int] | None:
    found = EXECUTION.fullmatch(execution)
    return (found["flow"], int(found["step"])) if found else None


def begin(session: SessionBase, pending: Pending) -> str:
    """Keep the request under a new flow (a few at most: older ones are dropped); its first execution key."""
    number = int(session.get(COUNTER_KEY, 0)) + 1
    flow = f"e{number}"
    entries: dict[str, Any] = dict(session.get(PENDING_KEY, {}))
    entries[flow] = {"request": pending.to_dict(), "csrf": csrf_token(), "reached": 1}
    session[PENDING_KEY] = dict(list(entries.items())[-MAX_PENDING:])
    session[COUNTER_KEY] = number
    return f"{flow}s1"


def step(session: SessionBase, execution: str) -> Step | None:
    """The step an execution URL names, if its flow is pending here and has reached that step.

    Steps already passed stay open (the browser's back button, as Spring Web Flow's snapshots), steps
    ahead do not: `e1s3`, the step after the password, exists only once this flow got there.
    """
    parsed = _parse(execution)
    found = session.get(PENDING_KEY, {}).get(parsed[0]) if parsed else None
    if not parsed or not found or not 1 <= parsed[1] <= int(found["reached"]):
        return None
    return Step(parsed[0], parsed[1], Pending.from_dict(found["request"]), str(found["csrf"]))


def advance(session: SessionBase, current: Step, number: int) -> str:
    """Let the flow reach step `number`; its execution key."""
    entries = dict(session.get(PENDING_KEY, {}))
    kept = dict(entries[current.flow])
    kept["reached"] = max(int(kept["reached"]), number)
    entries[current.flow] = kept
    session[PENDING_KEY] = entries
    return f"{current.flow}s{number}"


def entry(session: SessionBase, execution: str) -> tuple[Pending, str] | None:
    found = step(session, execution)
    return (found.pending, found.csrf) if found else None


def finish(session: SessionBase, execution: str) -> None:
    """The flow is answered: none of its execution keys leads anywhere now."""
    parsed = _parse(execution)
    entries = dict(session.get(PENDING_KEY, {}))
    if parsed and entries.pop(parsed[0], None) is not None:
        session[PENDING_KEY] = entries


def authn_instant(session: SessionBase) -> datetime:
    """When the person logged in to this session (the mire, activation, FranceConnect, SSO's own form)."""
    return authenticated_at(session) or timezone.now()


def participate(session: SessionBase, pending: Pending, answer: Answer) -> None:
    """Remember that this SP got an assertion here (one line per SP: the latest NameID wins)."""
    if not answer.name_id:
        return
    line = {
        "sp_id": pending.sp_id,
        "entity_id": pending.entity_id,
        "name_id": answer.name_id,
        "format": answer.name_id_format,
        "session_index": answer.session_index,
    }
    others = [p for p in session.get(PARTICIPATIONS_KEY, []) if p["sp_id"] != pending.sp_id]
    session[PARTICIPATIONS_KEY] = [*others, line]


def participations(session: SessionBase) -> list[dict[str, Any]]:
    return list(session.get(PARTICIPATIONS_KEY, []))
