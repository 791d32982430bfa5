"""The children's birth-date step, shared by self-registration and the FranceConnect first login.

The flow's context holds the matched guardian records (`guardian_ids`); their children are listed
(first name, initial, school: nothing more is shown) and each is confirmed by its birth date or
contested. The same refusals and budgets apply whichever journey asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.utils.translation import ngettext

from trousseau.accounts.self_registration import links_contest
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.core import ratelimit
from trousseau.directory.selectors import guardianships_of
from trousseau.flows.exceptions import IncompleteAnswers, NothingConfirmed, TooManyAttempts, WrongBirthDate
from trousseau.flows.models import Flow, FlowState


@dataclass(frozen=True)
class Child:
    pupil_id: int
    first_name: str
    last_initial: str
    school: str
    birth_date: date


def children(flow: Flow) -> list[Child]:
    """The children listed for confirmation: first name, initial, school (nothing more is shown)."""
    seen: dict[int, Child] = {}
    for link in guardianships_of(flow.context["guardian_ids"]):
        p = link.pupil
        seen.setdefault(p.pk, Child(p.pk, p.first_name, p.last_name[:1].upper(), p.school.name, p.birth_date))
    return list(seen.values())


def _child_confirmations() -> ratelimit.Budget:
    return ratelimit.Budget("children:family:day", settings.ACTIVATION_MAX_ATTEMPTS + 1, timedelta(days=1))


def judge_children(flow: Flow, *, answers: Mapping[int, date | None], ip: str) -> None:
    """Every listed child answered, each date right, a contested link recorded for the school.

    Refusals: IncompleteAnswers, WrongBirthDate (one counted failure for the page), TooManyAttempts
    (FAILED), NothingConfirmed (FAILED) if every link is contested.
    """
    listed = {c.pupil_id: c for c in children(flow)}
    if set(answers) != set(listed):
        raise IncompleteAnswers
    # Per flow, 5 tries; per family records, a day's budget, so that starting new flows (each with its
    # SMS) does not renew the guesses at their children's birth dates (security.md §7 check 16).
    family = ",".join(str(pk) for pk in sorted(flow.context["guardian_ids"]))
    if not ratelimit.consume(_child_confirmations(), family):
        flow.advance(FlowState.FAILED)
        audit(EventTag.CHILD_CONFIRMATION_FAILURE, ip=ip, reason="daily_budget")
        raise TooManyAttempts
    if any(day is not None and day != listed[pid].birth_date for pid, day in answers.items()):
        failures = flow.count_failure()
        audit(EventTag.CHILD_CONFIRMATION_FAILURE, ip=ip, attempt=failures)
        remaining = settings.ACTIVATION_MAX_ATTEMPTS - failures
        if remaining <= 0:
            flow.advance(FlowState.FAILED)
            raise TooManyAttempts
        raise WrongBirthDate(remaining)
    contested = [pid for pid, day in answers.items() if day is None]
    if contested:
        links = guardianships_of(flow.context["guardian_ids"]).filter(pupil_id__in=contested)
        links_contest(guardianship_ids=[g.pk for g in links], account=None, ip=ip)
    if len(contested) == len(listed):
        flow.advance(FlowState.FAILED)
        raise NothingConfirmed


def wrong_date_message(remaining: int) -> str:
    """What the children's step says after a wrong birth date (self-registration, FranceConnect)."""
    return ngettext(
        "Une date de naissance ne correspond pas. Il vous reste %(n)s essai.",
        "Une date de naissance ne correspond pas. Il vous reste %(n)s essais.",
        remaining,
    ) % {"n": remaining}
