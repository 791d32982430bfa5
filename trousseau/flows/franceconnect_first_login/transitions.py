"""Logging in with FranceConnect, and the first time tying it to the school's records (seeds 000,
001 "procédure 2", 004 case 1).

Diagram: diagram.mermaid beside this module. A FranceConnect identity already linked to an
account logs straight in by its `sub`. Otherwise: "Vous allez vous connecter en tant que : Prénom NOM"
with the mobile the school recorded -> SMS code -> each child confirmed by birth date -> the account
of those records (existing or new) is active and linked to the `sub`. The FranceConnect family name
(birth name, or usage name) must be the record's, folded; the first name is compared leniently (any
of the given names). Only `confirm_children` changes an account.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.conf import settings
from django.utils import timezone

from trousseau.accounts.franceconnect_link import (
    AccountUnusable,
    SubTaken,
    account_by_franceconnect_sub,
    account_link_franceconnect,
)
from trousseau.accounts.models import Account, AccountState
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.core import throttle
from trousseau.core.http import address_block
from trousseau.core.refusals import TooManyTries
from trousseau.directory.models import Guardian
from trousseau.directory.selectors import guardians_matching
from trousseau.flows.exceptions import FlowError, NoMatch
from trousseau.flows.models import CodePurpose, Flow, FlowKind, FlowState, binding_digest
from trousseau.flows.steps import codes
from trousseau.flows.steps.children import Child, judge_children
from trousseau.flows.steps.children import children as listed_children
from trousseau.franceconnect.client import Identity

PHONE_FREE_FAILURES_PER_IDENTITY = 5


class AccountDisabled(FlowError):
    """The records' account, or the one this FranceConnect identity is linked to, is disabled."""


class AlreadyLinked(FlowError):
    """This FranceConnect identity was linked to an account meanwhile (e.g. in another tab)."""


def _guards(ip: str, sub: str) -> list[throttle.Guard]:
    return [
        throttle.Guard("franceconnect:ip", address_block(ip), settings.SELF_REGISTRATION_IP_FREE_FAILURES),
        throttle.Guard("franceconnect:sub", sub, PHONE_FREE_FAILURES_PER_IDENTITY),
    ]


def arrive(
    identity: Identity, *, ip: str, browser_secret: str, kept: Mapping[str, Any] | None = None
) -> Account | Flow:
    """Back from FranceConnect with a verified identity: the linked account, or a new first-login flow.

    `kept` is what the flow keeps of the browser's pending login (flows/steps/ending.py `kept_for_flow`):
    the last page can then name the service even if its request is gone by then.
    Raises AccountDisabled when the linked account cannot log in.
    """
    account = account_by_franceconnect_sub(identity.sub)
    if account is not None:
        if account.state != AccountState.ACTIVE:
            audit(EventTag.FRANCECONNECT_ACCOUNT_UNUSABLE, account=account, ip=ip, state=account.state)
            raise AccountDisabled
        audit(EventTag.LOGIN_SUCCESS, account=account, ip=ip, method="franceconnect")
        return account
    return Flow.objects.start(
        kind=FlowKind.FRANCECONNECT_FIRST_LOGIN,
        expires_at=timezone.now() + settings.SELF_SERVICE_FLOW_LIFESPAN,
        context={
            "sub": identity.sub,
            "given_name": identity.given_name,
            "family_name": identity.family_name,
            "preferred_username": identity.preferred_username,
            **(kept or {}),
        },
        session_binding=binding_digest(browser_secret),
    )


def display_name(flow: Flow) -> str:
    """ "Prénom NOM" as FranceConnect gives it (the usage name when there is one)."""
    family = flow.context.get("preferred_username") or flow.context["family_name"]
    return f"{flow.context['given_name']} {family.upper()}"


def _first_name_candidates(given_name: str) -> list[str]:
    """Each given name, and all of them together ("Jean Pierre" may be recorded "Jean-Pierre")."""
    names = given_name.split()
    return list(dict.fromkeys([*names, given_name]))


def _family_name_candidates(flow: Flow) -> list[str]:
    """The birth name, and the usage name when FranceConnect has one (schools often record the latter)."""
    return [n for n in (flow.context["family_name"], flow.context.get("preferred_username", "")) if n]


