"""Accounts of a school: search by name, identifier, INE, phone or email, and one account's full picture."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q, QuerySet

from trousseau.accounts import activity
from trousseau.accounts.models import Account, AccountKind, AccountState, ActivationLetter, ContestedLink, LetterStatus
from trousseau.core.phones import phone_e164
from trousseau.core.text import fold
from trousseau.directory.models import Guardian, Guardianship, Pupil, School

SEARCH_LIMIT = 100


def school_accounts(school: School) -> QuerySet[Account]:
    """Pupil accounts of the school's pupils and guardian accounts linked to one of them."""
    pupils = Account.objects.filter(kind=AccountKind.PUPIL, pupil__school=school).values("pk")
    guardians = Account.objects.filter(
        kind=AccountKind.GUARDIAN, guardian_links__guardian__guardianships__pupil__school=school
    ).values("pk")
    return Account.objects.filter(Q(pk__in=pupils) | Q(pk__in=guardians))


def account_in_school(school: School, account_id: int) -> Account | None:
    return school_accounts(school).filter(pk=account_id).first()


@dataclass(frozen=True)
class Child:
    name: str
    ine: str
    class_name: str


@dataclass
class AccountRow:
    pk: int
    identifier: str
    kind: str
    state: str
    first_name: str
    last_name: str
    last_login: datetime | None
    children: list[Child] = field(default_factory=list)  # the pupil itself for a pupil account

    @property
    def state_label(self) -> str:
        return str(AccountState(self.state).label)

    @property
    def kind_label(self) -> str:
        return str(AccountKind(self.kind).label)

    @property
    def classes(self) -> list[str]:
        return sorted({c.class_name for c in self.children if c.class_name})

    def matches(self, terms: list[str]) -> bool:
        """Every term is found in the identifier, the names, or an INE (accents and case ignored)."""
        identifier = self.identifier.lower()
        names = fold(f"{self.first_name} {self.last_name}")
        ines = [c.ine.lower() for c in self.children]
        for raw in terms:
            term = fold(raw)
            if not term:
                continue
            in_names = term in identifier.replace(".", "") or raw.lower() in identifier or term in names
            if not in_names and not any(ine.startswith(term) for ine in ines):
                return False
        return True


@dataclass(frozen=True)
class SearchResult:
    rows: list[AccountRow]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)


def search_accounts(  # noqa: PLR0913 - the search form's fields, all keyword-only
    school: School,
    *,
    query: str = "",
    kind: str = "",
    state: str = "",
    class_name: str = "",
    limit: int | None = SEARCH_LIMIT,
) -> SearchResult:
    """Accounts of the school matching every word of `query`, sorted by name (at most `limit` shown)."""
    accounts = school_accounts(school)
    if kind:
        accounts = accounts.filter(kind=kind)
    if state:
        accounts = accounts.filter(state=state)
    rows = {
        a["pk"]: AccountRow(
            pk=a["pk"],
            identifier=a["identifier"],
            kind=a["kind"],
            state=a["state"],
            first_name=a["first_name"],
            last_name=a["last_name"],
            last_login=a["last_login"],
        )
        for a in accounts.values("pk", "identifier", "kind", "state", "first_name", "last_name", "last_login")
    }
    for pk, first, last, ine, class_ in Pupil.objects.filter(school=school, account__pk__in=rows).values_list(
        "account__pk", "first_name", "last_name", "ine", "class_name"
    ):
        rows[pk].children.append(Child(f"{first} {last}", ine, class_))
    links = Guardianship.objects.filter(pupil__school=school, guardian__account_link__account__pk__in=rows)
    for pk, first, last, ine, class_ in links.values_list(
        "guardian__account_link__account__pk",
        "pupil__first_name",
        "pupil__last_name",
        "pupil__ine",
        "pupil__class_name",
    ).distinct():
        rows[pk].children.append(Child(f"{first} {last}", ine, class_))
    found = list(rows.values())
    if class_name:
        found = [row for row in found if class_name in row.classes]
    contact = _contact_match(query)
    if contact is not None:  # a parent on the phone: their number in any form, or their email
        reached = set(accounts.filter(contact).values_list("pk", flat=True))
        found = [row for row in found if row.pk in reached]
    elif terms := query.split():
        found = [row for row in found if row.matches(terms)]
    found.sort(key=lambda r: (fold(r.last_name), fold(r.first_name), r.identifier))
    return SearchResult(rows=found[:limit] if limit is not None else found, total=len(found))


