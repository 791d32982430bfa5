"""Staff login: password (argon2, throttled like the mire), then a TOTP code; a session of its own.

The staff session lives beside any family login in the same Django session, under `console:*` keys:
Django's auth keeps serving families (`AUTH_USER_MODEL` is their `Account`). Opening it rotates the
session key; it closes after `CONSOLE_IDLE_TIMEOUT` without a request, and whenever the staff
member's password changes or their access is withdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from trousseau.accounts.models import AccountSession
from trousseau.audit.events import EventTag
from trousseau.console import totp
from trousseau.console.audit import staff_audit
from trousseau.console.conf import idle_timeout, pending_login_lifespan
from trousseau.console.models import StaffMember
from trousseau.core import throttle
from trousseau.core.http import address_block
from trousseau.core.refusals import Throttled, WrongCredentials
from trousseau.core.secrets import keyed_digest

STAFF_KEY = "console:staff"
HASH_KEY = "console:hash"
SEEN_KEY = "console:seen"
PENDING_KEY = "console:pending"
ENROL = "enrol"
CODE = "code"


@dataclass(frozen=True)
class PasswordOk:
    """Right password: the TOTP code comes next, or the enrolment when there is no TOTP yet."""

    staff: StaffMember
    needs_enrolment: bool


@dataclass(frozen=True)
class CodeAccepted:
    staff: StaffMember


@dataclass(frozen=True)
class CodeRefused:
    reused: bool = False


PasswordOutcome = PasswordOk | WrongCredentials | Throttled
CodeOutcome = CodeAccepted | CodeRefused | Throttled

_DUMMY: list[str] = []


def _burn_hash_time(password: str) -> None:
    """Unknown emails cost one argon2 verification too, so timing tells nothing."""
    if not _DUMMY:
        _DUMMY.append(make_password("not a staff password"))
    check_password(password, _DUMMY[0])


def password_guards(email: str, ip: str) -> list[throttle.Guard]:
    return [
        throttle.Guard("console:login:email", email.strip().lower(), settings.THROTTLE_ACCOUNT_FREE_FAILURES),
        throttle.Guard("console:login:ip", address_block(ip), settings.THROTTLE_IP_FREE_FAILURES),
    ]


def code_guards(staff: StaffMember, ip: str) -> list[throttle.Guard]:
    return [
        throttle.Guard("console:totp:staff", str(staff.pk), settings.THROTTLE_ACCOUNT_FREE_FAILURES),
        throttle.Guard("console:login:ip", address_block(ip), settings.THROTTLE_IP_FREE_FAILURES),
    ]


def check_staff_password(*, email: str, password: str, ip: str) -> PasswordOutcome:
    """First step; every refusal looks the same whether or not the email is known."""
    guards = password_guards(email, ip)
    wait = throttle.admit(guards)  # counted before the check, so concurrent guesses cannot all pass
    if wait is not None:
        staff_audit(EventTag.CONSOLE_LOGIN_THROTTLED, staff=None, ip=ip, email=email.strip().lower()[:254])
        return Throttled(throttle.minutes(wait))
    staff = StaffMember.objects.filter(email=email.strip().lower(), is_active=True).first()
    if staff is None or not staff.password:
        _burn_hash_time(password)
        ok = False
    else:
        ok = staff.check_password(password)
    if not ok or staff is None:
        staff_audit(
            EventTag.CONSOLE_LOGIN_FAILURE, staff=staff, ip=ip, email=email.strip().lower()[:254], step="password"
        )
        return WrongCredentials()
    throttle.reset(guards[0])
    throttle.refund(guards[1])
    return PasswordOk(staff, needs_enrolment=not staff.enrolled)


def check_staff_code(*, staff: StaffMember, code: str, ip: str) -> CodeOutcome:
    """Second step: a code of the steps around now, later than the last one accepted (row lock)."""
    guards = code_guards(staff, ip)
    wait = throttle.admit(guards)
    if wait is not None:
        staff_audit(EventTag.CONSOLE_LOGIN_THROTTLED, staff=staff, school=staff.school, ip=ip, step="totp")
        return Throttled(throttle.minutes(wait))
    with transaction.atomic():
        locked = StaffMember.objects.select_for_update().get(pk=staff.pk)
        check = totp.check_code(locked.totp_secret, code, last_step=locked.totp_last_step)
        if check.ok:
            locked.totp_last_step = check.step
            locked.last_login_at = timezone.now()
            locked.save(update_fields=["totp_last_step", "last_login_at"])
    if not check.ok:
        tag = EventTag.CONSOLE_TOTP_REUSED if check.reused else EventTag.CONSOLE_TOTP_FAILURE
        staff_audit(tag, staff=staff, school=staff.school, ip=ip)
        return CodeRefused(reused=check.reused)
    throttle.reset(guards[0])
    throttle.refund(guards[1])
    return CodeAccepted(locked)


# --- The session --------------------------------------------------------------------------------


def _session_hash(staff: StaffMember) -> str:
    return keyed_digest(f"{staff.pk}:{staff.password}:{staff.totp_secret}", purpose="console-session")


def pending_start(request: HttpRequest, staff: StaffMember, purpose: str, **extra: Any) -> None:
    """Remember, for a few minutes, whose password was right and what comes next (code or enrolment)."""
    request.session[PENDING_KEY] = {"staff": staff.pk, "purpose": purpose, "at": timezone.now().isoformat(), **extra}


def pending(request: HttpRequest, purpose: str) -> tuple[StaffMember, dict[str, Any]] | None:
    """The staff member waiting for this step, with the step's data; None once it expired."""
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict) or data.get("purpose") != purpose:
        return None
    started = datetime.fromisoformat(str(data.get("at")))
    if timezone.now() - started > pending_login_lifespan():
        request.session.pop(PENDING_KEY, None)
        return None
    staff = StaffMember.objects.filter(pk=int(data.get("staff") or 0), is_active=True).select_related("school").first()
    return (staff, data) if staff is not None else None


