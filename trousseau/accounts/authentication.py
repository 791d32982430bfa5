"""Password login: throttling, constant work for unknown identifiers, letters, audit.

The outcome tells the view what to show; every failure that could reveal whether an identifier
exists gets the same `WrongCredentials` outcome, and the same argon2 work is done for unknown identifiers.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from trousseau.accounts import devices
from trousseau.accounts.exceptions import WrongCurrentPassword
from trousseau.accounts.identifiers import normalize_identifier
from trousseau.accounts.models import Account, AccountKind, AccountState, ActivationLetter, LetterStatus
from trousseau.accounts.services import current_letter
from trousseau.accounts.sessions import LoginWrites
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit, audit_statement, audited, typed_identifier
from trousseau.core import throttle, throttle_sql
from trousseau.core.http import address_block
from trousseau.core.prepared import Prepared
from trousseau.core.refusals import Throttled, TooManyTries, WrongCredentials


@dataclass(frozen=True)
class LoggedIn:
    account: Account


@dataclass(frozen=True)
class ProvisionalLetter:
    """The letter's password was right: the holder must now activate the account."""

    account: Account
    letter: ActivationLetter


@dataclass(frozen=True)
class LetterUnusable:
    """Right letter password, but the letter expired or already served: contact the school."""

    status: LetterStatus


@dataclass(frozen=True)
class Disabled:
    pass


@dataclass(frozen=True)
class Locked:
    """Too many failures in a row on this identifier: closed until a recovery (lost password, the school)."""


@dataclass(frozen=True)
class Merged:
    """Right password of an account closed by grouping: its holder now logs in as `into_identifier`."""

    into_identifier: str


@dataclass(frozen=True)
class WrongProfile:
    """The right password (or the letter's), but the profile chosen ("Je suis") is not the account's `kind`.

    Told only once the password was verified: before, nothing may say whether an identifier exists.
    """

    kind: AccountKind


Outcome = (
    LoggedIn
    | ProvisionalLetter
    | LetterUnusable
    | Disabled
    | WrongCredentials
    | Throttled
    | Locked
    | Merged
    | WrongProfile
)

# Opens the session of a right password (signin/mire.py: sessions.session_open). On PostgreSQL it is given
# the `LoginWrites` to leave its writes in, sent with the attempt's counters and audit event in one statement.
OnLogin = Callable[[Account, LoginWrites | None], None]

_DUMMY_HASH: list[str] = []
# Every refused password costs this many argon2 verifications, whatever stands behind the identifier
# (nobody, a letter, an active account with a spent letter, a grouped or disabled account): the time
# of a refusal tells nothing about the identifier (ASVS 6.3.8). Two is the most any path needs.
VERIFICATIONS_PER_REFUSAL = 2