def _contact_match(query: str) -> Q | None:
    """Accounts reached by this phone number or email: their own, or a guardian record's they speak for."""
    text = query.strip()
    if "@" in text:
        return Q(email__iexact=text) | Q(guardian_links__guardian__email__iexact=text)
    e164 = phone_e164(text)
    if e164 is None:
        return None
    return Q(phone=e164) | Q(guardian_links__guardian__mobile=e164)


def school_classes(school: School) -> list[str]:
    names = Pupil.objects.filter(school=school).exclude(class_name="").values_list("class_name", flat=True)
    return sorted(set(names))


@dataclass(frozen=True)
class LinkedPupil:
    pupil: Pupil
    legal: bool
    contest: ContestedLink | None
    guardianship_id: int


@dataclass(frozen=True)
class LinkedGuardian:
    guardian: Guardian
    account: Account | None
    legal: bool
    contest: ContestedLink | None
    guardianship_id: int


@dataclass
class AccountDetail:
    account: Account
    letter: ActivationLetter | None
    letter_status: LetterStatus | None
    children: list[LinkedPupil]
    guardians: list[LinkedGuardian]
    guardian_records: list[Guardian]  # the directory rows this account speaks for, at this school
    children_elsewhere: int  # children at other schools: their records are not this school's to read
    history: list[activity.HistoryLine]

    @property
    def contests(self) -> list[ContestedLink]:
        found = [c.contest for c in self.children if c.contest] + [g.contest for g in self.guardians if g.contest]
        return [c for c in found if c.resolved_at is None]


def _open_contest(link: Guardianship) -> ContestedLink | None:
    contest: ContestedLink | None = getattr(link, "contest", None)
    return contest if contest is not None and contest.resolved_at is None else None


def account_detail(school: School, account: Account) -> AccountDetail:
    letter = account.letters.filter(revoked_at=None).first()
    children: list[LinkedPupil] = []
    guardians: list[LinkedGuardian] = []
    records: list[Guardian] = []
    elsewhere = 0
    if account.kind == AccountKind.GUARDIAN:
        links = (
            Guardianship.objects.filter(guardian__account_link__account=account)
            .select_related("pupil", "pupil__school", "guardian", "contest")
            .order_by("pupil__birth_date", "pk")
        )
        seen: set[int] = set()
        for link in links:
            if link.pupil.school_id != school.pk:
                # Another school's pupil: counted, never shown (each school sees its own records).
                elsewhere += 1
                continue
            children.append(LinkedPupil(link.pupil, link.is_legal_representative, _open_contest(link), link.pk))
            if link.guardian_id not in seen:
                seen.add(link.guardian_id)
                records.append(link.guardian)
    elif account.pupil_id is not None:
        links = (
            Guardianship.objects.filter(pupil_id=account.pupil_id)
            .select_related("guardian", "guardian__account_link__account", "contest")
            .order_by("guardian__last_name", "guardian__first_name", "pk")
        )
        for link in links:
            link_row = getattr(link.guardian, "account_link", None)
            guardians.append(
                LinkedGuardian(
                    link.guardian,
                    link_row.account if link_row else None,
                    link.is_legal_representative,
                    _open_contest(link),
                    link.pk,
                )
            )
    return AccountDetail(
        account=account,
        letter=letter,
        letter_status=letter.status() if letter else None,
        children=children,
        guardians=guardians,
        guardian_records=records,
        children_elsewhere=elsewhere,
        history=activity.history(account),
    )


def open_contests(school: School) -> QuerySet[ContestedLink]:
    """Links families reported as wrong, at this school, not yet looked at."""
    return (
        ContestedLink.objects.filter(guardianship__pupil__school=school, resolved_at=None)
        .select_related("guardianship__pupil", "guardianship__guardian", "reported_by")
        .order_by("reported_at")
    )


def contest_in_school(school: School, contest_id: int) -> ContestedLink | None:
    return open_contests(school).filter(pk=contest_id).first()


def guardian_in_account(school: School, account: Account, guardian_id: int) -> Guardian | None:
    """A directory guardian row this account speaks for, linked to a pupil of this school."""
    return (
        Guardian.objects.filter(pk=guardian_id, account_link__account=account, guardianships__pupil__school=school)
        .distinct()
        .first()
    )
