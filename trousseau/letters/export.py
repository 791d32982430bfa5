"""Activation letters in bulk: which accounts (per pupil, class or school), issuing them, and CSV for mail merge.

Issuing is the write: `letters_issue` gives each account a fresh provisional password through
`letter_issue`, which revokes the account's earlier letters. The PDF (pdf.py) and the CSV
below render the same `IssuedLetter`s; render both from one issue, or the first becomes void.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from trousseau.accounts.models import Account, AccountKind, AccountState
from trousseau.accounts.services import letter_issue
from trousseau.directory.models import Pupil, School, SchoolLevel

# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = [
    "type",
    "identifiant",
    "mot_de_passe_provisoire",
    "prenom",
    "nom",
    "etablissement",
    "uai",
    "classe",
    "enfants",
    "valable_jusqu_au",
    "adresse_connexion",
]


@dataclass(frozen=True)
class Child:
    first_name: str
    last_name: str
    class_name: str
    school_name: str


@dataclass(frozen=True)
class IssuedLetter:
    """What one letter says; the password exists only here and on the paper."""

    kind: str  # AccountKind
    identifier: str
    password: str
    first_name: str
    last_name: str
    school_name: str
    school_uai: str
    class_name: str  # the pupil's class; "" for a guardian
    children: tuple[Child, ...]  # a guardian's children; () for a pupil
    expires_at: datetime
    login_url: str
    primary: bool = False  # an école's letter: no Pronote, no "établissement"
    contact: tuple[str, ...] = ()  # the school's phone, email and hours, those it gave (console)


def login_url() -> str:
    """The page a letter sends people to (and its QR code encodes)."""
    return f"{settings.PUBLIC_URL.rstrip('/')}/login"


# --- Which accounts -----------------------------------------------------------------------------


def _awaiting(accounts: QuerySet[Account], *, only_provisional: bool) -> QuerySet[Account]:
    """Accounts a letter can serve: not disabled nor merged; by default not yet activated either."""
    usable = accounts.filter(merged_into=None).exclude(state=AccountState.DISABLED)
    return usable.filter(state=AccountState.PROVISIONAL) if only_provisional else usable


def _for_pupils(pupils: QuerySet[Pupil], *, guardians: bool, pupils_too: bool, only_provisional: bool) -> list[Account]:
    """Pupil accounts and their legal guardians' accounts, in class then name order, each once."""
    ordered = list(pupils.filter(left_at=None).order_by("class_name", "last_name", "first_name", "pk"))
    ids = [p.pk for p in ordered]
    by_pupil: dict[int, list[Account]] = {pk: [] for pk in ids}
    if pupils_too:
        for account in _awaiting(Account.objects.filter(pupil_id__in=ids), only_provisional=only_provisional):
            by_pupil[account.pupil_id].append(account)  # type: ignore[index]
    if guardians:
        found = _awaiting(Account.objects.filter(kind=AccountKind.GUARDIAN), only_provisional=only_provisional)
        pairs = list(
            found.filter(
                guardian_links__guardian__guardianships__pupil_id__in=ids,
                guardian_links__guardian__guardianships__is_legal_representative=True,
            )
            .values_list("pk", "guardian_links__guardian__guardianships__pupil_id")
            .order_by("last_name", "first_name", "pk")
        )
        accounts = Account.objects.in_bulk({account_id for account_id, _ in pairs})
        for account_id, pupil_id in pairs:
            by_pupil[pupil_id].append(accounts[account_id])
    seen: set[int] = set()
    result: list[Account] = []
    for pk in ids:
        for account in by_pupil[pk]:
            if account.pk not in seen:
                seen.add(account.pk)
                result.append(account)
    return result


def accounts_for_pupil(pupil: Pupil, *, guardians: bool = True, only_provisional: bool = True) -> list[Account]:
    """The pupil's own account (collège, lycée) and, by default, their legal guardians' accounts."""
    pupils = Pupil.objects.filter(pk=pupil.pk)
    return _for_pupils(pupils, guardians=guardians, pupils_too=True, only_provisional=only_provisional)


def accounts_for_class(
    school: School,
    class_name: str,
    *,
    pupils: bool = True,
    guardians: bool = True,
    only_provisional: bool = True,
) -> list[Account]:
    """A class's accounts: each pupil followed by their guardians (a guardian of two pupils comes once)."""
    rows = Pupil.objects.filter(school=school, class_name=class_name)
    return _for_pupils(rows, guardians=guardians, pupils_too=pupils, only_provisional=only_provisional)


def accounts_for_school(
    school: School, *, pupils: bool = True, guardians: bool = True, only_provisional: bool = True
) -> list[Account]:
    """A school's accounts, class by class; by default those that still wait for activation."""
    rows = Pupil.objects.filter(school=school)
    return _for_pupils(rows, guardians=guardians, pupils_too=pupils, only_provisional=only_provisional)


# --- Issuing ------------------------------------------------------------------------------------


@transaction.atomic
def letters_issue(accounts: Iterable[Account], *, now: datetime | None = None) -> list[IssuedLetter]:
    """A new letter for each account (revoking its earlier ones), in the order given."""
    now = now or timezone.now()
    url = login_url()
    issued: list[IssuedLetter] = []
    for account in accounts:
        letter, password = letter_issue(account=account, now=now)
        children: tuple[Child, ...] = ()
        school: School | None = None
        class_name = ""
        if account.kind == AccountKind.PUPIL and account.pupil is not None:
            school, class_name = account.pupil.school, account.pupil.class_name
        else:
            pupils = list(account.pupils().select_related("school").order_by("birth_date", "pk"))
            children = tuple(Child(p.first_name, p.last_name, p.class_name, p.school.name) for p in pupils)
            school = pupils[0].school if pupils else None
        issued.append(
            IssuedLetter(
                kind=account.kind,
                identifier=account.identifier,
                password=password,
                first_name=account.first_name,
                last_name=account.last_name,
                school_name=school.name if school else "",
                school_uai=school.uai if school else "",
                class_name=class_name,
                children=children,
                expires_at=letter.expires_at,
                login_url=url,
                primary=school is not None and school.level == SchoolLevel.ECOLE,
                contact=_contact(school),
            )
        )
    return issued


def _contact(school: School | None) -> tuple[str, ...]:
    if school is None:
        return ()
    return tuple(part for part in (school.contact_phone, school.contact_email, school.contact_hours) if part)


# --- CSV for mail merge -------------------------------------------------------------------------


def escape_cell(value: str) -> str:
    """A leading apostrophe keeps a spreadsheet from reading the cell as a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def render_letters_csv(letters: Sequence[IssuedLetter]) -> bytes:
    """`;`-separated UTF-8 with BOM (what French spreadsheets open directly), formulas escaped."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for letter in letters:
        children = ", ".join(f"{c.first_name} {c.last_name} ({c.class_name})" for c in letter.children)
        row = [
            "eleve" if letter.kind == AccountKind.PUPIL else "responsable",
            letter.identifier,
            letter.password,
            letter.first_name,
            letter.last_name,
            letter.school_name,
            letter.school_uai,
            letter.class_name,
            children,
            timezone.localtime(letter.expires_at).date().isoformat(),
            letter.login_url,
        ]
        writer.writerow([escape_cell(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def letters_csv(accounts: Iterable[Account], *, now: datetime | None = None) -> bytes:
    """Issue a letter for each account and export them as CSV (the same data as `letters_pdf`)."""
    return render_letters_csv(letters_issue(accounts, now=now))
