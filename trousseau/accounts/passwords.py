"""The password rule of seed 001, plus what makes it acceptable (CNIL 2022-100 with throttling).

The server is the judge; `static/trousseau/js/password-policy.js` shows the rule live and asks the
server (`accounts.views.password_check`, with the sealed `check_token` of the page's form) before it
says "Fort", so the page never calls strong a password the form will refuse. Every service that sets a password calls `require_acceptable` (or
`require_acceptable_for`) itself, so that a caller skipping the form cannot set a weak one; the
forms call `password_problems` only to show the same messages under the field.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.cache import cache as shared_cache
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from trousseau.accounts.exceptions import PasswordRefused
from trousseau.core.sealing import Unsealable, seal, unseal
from trousseau.core.secrets import keyed_digest
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


def unmet_rules(password: str) -> list[str]:
    """The composition rules (`COMPOSITION_RULES` keys) this password does not meet."""
    return [rule for rule, _message in COMPOSITION_RULES if not _rule_met(rule, password)]


def other_problems(
    password: str,
    *,
    identifier: str = "",
    names: tuple[str, ...] = (),
    birth_dates: tuple[date, ...] = (),
) -> list[str]:
    """The reasons beyond composition: length cap, unprintable, common, personal words, dates."""
    problems = []
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


def password_problems(
    password: str,
    *,
    identifier: str = "",
    names: tuple[str, ...] = (),
    birth_dates: tuple[date, ...] = (),
) -> list[str]:
    """Every reason, in the active language, why this password is refused; an empty list means accepted."""
    composition = dict(COMPOSITION_RULES)
    return [str(composition[rule]) for rule in unmet_rules(password)] + other_problems(
        password, identifier=identifier, names=names, birth_dates=birth_dates
    )


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


# --- The live check of a page's password field ----------------------------------------------------

CHECK_PURPOSE = "password-check"
CHECK_LIFESPAN = 2 * 3600  # longer than any journey's page stays open
# The help asks at most every few hundred milliseconds while someone types; a school's shared address
# may carry a whole class activating at once.
CHECKS_PER_WINDOW = 600
CHECK_WINDOW = 600  # seconds


@dataclass(frozen=True)
class CheckContext:
    """What a form judges a new password against, sealed into its page for the live check."""

    identifier: str = ""
    names: tuple[str, ...] = ()
    birth_dates: tuple[date, ...] = ()
    letter_id: int | None = None  # the activation letter whose password may not be kept


def check_token(context: CheckContext) -> str:
    """The sealed context a page sends back with each live check (`accounts.views.password_check`).

    Sealed, not only signed: it may hold the birth dates of the children of whoever sees the page
    (their own account's), which the page's HTML must not show in clear. A form puts in it exactly
    what it judges with, and nothing it keeps secret from the person typing (the activation form,
    before the birth date is proven, leaves out the account's known dates).
    """
    data = {
        "i": context.identifier,
        "n": list(context.names),
        "d": [day.isoformat() for day in context.birth_dates],
        "l": context.letter_id,
        "t": int(time.time()),
    }
    return seal(json.dumps(data), purpose=CHECK_PURPOSE)


def read_check_token(token: str) -> CheckContext | None:
    """The context of a token `check_token` sealed, or None if it is altered, foreign or too old."""
    try:
        data = json.loads(unseal(token, purpose=CHECK_PURPOSE))
        if int(time.time()) - int(data["t"]) > CHECK_LIFESPAN:
            return None
        return CheckContext(
            identifier=str(data["i"]),
            names=tuple(str(name) for name in data["n"]),
            birth_dates=tuple(date.fromisoformat(day) for day in data["d"]),
            letter_id=int(data["l"]) if data.get("l") else None,
        )
    except (Unsealable, ValueError, KeyError, TypeError):
        return None


def account_check_context(account: Account) -> CheckContext:
    """The context of `account_password_problems` for this account's holder (a logged-in page)."""
    return CheckContext(
        identifier=account.identifier,
        names=(account.first_name, account.last_name),
        birth_dates=tuple(account.known_birth_dates()),
    )


@dataclass(frozen=True)
class Verdict:
    """The live check's answer: the composition rules unmet, and every other reason, in words."""

    unmet: list[str]
    others: list[str]

    @property
    def accepted(self) -> bool:
        return not self.unmet and not self.others


def live_verdict(context: CheckContext, password: str, *, typed_birth_date: date | None = None) -> Verdict:
    """What the page's form will say of `password`, for the live help (the same functions it calls)."""
    from trousseau.accounts.models import ActivationLetter  # noqa: PLC0415 - models need the app registry
    from trousseau.accounts.services import LETTER_PASSWORD_KEPT, is_the_letters_password  # noqa: PLC0415

    dates = (*context.birth_dates, typed_birth_date) if typed_birth_date else context.birth_dates
    unmet = unmet_rules(password)
    others = other_problems(password, identifier=context.identifier, names=context.names, birth_dates=dates)
    if not unmet and not others and context.letter_id is not None:
        # The letter's hash is checked last and only for an otherwise good password: it is slow on purpose.
        letter = ActivationLetter.objects.filter(pk=context.letter_id).first()
        if is_the_letters_password(letter, password):
            others.append(str(LETTER_PASSWORD_KEPT))
    return Verdict(unmet=unmet, others=others)


def live_check_allowed(ip: str) -> bool:
    """Count one live check for this address; False past `CHECKS_PER_WINDOW` in the window.

    Counted in the cache, not the database: the check guards no secret its caller lacks (the sealed
    context holds only what the page's own holder may know; the letter's password was typed by whoever
    has the activation page), so the budget only bounds its cost, and a database write on every
    keystroke would compete with the form's own transactions. Without a cache, checks go unbounded.
    """
    key = f"password-check:{keyed_digest(ip, purpose='ratelimit')}:{int(time.time()) // CHECK_WINDOW}"
    try:
        shared_cache.add(key, 0, CHECK_WINDOW)
        return int(shared_cache.incr(key)) <= CHECKS_PER_WINDOW
    except ValueError:  # the window closed between add and incr: a fresh one
        return True
    except Exception:  # noqa: BLE001 - the cache is an accelerator (core/cache.py): down, it bounds nothing
        return True
