"""The password rule of seed 001, plus what makes it acceptable (CNIL 2022-100 with throttling).

The composition checks mirror `static/trousseau/js/password-policy.js`, which shows them live; the
server is the judge. Every service that sets a password calls `require_acceptable` (or
`require_acceptable_for`) itself, so that a caller skipping the form cannot set a weak one; the
forms call `password_problems` only to show the same messages under the field.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from trousseau.accounts.exceptions import PasswordRefused
from trousseau.core.text import fold

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from trousseau.accounts.models import Account

SPECIALS = "!?@#$%&'()*+,-.:;"
MIN_LENGTH = 8
MAX_LENGTH = 128  # argon2 would take more; the cap keeps a request from costing minutes.

# Lazy texts: the activation page lists them in the visitor's language.
COMPOSITION_RULES: list[tuple[str, StrOrPromise]] = [
    ("upper", _("Doit contenir 1 majuscule")),
    ("lower", _("Doit contenir 1 minuscule")),
    ("digit", _("Doit contenir 1 chiffre")),
    ("special", _("Doit contenir 1 caractère spécial parmi ! ? @ # $ % & ' ( ) * + , - . : ;")),
    ("length", format_lazy(_("Doit contenir {minimum} caractères minimum"), minimum=MIN_LENGTH)),
]


def _rule_met(rule: str, password: str) -> bool:
    checks = {
        "upper": lambda: any(c.isupper() for c in password),
        "lower": lambda: any(c.islower() for c in password),
        "digit": lambda: any(c.isdigit() for c in password),
        "special": lambda: any(c in SPECIALS for c in password),
        "length": lambda: len(password) >= MIN_LENGTH,
    }
    return checks[rule]()


# Words every attacker of this service tries first: its own names and those of the services it opens.
CONTEXT_WORDS = ("educonnect", "trousseau", "franceconnect", "pronote", "motdepasse", "password", "azerty", "qwerty")


@cache
def _common_passwords() -> frozenset[str]:
    # Django ships a list of 20 000 common passwords; it is read once per process.
    return frozenset(CommonPasswordValidator().passwords)


def _date_forms(day: date) -> list[str]:
    return [day.strftime(f) for f in ("%d%m%Y", "%Y%m%d", "%d%m%y", "%m%d%Y")]


def password_problems(
    password: str,
    *,
    identifier: str = "",
    names: tuple[str, ...] = (),
    birth_dates: tuple[date, ...] = (),
) -> list[str]:
    """Every reason, in the active language, why this password is refused; an empty list means accepted."""
    problems = [str(message) for rule, message in COMPOSITION_RULES if not _rule_met(rule, password)]
    if len(password) > MAX_LENGTH:
        problems.append(gettext("Doit contenir %(maximum)s caractères maximum") % {"maximum": MAX_LENGTH})
    if any(not c.isprintable() for c in password):
        problems.append(gettext("Ne doit contenir que des caractères imprimables"))
    folded = fold(password)
    if (
        password.lower() in _common_passwords()
        or folded in _common_passwords()
        or any(word in folded for word in CONTEXT_WORDS)
    ):
        problems.append(gettext("Ce mot de passe est trop courant"))
    personal = [fold(identifier), *(fold(n) for n in names)]
    if any(len(p) >= 3 and p in folded for p in personal):  # noqa: PLR2004 - shorter parts match everything
        problems.append(gettext("Ne doit contenir ni votre identifiant ni votre nom ou prénom"))
    digits = re.sub(r"\D", "", password)
    if any(form in digits for day in birth_dates for form in _date_forms(day)):
        problems.append(gettext("Ne doit pas contenir de date de naissance"))
    return problems


def account_password_problems(account: Account, password: str, *, birth_dates: tuple[date, ...] = ()) -> list[str]:
    """`password_problems` for this account's holder: not its identifier, names or children's birth dates.

    `birth_dates` adds dates typed on the same page, not yet known to be the account's.
    """
    return password_problems(
        password,
        identifier=account.identifier,
        names=(account.first_name, account.last_name),
        birth_dates=(*account.known_birth_dates(), *birth_dates),
    )


def require_acceptable(
    password: str,
    *,
    identifier: str = "",
    names: tuple[str, ...] = (),
    birth_dates: tuple[date, ...] = (),
) -> None:
    """Raise PasswordRefused with every problem of `password_problems`; return when the password is accepted."""
    problems = password_problems(password, identifier=identifier, names=names, birth_dates=birth_dates)
    if problems:
        raise PasswordRefused(problems)


def require_acceptable_for(account: Account, password: str) -> None:
    """`require_acceptable` for this account's holder (see `account_password_problems`)."""
    problems = account_password_problems(account, password)
    if problems:
        raise PasswordRefused(problems)
