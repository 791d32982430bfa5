"""Each flow kind's state machine: its first state and every edge its journey may take.

The table is the one place where a journey's steps are declared: `Flow.advance` refuses an edge that
is not in it, and the kind's diagram (`flows/<kind>/diagram.mermaid`, or `docs/flows/<kind>.mermaid` for
a journey not yet in its folder) is checked against it (tests/flows/test_machines.py), so neither the code nor the diagram can drift from the table without a test saying so. An edge from
a state to itself is a step that keeps the state (a wrong answer counted, a code sent again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class FlowKind(models.TextChoices):
    ACTIVATION_BY_LETTER = "activation_by_letter", _("Activation par courrier")
    SELF_REGISTRATION = "self_registration", _("Inscription par SMS")
    LOST_PASSWORD = "lost_password", _("Mot de passe perdu")
    CHANGE_MOBILE = "change_mobile", _("Changement de téléphone portable")
    FRANCECONNECT_FIRST_LOGIN = "franceconnect_first_login", _("Première connexion avec FranceConnect")


class FlowState(models.TextChoices):
    """The states flows can be in; which ones each kind uses is in `MACHINES`."""

    AWAITING_ACTIVATION = "awaiting_activation"
    AWAITING_PHONE = "awaiting_phone"
    AWAITING_CODE = "awaiting_code"
    CONFIRMING_CHILDREN = "confirming_children"
    CHOOSING_PASSWORD = "choosing_password"  # noqa: S105 - a state name
    ALREADY_ACTIVE = "already_active"
    COMPLETED = "completed"
    FAILED = "failed"


class UndeclaredTransition(Exception):
    """A journey asked for an edge its kind's table does not declare.

    A programming error, not a refusal: it is deliberately no FlowError, so that no view turns it into
    a polite "start again" page and hides the bug.
    """


@dataclass(frozen=True)
class Machine:
    initial: FlowState
    edges: Mapping[FlowState, frozenset[FlowState]]

    def allows(self, source: FlowState, target: FlowState) -> bool:
        return target in self.edges.get(source, frozenset())

    def check(self, kind: str, source: str, target: FlowState) -> None:
        if not self.allows(FlowState(source), target):
            raise UndeclaredTransition(f"{kind}: {source} -> {target} is not an edge of its table")

    @property
    def states(self) -> frozenset[FlowState]:
        return frozenset({self.initial, *self.edges, *(t for targets in self.edges.values() for t in targets)})

    @property
    def finals(self) -> frozenset[FlowState]:
        """The states a flow of this kind ends in: no edge leaves them."""
        return frozenset(s for s in self.states if not self.edges.get(s))

    def transitions(self) -> frozenset[tuple[FlowState, FlowState]]:
        return frozenset((source, target) for source, targets in self.edges.items() for target in targets)


S = FlowState

MACHINES: Mapping[FlowKind, Machine] = {
    FlowKind.ACTIVATION_BY_LETTER: Machine(
        initial=S.AWAITING_ACTIVATION,
        edges={
            # -> failed: the flow's or the letter's budget of birth dates spent, the letter no longer
            # valid, or a new login with the letter opening another flow.
            S.AWAITING_ACTIVATION: frozenset({S.AWAITING_ACTIVATION, S.COMPLETED, S.FAILED}),
        },
    ),
    FlowKind.SELF_REGISTRATION: Machine(
        initial=S.AWAITING_CODE,
        edges={
            # -> failed: the first code could not be sent (SMS budgets).
            S.AWAITING_CODE: frozenset({S.AWAITING_CODE, S.CONFIRMING_CHILDREN, S.ALREADY_ACTIVE, S.FAILED}),
            S.CONFIRMING_CHILDREN: frozenset({S.CONFIRMING_CHILDREN, S.CHOOSING_PASSWORD, S.FAILED}),
            # -> already_active: an account of these records became active meanwhile.
            S.CHOOSING_PASSWORD: frozenset({S.COMPLETED, S.ALREADY_ACTIVE}),
        },
    ),
    FlowKind.LOST_PASSWORD: Machine(
        initial=S.AWAITING_CODE,
        edges={
            S.AWAITING_CODE: frozenset({S.AWAITING_CODE, S.CHOOSING_PASSWORD}),
            S.CHOOSING_PASSWORD: frozenset({S.COMPLETED}),
        },
    ),
    FlowKind.CHANGE_MOBILE: Machine(
        initial=S.AWAITING_CODE,
        edges={
            # -> failed: the first code could not be sent (SMS budgets).
            S.AWAITING_CODE: frozenset({S.AWAITING_CODE, S.COMPLETED, S.FAILED}),
        },
    ),
    FlowKind.FRANCECONNECT_FIRST_LOGIN: Machine(
        initial=S.AWAITING_PHONE,
        edges={
            # -> failed from every open state: "Ce n'est pas vous ?" ends the journey wherever it is.
            S.AWAITING_PHONE: frozenset({S.AWAITING_PHONE, S.AWAITING_CODE, S.FAILED}),
            S.AWAITING_CODE: frozenset({S.AWAITING_CODE, S.CONFIRMING_CHILDREN, S.FAILED}),
            S.CONFIRMING_CHILDREN: frozenset({S.CONFIRMING_CHILDREN, S.COMPLETED, S.FAILED}),
        },
    ),
}


def machine(kind: str) -> Machine:
    return MACHINES[FlowKind(kind)]