class _Verifications:
    """The argon2 verifications one attempt made, so that a refusal can be topped up to the same cost."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.done = 0

    def encoded(self, encoded: str) -> bool:
        self.done += 1
        if not encoded:
            # A letter whose hash the retention purge erased: never a match, at the same cost.
            check_password(self.password, _dummy_hash())
            return False
        return check_password(self.password, encoded)

    def account(self, account: Account) -> bool:
        self.done += 1
        # Django's check_password rehashes (and saves) when the hasher parameters changed.
        return account.check_password(self.password)

    def top_up(self) -> None:
        for _ in range(self.done, VERIFICATIONS_PER_REFUSAL):
            check_password(self.password, _dummy_hash())


def _dummy_hash() -> str:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(make_password("not a real password"))
    return _DUMMY_HASH[0]


def warm() -> None:
    """Hash the dummy and verify against it once (core/warm.py): otherwise the worker's first refusal pays a
    hash more than the others (its time would stand out), and its first verification finds argon2's
    memory not yet allocated."""
    check_password("not the password", _dummy_hash())


# Every login looks its identifier up: the query compiled once (core/prepared.py). The probe is no identifier.
_account_named = Prepared(
    Account, lambda identifier: Account.objects.filter(identifier=identifier), "\x00identifier\x00"
)


def login_guards(identifier: str, ip: str) -> list[throttle.Guard]:
    """The guards of an attempt from a browser without a device cookie for this identifier.

    The identifier's own guard only locks, at the hard limit (NIST SP 800-63B §3.2.2): a delay on it
    would let anyone keep the holder out with a guess every few minutes. The growing delays are on the
    identifier *from this address* (IPv6: its /64), and on the address whatever identifier it tries,
    so a person logging in from elsewhere is not slowed by someone else's failures. Index 0 is the
    identifier's guard, which a recovery resets.
    """
    hard_limit = settings.THROTTLE_ACCOUNT_HARD_LIMIT
    return [
        throttle.Guard("login:account", identifier, hard_limit, hard_limit=hard_limit),
        throttle.Guard(
            "login:account:address", f"{identifier} {address_block(ip)}", settings.THROTTLE_ACCOUNT_FREE_FAILURES
        ),
        throttle.Guard("login:ip", address_block(ip), settings.THROTTLE_IP_FREE_FAILURES),
    ]


def device_guard(nonce: str) -> throttle.Guard:
    """The budget of one browser that logged in to the account before (accounts/devices.py)."""
    return throttle.Guard(
        "login:device",
        nonce,
        settings.THROTTLE_ACCOUNT_FREE_FAILURES,
        hard_limit=settings.THROTTLE_ACCOUNT_HARD_LIMIT,
    )


def _trusted_device(identifier: str, device_cookie: str) -> throttle.Guard | None:
    """The device's guard when this browser logged in to `identifier` before and has not spent its budget.

    A device locked at its hard limit is a stranger again (OWASP): its attempts then pass the
    identifier's guards, which a recovery opens.
    """
    nonce = devices.device_nonce(device_cookie, identifier)
    if nonce is None:
        return None
    guard = device_guard(nonce)
    wait = throttle.wait_time([guard])
    return None if wait is not None and throttle.is_locked(wait) else guard


def confirm_password(*, account: Account, password: str, ip: str, refused: EventTag, wrong: str) -> None:
    """The holder's password asked again before a sensitive step, guarded like a login.

    A wrong one counts against the identifier from this address (the mire's counters), and while one
    is closed no password is checked at all. Raises TooManyTries or WrongCurrentPassword, audited as
    `refused` with the reason "throttled" or `wrong`.
    """
    guards = login_guards(account.identifier, ip)[:2]  # the identifier's, and from this address
    wait = throttle.admit(guards)  # counted before the check, as at the mire
    if wait is not None:
        audit(refused, account=account, ip=ip, reason="throttled")
        raise TooManyTries(throttle.minutes(wait))
    if not account.check_password(password):
        audit(refused, account=account, ip=ip, reason=wrong)
        raise WrongCurrentPassword
    throttle.settle(refund=guards)


def _kept_account(account: Account) -> Account:
    """The account a grouping chain ends at (a kept account may itself have been grouped later)."""
    for _ in range(10):
        if account.merged_into is None:
            break
        account = account.merged_into
    return account


def _check_merged(account: Account, verify: _Verifications) -> Outcome:
    """A closed account answers to its last password, or to its last letter's (revoked by the grouping)."""
    letter = account.letters.first()
    if verify.account(account) or (letter is not None and verify.encoded(letter.password_hash)):
        return Merged(_kept_account(account).identifier)
    return WrongCredentials()


def _check(account: Account | None, verify: _Verifications) -> Outcome:
    if account is None:
        return WrongCredentials()
    if account.state == AccountState.PROVISIONAL:
        letter = current_letter(account)
        if letter is None or not verify.encoded(letter.password_hash):
            return WrongCredentials()
        status = letter.status()
        return ProvisionalLetter(account, letter) if status == LetterStatus.VALID else LetterUnusable(status)
    if verify.account(account):
        return LoggedIn(account) if account.state == AccountState.ACTIVE else Disabled()
    used = account.letters.exclude(used_at=None).first()
    if used is not None and verify.encoded(used.password_hash):
        return LetterUnusable(LetterStatus.USED)
    return WrongCredentials()


def authenticate(  # noqa: PLR0913 - what one attempt brings, all keyword-only
    *,
    identifier: str,
    password: str,
    ip: str,
    device_cookie: str = "",
    success_tag: EventTag = EventTag.LOGIN_SUCCESS,
    on_login: OnLogin | None = None,
    kind: AccountKind | None = None,
) -> Outcome:
    """Check a password login attempt; records the throttling counters and the audit event.

    `device_cookie` is the browser's device cookie (accounts/devices.py): when it names this
    identifier, the attempt is counted against that browser's own budget only. `success_tag` names
    a right password that opens no session (grouping checks the other account's credentials), so the
    account's list of logins stays true. `on_login` (opening the session) runs for a right password of
    an active account in the same transaction as the counters' settling and the audit event: after the
    attempt's own count, a login commits once. `kind`, the profile the person chose, turns a right
    password of an account of another kind into `WrongProfile`: no session, audited as
    `account:login:wrong_profile` (a letter's as `account:login:provisional`, no activation started).
    """
    identifier = normalize_identifier(identifier)
    device = _trusted_device(identifier, device_cookie)
    guards = [device] if device is not None else login_guards(identifier, ip)
    trusted = device is not None
    wait = throttle.admit(guards)  # counted as a failure from here on, until the outcome says otherwise
    if wait is not None:
        locked = throttle.is_locked(wait)
        audit(EventTag.LOGIN_THROTTLED, ip=ip, identifier=typed_identifier(identifier), locked=locked, device=trusted)
        return Locked() if locked else Throttled(throttle.minutes(wait))
    account = _account_named.first(identifier)
    verify = _Verifications(password)
    if account is not None and account.merged_into_id is not None:
        outcome = _check_merged(account, verify)
    else:
        outcome = _check(account, verify)
    if isinstance(outcome, WrongCredentials | Disabled):
        verify.top_up()
        audit(EventTag.LOGIN_FAILURE, account=account, ip=ip, identifier=typed_identifier(identifier), device=trusted)
        return outcome
    own_kind = AccountKind(account.kind) if account is not None else None
    other_kind = kind is not None and own_kind != kind
    tag = EventTag.LOGIN_WRONG_PROFILE if other_kind else success_tag
    login = on_login if isinstance(outcome, LoggedIn) and not other_kind else None
    # On PostgreSQL the conclusion is one statement, atomic by itself: a transaction around it would only
    # add its BEGIN and COMMIT round trips (LoginWrites opens one when the login writes rows itself).
    # Elsewhere it is several statements, committed together.
    with ExitStack() as scope:
        if not throttle_sql.supported():
            scope.enter_context(transaction.atomic())
        _conclude(outcome, guards, account, Event(tag, ip, device=trusted), on_login=login, scope=scope)
    if other_kind and own_kind is not None and isinstance(outcome, LoggedIn | ProvisionalLetter):
        return WrongProfile(own_kind)
    return outcome


@dataclass(frozen=True)
class Event:
    """What the audit event of an attempt that did not fail records, beyond the outcome's own details."""

    success_tag: EventTag  # a right password of an active account: a login, or what `authenticate` was told
    ip: str
    device: bool


def _conclude(  # noqa: PLR0913 - the attempt's facts, then where its writes go
    outcome: Outcome,
    guards: list[throttle.Guard],
    account: Account | None,
    event: Event,
    *,
    on_login: OnLogin | None,
    scope: ExitStack,
) -> None:
    """An attempt that did not fail: its counters settled, its audit event and, for a login, the session.

    On PostgreSQL one statement writes them all (`throttle_sql.settle` carries the others' writes).
    """
    data: dict[str, object]
    match outcome:
        case LetterUnusable(status):
            tag, data = EventTag.LOGIN_LETTER_UNUSABLE, {"status": status}
        case Merged(into_identifier):
            tag, data = EventTag.LOGIN_MERGED, {"kept": into_identifier}
        case LoggedIn():
            tag, data = event.success_tag, {"device": event.device}
        case _:
            tag, data = EventTag.LOGIN_PROVISIONAL, {}
    if not throttle_sql.supported():
        _settle(outcome, guards)
        audit(tag, account=account, ip=event.ip, **data)
        if on_login is not None and account is not None:
            on_login(account, None)
        return
    writes = LoginWrites(scope)
    if on_login is not None and account is not None:
        on_login(account, writes)  # the session key rotated; its rows left to the statement below
    unsaved, insert = audit_statement(tag, account=account, ip=event.ip, **data)
    refund, reset = _settlement(outcome, guards)
    counters = [throttle_sql.Counter(guard.key, guard.free_failures, guard.hard_limit) for guard in refund]
    rows = throttle_sql.settle(
        counters, sorted(guard.key for guard in reset), now=timezone.now(), then=[*writes.statements, insert]
    )
    writes.sent()
    audited(unsaved, rows[0][0])


def _settlement(outcome: Outcome, guards: list[throttle.Guard]) -> tuple[list[throttle.Guard], list[throttle.Guard]]:
    """The guards given back their count, and those forgotten: a right credential also forgets the failures
    it ends. The address's guard (across identifiers) is only refunded: an address that guessed many
    identifiers stays slowed even if it also knows one password."""
    if isinstance(outcome, LetterUnusable | Merged):
        return guards, []
    across = [guard for guard in guards if guard.scope == "login:ip"]
    return across, [guard for guard in guards if guard not in across]


def _settle(outcome: Outcome, guards: list[throttle.Guard]) -> None:
    """`_settlement` through throttle.py (databases other than PostgreSQL)."""
    refund, reset = _settlement(outcome, guards)
    throttle.settle(refund=refund, reset=reset)
