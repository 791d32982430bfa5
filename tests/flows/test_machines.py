"""Each flow kind's transition table: `advance()` keeps to it, and its diagram (flows/<kind>/diagram.mermaid) says the same.

A diagram is read as mermaid `stateDiagram-v2`: its edges between flow states must be the table's,
`[*] --> s` its first state, `s --> [*]` its final ones. Boxes declared `state "…" as name` are steps
outside the flow row (the lost-password link) and `[*] --> [*]` an answer that opens no flow: both
are drawn for the reader and not compared.
"""

from __future__ import annotations

import re
from collections import deque
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from trousseau.flows.exceptions import FlowError
from trousseau.flows.machines import MACHINES, Machine, UndeclaredTransition, machine
from trousseau.flows.models import Flow, FlowKind, FlowState

# Each journey's folder holds its diagram beside its transitions.
DIAGRAMS = Path(settings.BASE_DIR) / "trousseau" / "flows"
DIAGRAM = "diagram.mermaid"
# Drawn beside the flows but kept in no flow row: a signed link carries the whole state.
NOT_FLOW_ROWS = {"email_verification"}
START = "[*]"
EDGE = re.compile(r"^(?P<source>[^\s:]+)\s*-->\s*(?P<target>[^\s:]+)\s*(?::.*)?$")
ALIAS = re.compile(r'^state\s+"[^"]*"\s+as\s+(?P<name>\w+)$')


def diagram(kind: str) -> str:
    return (DIAGRAMS / kind / DIAGRAM).read_text(encoding="utf-8")


def parse(text: str) -> tuple[set[tuple[str, str]], set[str]]:
    """The edges of a `stateDiagram-v2` and the names of its boxes that are not flow states."""
    edges: set[tuple[str, str]] = set()
    aliases: set[str] = set()
    in_note = False
    for raw in text.splitlines():
        line = raw.strip()
        if in_note:
            in_note = line != "end note"
        elif not line or line.startswith("%%") or line == "stateDiagram-v2":
            continue
        elif line.startswith("note "):
            in_note = ":" not in line  # a note without a colon runs to `end note`
        elif alias := ALIAS.match(line):
            aliases.add(alias["name"])
        elif edge := EDGE.match(line):
            edges.add((edge["source"], edge["target"]))
        else:
            raise AssertionError(f"unread diagram line: {line!r}")
    return edges, aliases


def drift(kind: FlowKind, text: str) -> list[str]:
    """How the diagram `text` differs from the kind's table, one sentence each (empty: they agree)."""
    table = MACHINES[kind]
    edges, aliases = parse(text)
    states = {str(s) for s in FlowState}
    unknown = {name for edge in edges for name in edge} - {*states, *aliases, START}
    found = [f"{name} is no flow state" for name in sorted(unknown)]
    drawn = {(s, t) for s, t in edges if s in states and t in states}
    declared = {(str(s), str(t)) for s, t in table.transitions()}
    found += [f"{s} --> {t} is drawn, not declared" for s, t in sorted(drawn - declared)]
    found += [f"{s} --> {t} is declared, not drawn" for s, t in sorted(declared - drawn)]
    if {t for s, t in edges if s == START and t in states} != {table.initial}:
        found.append(f"[*] --> {table.initial} must be the only way in")
    if {s for s, t in edges if t == START and s in states} != {str(s) for s in table.finals}:
        found.append(f"the final states are {sorted(str(s) for s in table.finals)}, each --> [*]")
    return found


# The tables and the diagrams


def test_every_kind_has_a_table_and_a_diagram_and_every_diagram_a_kind():
    assert set(MACHINES) == set(FlowKind)
    drawn = {path.parent.name for path in DIAGRAMS.glob(f"*/{DIAGRAM}")}
    assert drawn == {str(kind) for kind in FlowKind} | NOT_FLOW_ROWS


@pytest.mark.parametrize("kind", list(FlowKind))
def test_the_diagram_draws_exactly_the_table(kind: FlowKind):
    assert drift(kind, diagram(kind)) == []


@pytest.mark.parametrize("kind", list(FlowKind))
def test_every_state_of_a_table_is_reached_from_its_first(kind: FlowKind):
    table = MACHINES[kind]
    reached, todo = {table.initial}, deque([table.initial])
    while todo:
        for target in table.edges.get(todo.popleft(), frozenset()) - reached:
            reached.add(target)
            todo.append(target)
    assert reached == table.states
    assert table.finals, "a journey that can never end"


