"""The ticket lifecycle: exactly the listed moves are legal, and final states are final."""

from __future__ import annotations

import itertools

import pytest

from server.domain.errors import IllegalTransition
from server.domain.tickets import (
    FINAL_STATUSES,
    TRANSITIONS,
    Action,
    TicketStatus,
    is_legal,
    next_status,
)

S = TicketStatus
A = Action

# Written out by hand, not derived from TRANSITIONS, so that a change there must be deliberate.
LEGAL = {
    (S.WAITING, A.CALL): S.CALLED,
    (S.WAITING, A.CANCEL): S.CANCELLED,
    (S.CALLED, A.RECALL): S.CALLED,
    (S.CALLED, A.START): S.SERVING,
    (S.CALLED, A.NO_SHOW): S.NO_SHOW,
    (S.CALLED, A.CANCEL): S.CANCELLED,
    (S.CALLED, A.TRANSFER): S.WAITING,
    (S.SERVING, A.COMPLETE): S.COMPLETED,
    (S.SERVING, A.CANCEL): S.CANCELLED,
    (S.SERVING, A.TRANSFER): S.WAITING,
}
ILLEGAL = [pair for pair in itertools.product(S, A) if pair not in LEGAL]


@pytest.mark.parametrize(("current", "action"), list(LEGAL), ids=lambda x: x.value)
def test_each_legal_move_leads_to_its_status(current: TicketStatus, action: Action):
    assert next_status(current, action) is LEGAL[(current, action)]
    assert is_legal(current, action)


@pytest.mark.parametrize(("current", "action"), ILLEGAL, ids=lambda x: x.value)
def test_every_other_move_is_an_illegal_transition(current: TicketStatus, action: Action):
    with pytest.raises(IllegalTransition) as refused:
        next_status(current, action)
    assert refused.value.code == "illegal_transition"
    assert current.value in refused.value.message
    assert not is_legal(current, action)


def test_the_transition_table_is_exactly_the_documented_lifecycle():
    assert TRANSITIONS == LEGAL


@pytest.mark.parametrize("final", sorted(FINAL_STATUSES), ids=str)
def test_a_final_status_has_no_way_out(final: TicketStatus):
    assert final.is_final
    assert not final.holds_counter
    for action in A:
        with pytest.raises(IllegalTransition):
            next_status(final, action)


def test_the_final_statuses_are_completed_no_show_and_cancelled():
    assert {s for s in S if s.is_final} == {S.COMPLETED, S.NO_SHOW, S.CANCELLED}


def test_only_called_and_serving_tickets_hold_a_counter():
    assert {s for s in S if s.holds_counter} == {S.CALLED, S.SERVING}


def test_every_status_is_reachable_and_no_legal_move_starts_from_a_final_one():
    reachable = {S.WAITING} | set(LEGAL.values())
    assert reachable == set(S)
    assert all(not current.is_final for current, _ in LEGAL)