def _matching_guardians(flow: Flow, phone: str) -> list[Guardian]:
    found: dict[int, Guardian] = {}
    for last in _family_name_candidates(flow):
        for first in _first_name_candidates(flow.context["given_name"]):
            for guardian in guardians_matching(last_name=last, first_name=first, mobile=phone):
                found.setdefault(guardian.pk, guardian)
    return [found[pk] for pk in sorted(found)]


def submit_phone(flow: Flow, *, phone: str, ip: str) -> None:
    """AWAITING_PHONE -> AWAITING_CODE with a code sent to the recorded mobile.

    NoMatch (counted per address and per FranceConnect identity) when no guardian record has this
    mobile and these names, said the same way whichever part is wrong; TooManyTries after too many;
    SendLimitReached or ResendTooSoon from the SMS rules.
    """
    flow.expect(FlowState.AWAITING_PHONE)
    guards = _guards(ip, flow.context["sub"])
    wait = throttle.admit(guards)  # a miss is counted before the lookup (core.throttle.admit)
    if wait is not None:
        audit(EventTag.FRANCECONNECT_FIRST_LOGIN_THROTTLED, ip=ip)
        raise TooManyTries(throttle.minutes(wait))
    guardians = _matching_guardians(flow, phone)
    if not guardians:
        known_phone = Guardian.objects.filter(mobile=phone).exists()
        audit(
            EventTag.FRANCECONNECT_FIRST_LOGIN_NO_MATCH,
            ip=ip,
            reason="name" if known_phone else "phone",
            flow=str(flow.pk),
        )
        raise NoMatch
    for guard in guards:
        throttle.refund(guard)
    flow.context.update({"guardian_ids": [g.pk for g in guardians], "phone": phone})
    flow.save(update_fields=["context"])
    codes.issue(flow, purpose=CodePurpose.FRANCECONNECT, phone=phone, ip=ip)
    flow.advance(FlowState.AWAITING_CODE)


def resend_code(flow: Flow, *, ip: str) -> None:
    """AWAITING_CODE -> AWAITING_CODE with a fresh code (resend delay and budgets apply)."""
    flow.expect(FlowState.AWAITING_CODE)
    codes.issue(flow, purpose=CodePurpose.FRANCECONNECT, phone=flow.context["phone"], ip=ip)


def submit_code(flow: Flow, *, code: str, ip: str) -> None:
    """AWAITING_CODE -> CONFIRMING_CHILDREN; code errors come from `codes.verify`."""
    flow.expect(FlowState.AWAITING_CODE)
    codes.verify(flow, purpose=CodePurpose.FRANCECONNECT, code=code, ip=ip)
    flow.advance(FlowState.CONFIRMING_CHILDREN)


def children(flow: Flow) -> list[Child]:
    return listed_children(flow)


def confirm_children(flow: Flow, *, answers: Mapping[int, date | None], ip: str) -> Account:
    """CONFIRMING_CHILDREN -> COMPLETED: the records' account is active and linked to the `sub`.

    Refusals of the birth dates as in self-registration (WrongBirthDate, TooManyAttempts,
    IncompleteAnswers, NothingConfirmed); AccountDisabled if the records' account is disabled;
    AlreadyLinked if the `sub` got linked elsewhere meanwhile.
    """
    flow.expect(FlowState.CONFIRMING_CHILDREN)
    judge_children(flow, answers=answers, ip=ip)
    try:
        account = account_link_franceconnect(guardian_ids=flow.context["guardian_ids"], sub=flow.context["sub"], ip=ip)
    except AccountUnusable as exc:
        flow.advance(FlowState.FAILED)
        audit(EventTag.FRANCECONNECT_ACCOUNT_UNUSABLE, ip=ip, flow=str(flow.pk))
        raise AccountDisabled from exc
    except SubTaken as exc:
        flow.advance(FlowState.FAILED)
        raise AlreadyLinked from exc
    flow.advance(FlowState.COMPLETED, account=account)
    audit(EventTag.LOGIN_SUCCESS, account=account, ip=ip, method="franceconnect", first=True)
    return account


def abandon(flow: Flow) -> None:
    """ "Ce n'est pas vous ?": the flow ends, nothing was changed."""
    if flow.state not in {FlowState.COMPLETED, FlowState.FAILED}:
        flow.advance(FlowState.FAILED)