def test_the_diagram_check_sees_an_edge_missing_from_the_diagram():
    text = diagram(FlowKind.SELF_REGISTRATION)
    missing = "\n".join(line for line in text.splitlines() if "choosing_password --> already_active" not in line)
    assert drift(FlowKind.SELF_REGISTRATION, missing) == ["choosing_password --> already_active is declared, not drawn"]


def test_the_diagram_check_sees_an_edge_the_table_does_not_declare():
    text = diagram(FlowKind.LOST_PASSWORD) + "\n    awaiting_code --> failed: five wrong codes\n"
    assert drift(FlowKind.LOST_PASSWORD, text) == ["awaiting_code --> failed is drawn, not declared"]


def test_the_diagram_check_sees_a_misspelt_state_a_wrong_start_and_a_missing_end():
    text = diagram(FlowKind.CHANGE_MOBILE)
    text = text.replace("[*] --> awaiting_code", "[*] --> awaiting_cod").replace("failed --> [*]", "")
    problems = drift(FlowKind.CHANGE_MOBILE, text)
    assert "awaiting_cod is no flow state" in problems
    assert "[*] --> awaiting_code must be the only way in" in problems
    assert "the final states are ['completed', 'failed'], each --> [*]" in problems


# advance() keeps to the table


def open_flow(kind: FlowKind, state: FlowState) -> Flow:
    return Flow.objects.create(
        kind=kind, state=state, expires_at=timezone.now() + timedelta(minutes=30), session_binding="b"
    )


@pytest.mark.django_db
def test_advance_takes_a_declared_edge():
    flow = open_flow(FlowKind.LOST_PASSWORD, FlowState.AWAITING_CODE)
    flow.advance(FlowState.CHOOSING_PASSWORD)
    flow.refresh_from_db()
    assert flow.state == FlowState.CHOOSING_PASSWORD


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "source", "target"),
    [
        (FlowKind.LOST_PASSWORD, FlowState.AWAITING_CODE, FlowState.FAILED),
        (FlowKind.LOST_PASSWORD, FlowState.AWAITING_CODE, FlowState.COMPLETED),
        (FlowKind.CHANGE_MOBILE, FlowState.COMPLETED, FlowState.AWAITING_CODE),
        (FlowKind.SELF_REGISTRATION, FlowState.FAILED, FlowState.COMPLETED),
        (FlowKind.ACTIVATION_BY_LETTER, FlowState.AWAITING_ACTIVATION, FlowState.CHOOSING_PASSWORD),
        (FlowKind.FRANCECONNECT_FIRST_LOGIN, FlowState.AWAITING_PHONE, FlowState.CONFIRMING_CHILDREN),
    ],
)
def test_advance_refuses_an_edge_its_kind_does_not_declare(kind: FlowKind, source: FlowState, target: FlowState):
    flow = open_flow(kind, source)
    with pytest.raises(UndeclaredTransition, match=f"{source} -> {target}"):
        flow.advance(target)
    flow.refresh_from_db()
    assert flow.state == source


def test_an_undeclared_edge_is_a_bug_not_a_refusal_a_view_would_word():
    assert not issubclass(UndeclaredTransition, FlowError)


@pytest.mark.django_db
def test_flows_start_in_their_tables_first_state_and_move_in_bulk_along_declared_edges_only():
    flow = Flow.objects.start(
        kind=FlowKind.FRANCECONNECT_FIRST_LOGIN, expires_at=timezone.now() + timedelta(minutes=30), session_binding="b"
    )
    assert flow.state == machine(FlowKind.FRANCECONNECT_FIRST_LOGIN).initial == FlowState.AWAITING_PHONE
    flows = Flow.objects.filter(pk=flow.pk)
    with pytest.raises(UndeclaredTransition):
        flows.advance(
            kind=FlowKind.FRANCECONNECT_FIRST_LOGIN, source=FlowState.AWAITING_PHONE, target=FlowState.COMPLETED
        )
    moved = flows.advance(
        kind=FlowKind.FRANCECONNECT_FIRST_LOGIN, source=FlowState.AWAITING_PHONE, target=FlowState.FAILED
    )
    assert moved == 1
    assert Flow.objects.get(pk=flow.pk).state == FlowState.FAILED


def test_a_table_names_its_final_states_from_its_edges():
    table = Machine(initial=FlowState.AWAITING_CODE, edges={FlowState.AWAITING_CODE: frozenset({FlowState.COMPLETED})})
    assert table.finals == {FlowState.COMPLETED}
    assert table.states == {FlowState.AWAITING_CODE, FlowState.COMPLETED}
