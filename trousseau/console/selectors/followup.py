"""Activation follow-up: how many accounts are active, per school, per class and per kind, and since when.

An account counts when it is provisional or active (a disabled account, e.g. of a pupil who left, is
out of the count; an account closed by grouping has no link left and drops out by itself). Its
activation date is `Account.activated_at`, so the curve shows, for each day, the accounts active now
that had been activated by the end of that day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from trousseau.accounts.models import Account, AccountKind, AccountState
from trousseau.console.selectors.accounts import AccountRow, search_accounts
from trousseau.directory.models import Guardian, School

COUNTED = [AccountState.PROVISIONAL, AccountState.ACTIVE]
GUARDIAN_TO_SCHOOL = "guardian_links__guardian__guardianships__pupil__school"
GUARDIAN_TO_CLASS = "guardian_links__guardian__guardianships__pupil__class_name"


@dataclass(frozen=True)
class Rate:
    """Active accounts out of the counted ones."""

    active: int
    total: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.active / self.total) if self.total else None

    @property
    def waiting(self) -> int:
        """Provisional accounts: those a letter is for."""
        return self.total - self.active


@dataclass(frozen=True)
class Line:
    """One row of a follow-up table: a school or a class, pupils and guardians side by side."""

    key: str  # UAI or class name
    label: str
    pupils: Rate
    guardians: Rate

    @property
    def overall(self) -> Rate:
        return Rate(self.pupils.active + self.guardians.active, self.pupils.total + self.guardians.total)


def _counted(kind: str) -> QuerySet[Account]:
    return Account.objects.filter(kind=kind, state__in=COUNTED)


def _tally(rows: list[tuple[object, int, str]]) -> dict[object, Rate]:
    """(group, account id, state) rows -> a Rate per group, each account counted once per group."""
    seen: dict[object, dict[int, bool]] = defaultdict(dict)
    for group, pk, state in rows:
        seen[group][pk] = state == AccountState.ACTIVE
    return {group: Rate(sum(states.values()), len(states)) for group, states in seen.items()}


def per_school(schools: QuerySet[School]) -> list[Line]:
    pupils = _tally(
        list(_counted(AccountKind.PUPIL).filter(pupil__school__in=schools).values_list("pupil__school", "pk", "state"))
    )
    guardians = _tally(
        list(
            _counted(AccountKind.GUARDIAN)
            .filter(**{f"{GUARDIAN_TO_SCHOOL}__in": schools})
            .values_list(GUARDIAN_TO_SCHOOL, "pk", "state")
            .distinct()
        )
    )
    empty = Rate(0, 0)
    return [
        Line(school.uai, school.name, pupils.get(school.pk, empty), guardians.get(school.pk, empty))
        for school in schools.order_by("name")
    ]


def per_class(school: School) -> list[Line]:
    pupils = _tally(
        list(_counted(AccountKind.PUPIL).filter(pupil__school=school).values_list("pupil__class_name", "pk", "state"))
    )
    guardians = _tally(
        list(
            _counted(AccountKind.GUARDIAN)
            .filter(**{GUARDIAN_TO_SCHOOL: school})
            .values_list(GUARDIAN_TO_CLASS, "pk", "state")
            .distinct()
        )
    )
    empty = Rate(0, 0)
    classes = sorted({str(c) for c in [*pupils, *guardians]})
    return [Line(c, c or "—", pupils.get(c, empty), guardians.get(c, empty)) for c in classes]


def school_total(school: School) -> Line:
    schools = School.objects.filter(pk=school.pk)
    return per_school(schools)[0]


@dataclass(frozen=True)
class Point:
    day: date
    pupils: Rate
    guardians: Rate


def _activation_days(accounts: QuerySet[Account]) -> tuple[int, list[date]]:
    """How many accounts are counted, and the local activation day of each active one."""
    rows = list(accounts.values_list("pk", "state", "activated_at").distinct())
    total = len({pk for pk, _, _ in rows})
    days = sorted(
        {pk: timezone.localdate(at) for pk, state, at in rows if state == AccountState.ACTIVE and at}.values()
    )
    return total, days


def _cumulative(days: list[date], upto: date) -> int:
    return sum(1 for d in days if d <= upto)


def timeline(school: School, *, days: int = 30, today: date | None = None) -> list[Point]:
    """Day by day over the last `days` days (today included): the share of accounts active by then."""
    today = today or timezone.localdate()
    pupil_total, pupil_days = _activation_days(_counted(AccountKind.PUPIL).filter(pupil__school=school))
    guardian_total, guardian_days = _activation_days(
        _counted(AccountKind.GUARDIAN).filter(**{GUARDIAN_TO_SCHOOL: school})
    )
    points = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        points.append(
            Point(
                day,
                Rate(_cumulative(pupil_days, day), pupil_total),
                Rate(_cumulative(guardian_days, day), guardian_total),
            )
        )
    return points


@dataclass(frozen=True)
class Waiting:
    """An account not activated yet, with what the school has to reach the family (never the values)."""

    row: AccountRow
    mobile: bool | None  # a mobile on a guardian record it speaks for (None: a pupil account)
    email: bool | None


def waiting(school: School, class_name: str = "") -> list[Waiting]:
    """Who has not activated, in the school or one class, by name: whom to remind, and how."""
    rows = search_accounts(school, state=AccountState.PROVISIONAL, class_name=class_name, limit=None).rows
    reach: dict[int, tuple[bool, bool]] = {}
    records = Guardian.objects.filter(account_link__account__pk__in=[r.pk for r in rows])
    for account_id, mobile, email in records.values_list("account_link__account__pk", "mobile", "email"):
        has_mobile, has_email = reach.get(account_id, (False, False))
        reach[account_id] = (has_mobile or bool(mobile), has_email or bool(email))
    found = []
    for row in rows:
        if row.kind == AccountKind.PUPIL:
            found.append(Waiting(row, None, None))
        else:
            has_mobile, has_email = reach.get(row.pk, (False, False))
            found.append(Waiting(row, has_mobile, has_email))
    return found