def pending_update(request: HttpRequest, **changes: Any) -> None:
    data = dict(request.session.get(PENDING_KEY) or {})
    data.update(changes)
    request.session[PENDING_KEY] = data


def _rotate(request: HttpRequest) -> None:
    """A new session key; a family login in the same browser keeps its place in "Sessions ouvertes"."""
    old = request.session.session_key
    request.session.cycle_key()
    if old:
        AccountSession.objects.filter(session_key=old).update(session_key=request.session.session_key)


def session_open(request: HttpRequest, staff: StaffMember, *, ip: str) -> None:
    """The staff session starts: a new session key (no fixation), then the console keys."""
    request.session.pop(PENDING_KEY, None)
    _rotate(request)
    request.session[STAFF_KEY] = staff.pk
    request.session[HASH_KEY] = _session_hash(staff)
    request.session[SEEN_KEY] = timezone.now().isoformat()
    staff_audit(EventTag.CONSOLE_LOGIN_SUCCESS, staff=staff, school=staff.school, ip=ip)


def session_close(request: HttpRequest) -> None:
    """The staff session ends; a family login in the same browser, if any, stays."""
    for key in (STAFF_KEY, HASH_KEY, SEEN_KEY, PENDING_KEY):
        request.session.pop(key, None)
    _rotate(request)


@dataclass(frozen=True)
class Expired:
    """The session was idle too long: the console says so on its login page."""

    staff: StaffMember


def current_staff(request: HttpRequest, *, ip: str) -> StaffMember | Expired | None:
    """The logged-in staff member, after the idle and password checks; touches the idle clock."""
    staff_id = request.session.get(STAFF_KEY)
    if staff_id is None:
        return None
    staff = StaffMember.objects.filter(pk=staff_id, is_active=True).select_related("school").first()
    if staff is None or request.session.get(HASH_KEY) != _session_hash(staff):
        session_close(request)
        return None
    now = timezone.now()
    seen = datetime.fromisoformat(str(request.session.get(SEEN_KEY)))
    if now - seen > idle_timeout():
        session_close(request)
        staff_audit(EventTag.CONSOLE_SESSION_EXPIRED, staff=staff, school=staff.school, ip=ip)
        return Expired(staff)
    request.session[SEEN_KEY] = now.isoformat()
    return staff
