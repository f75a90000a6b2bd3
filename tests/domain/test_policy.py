"""Queue policy: which waiting ticket a counter calls next, and a ticket's place in line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from server.config_types import PreferentialMode, PreferentialPolicyConfig
from server.domain.policy import (
    CounterState,
    QueuedTicket,
    after_call,
    next_ticket,
    position,
)

NOW = dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC)
CAP = PreferentialPolicyConfig(PreferentialMode.CAP, regular_wait_cap_minutes=20)
EVERY_2 = PreferentialPolicyConfig(PreferentialMode.INTERLEAVE, every=2)
EVERY_3 = PreferentialPolicyConfig(PreferentialMode.INTERLEAVE, every=3)
V04 = CounterState("V04", ("PLACAS", "TENENCIA"))


def ticket(id: int, service: str = "PLACAS", *, waited: float = 0, preferential: bool = False,
           front: bool = False, target: str | None = None) -> QueuedTicket:
    """A waiting ticket queued `waited` minutes before NOW."""
    return QueuedTicket(id, service, preferential, front, NOW - dt.timedelta(minutes=waited),
                        target)


def pick(waiting: Sequence[QueuedTicket], counter: CounterState = V04,
         policy: PreferentialPolicyConfig = CAP) -> int | None:
    chosen = next_ticket(waiting, counter, policy, NOW)
    return None if chosen is None else chosen.id


# --- next_ticket: order of services, fronts and targets -----------------------------------

def test_nothing_waiting_means_nothing_to_call():
    assert pick([]) is None


def test_tickets_of_services_the_counter_does_not_serve_are_not_called():
    assert pick([ticket(1, "NOADEUDO", waited=50)]) is None


def test_the_oldest_regular_ticket_of_a_service_is_called_first():
    assert pick([ticket(1, waited=5), ticket(2, waited=9), ticket(3, waited=7)]) == 2


def test_equal_queue_times_are_called_in_issue_order():
    assert pick([ticket(8, waited=5), ticket(3, waited=5), ticket(5, waited=5)]) == 3


def test_a_counter_serves_its_services_in_priority_order():
    waiting = [ticket(1, "TENENCIA", waited=60), ticket(2, "PLACAS", waited=1)]
    assert pick(waiting) == 2
    assert pick(waiting, CounterState("V05", ("TENENCIA", "PLACAS"))) == 1


def test_a_lower_priority_service_is_called_when_the_first_is_empty():
    assert pick([ticket(1, "TENENCIA", waited=1), ticket(2, "NOADEUDO", waited=9)]) == 1


def test_a_ticket_transferred_to_the_front_goes_before_older_and_preferential_ones():
    waiting = [ticket(1, waited=30), ticket(2, waited=10, preferential=True),
               ticket(3, waited=1, front=True)]
    assert pick(waiting) == 3
    assert pick(waiting, policy=EVERY_2) == 3


def test_tickets_at_the_front_go_in_the_order_they_were_transferred():
    waiting = [ticket(1, waited=2, front=True), ticket(2, waited=4, front=True, preferential=True),
               ticket(3, waited=3, front=True)]
    assert pick(waiting) == 2


def test_a_front_ticket_does_not_jump_ahead_of_a_higher_priority_service():
    waiting = [ticket(1, "TENENCIA", front=True), ticket(2, "PLACAS")]
    assert pick(waiting) == 2


def test_a_ticket_sent_to_one_counter_is_called_there_first():
    waiting = [ticket(1, waited=30, front=True), ticket(2, "TENENCIA", waited=1, target="V04")]
    assert pick(waiting) == 2


def test_a_ticket_sent_to_one_counter_is_called_there_even_for_another_service():
    assert pick([ticket(1, "LIC-RENOV", target="V04")]) == 1


def test_a_ticket_sent_to_another_counter_is_never_called_here():
    waiting = [ticket(1, waited=30, target="V05", front=True)]
    assert pick(waiting) is None
    assert pick([*waiting, ticket(2)]) == 2


def test_tickets_sent_to_one_counter_follow_front_then_policy_among_themselves():
    waiting = [ticket(1, waited=9, target="V04"), ticket(2, waited=1, target="V04", front=True)]
    assert pick(waiting) == 2
    waiting = [ticket(1, waited=9, target="V04"),
               ticket(2, waited=1, target="V04", preferential=True)]
    assert pick(waiting) == 2
    assert pick(waiting, policy=PreferentialPolicyConfig(regular_wait_cap_minutes=5)) == 1


# --- CAP: preferential first, until a regular ticket has waited past the cap --------------

def test_cap_calls_a_preferential_ticket_before_an_older_regular_one():
    assert pick([ticket(1, waited=15), ticket(2, waited=1, preferential=True)]) == 2


def test_cap_calls_the_oldest_preferential_ticket():
    waiting = [ticket(1, waited=1, preferential=True), ticket(2, waited=3, preferential=True),
               ticket(3, waited=2)]
    assert pick(waiting) == 2


def test_cap_still_prefers_preferential_when_the_regular_has_waited_exactly_the_cap():
    assert pick([ticket(1, waited=20), ticket(2, preferential=True)]) == 2


def test_cap_calls_the_regular_ticket_once_it_has_waited_longer_than_the_cap():
    waiting = [ticket(1, waited=20.01), ticket(2, waited=25, preferential=True),
               ticket(3, waited=30)]
    assert pick(waiting) == 3


def test_cap_ignores_the_counter_streak():
    waiting = [ticket(1, waited=5), ticket(2, preferential=True)]
    assert pick(waiting, CounterState("V04", V04.services, 0)) == 2
    assert pick(waiting, CounterState("V04", V04.services, 9)) == 2


def test_either_class_is_called_when_the_other_is_empty():
    assert pick([ticket(1, waited=1, preferential=True)], policy=EVERY_2) == 1
    assert pick([ticket(1, waited=1)], CounterState("V04", V04.services, 0), EVERY_2) == 1


# --- INTERLEAVE: one call in every N goes to a preferential ticket ------------------------

def test_interleave_calls_a_preferential_ticket_first():
    waiting = [ticket(1, waited=30), ticket(2, waited=1, preferential=True)]
    assert pick(waiting, policy=EVERY_3) == 2


def calls_with_both_classes_waiting(policy: PreferentialPolicyConfig, calls: int,
                                    counter: CounterState = V04) -> str:
    """P/R pattern of `calls` calls at one counter while both classes keep waiting."""
    waiting = [ticket(1, waited=99), ticket(2, waited=99, preferential=True)]
    pattern = ""
    for next_id in range(3, 3 + calls):
        called = next_ticket(waiting, counter, policy, NOW)
        assert called is not None
        pattern += "P" if called.preferential else "R"
        counter = after_call(counter, called)
        waiting = [t for t in waiting if t.id != called.id]
        waiting.append(ticket(next_id, waited=0, preferential=called.preferential))
    return pattern


def test_interleave_every_two_alternates():
    assert calls_with_both_classes_waiting(EVERY_2, 6) == "PRPRPR"


def test_interleave_every_three_calls_one_preferential_in_three():
    assert calls_with_both_classes_waiting(EVERY_3, 9) == "PRRPRRPRR"


def test_interleave_counts_regular_calls_made_while_no_preferential_waited():
    counter = CounterState("V04", V04.services, 5)
    assert calls_with_both_classes_waiting(EVERY_3, 4, counter) == "PRRP"


def test_interleave_finishes_a_started_streak_of_regular_calls():
    counter = CounterState("V04", V04.services, 1)
    assert calls_with_both_classes_waiting(EVERY_3, 4, counter) == "RPRR"


# --- after_call -----------------------------------------------------------------------------

def test_a_regular_call_lengthens_the_streak():
    assert after_call(V04, ticket(1)).regular_since_preferential == 1
    counter = CounterState("V04", V04.services, 4)
    assert after_call(counter, ticket(1)).regular_since_preferential == 5


def test_a_preferential_call_resets_the_streak():
    counter = CounterState("V04", V04.services, 4)
    assert after_call(counter, ticket(1, preferential=True)).regular_since_preferential == 0
    assert after_call(V04, ticket(1, preferential=True)).regular_since_preferential == 0


def test_after_call_keeps_the_counter_and_its_services():
    after = after_call(V04, ticket(1))
    assert (after.id, after.services) == (V04.id, V04.services)


# --- position -------------------------------------------------------------------------------

def test_a_ticket_alone_is_first_in_line():
    alone = ticket(1)
    assert position(alone, [alone]) == 1
    assert position(alone, []) == 1


def test_a_regular_ticket_waits_behind_fronts_preferentials_and_older_regulars():
    me = ticket(5, waited=10)
    others = [ticket(1, waited=20), ticket(2, waited=5), ticket(3, preferential=True),
              ticket(4, front=True), me]
    assert position(me, others) == 4


def test_a_preferential_ticket_waits_only_behind_fronts_and_older_preferentials():
    me = ticket(5, waited=10, preferential=True)
    others = [ticket(1, waited=60), ticket(2, waited=20, preferential=True),
              ticket(3, preferential=True), ticket(4, front=True), me]
    assert position(me, others) == 3


def test_a_front_ticket_waits_only_behind_earlier_fronts():
    me = ticket(5, waited=10, front=True)
    others = [ticket(1, waited=60, preferential=True), ticket(2, waited=20, front=True),
              ticket(3, front=True), me]
    assert position(me, others) == 2


def test_tickets_sent_to_a_counter_do_not_count_in_the_line():
    me = ticket(5, waited=10)
    assert position(me, [ticket(1, waited=60, target="V04", front=True), me]) == 1


# --- properties -----------------------------------------------------------------------------

SERVICES = ("PLACAS", "TENENCIA", "NOADEUDO")
COUNTERS = ("V03", "V04", "V05")

policies = st.one_of(
    st.builds(PreferentialPolicyConfig, mode=st.just(PreferentialMode.CAP),
              regular_wait_cap_minutes=st.integers(1, 40)),
    st.builds(PreferentialPolicyConfig, mode=st.just(PreferentialMode.INTERLEAVE),
              every=st.integers(2, 5)),
)
streaks = st.none() | st.integers(0, 8)
counters = st.builds(
    CounterState,
    id=st.sampled_from(COUNTERS),
    services=st.lists(st.sampled_from(SERVICES), min_size=1, max_size=3, unique=True).map(tuple),
    regular_since_preferential=streaks,
)


@st.composite
def queues(draw, *, services=SERVICES, targets=(None, *COUNTERS), fronts=(False, True),
           min_size=0) -> list[QueuedTicket]:
    """Waiting tickets with distinct ids; queue times within the last hour (whole seconds)."""
    size = draw(st.integers(min_size, 12))
    ids = draw(st.lists(st.integers(1, 10_000), min_size=size, max_size=size, unique=True))
    return [
        QueuedTicket(
            id=ticket_id,
            service=draw(st.sampled_from(services)),
            preferential=draw(st.booleans()),
            front=draw(st.sampled_from(fronts)),
            queued_at=NOW - dt.timedelta(seconds=draw(st.integers(0, 3600))),
            target_counter=draw(st.sampled_from(targets)),
        )
        for ticket_id in ids
    ]


def may_serve(counter: CounterState, waiting: QueuedTicket) -> bool:
    if waiting.target_counter is not None:
        return waiting.target_counter == counter.id
    return waiting.service in counter.services


def ordinary(waiting: QueuedTicket) -> bool:
    return not waiting.front and waiting.target_counter is None


@given(waiting=queues(), counter=counters, policy=policies)
def test_the_called_ticket_is_one_the_counter_may_serve_and_none_only_when_none_waits(
    waiting, counter, policy
):
    called = next_ticket(waiting, counter, policy, NOW)
    servable = [t for t in waiting if may_serve(counter, t)]
    if called is None:
        assert servable == []
    else:
        assert called in servable


@given(waiting=queues(), counter=counters, policy=policies)
def test_within_a_service_and_class_the_oldest_ticket_is_called(waiting, counter, policy):
    called = next_ticket(waiting, counter, policy, NOW)
    if called is None or not ordinary(called):
        return
    same_group = [t for t in waiting if ordinary(t) and t.service == called.service
                  and t.preferential == called.preferential]
    assert called == min(same_group, key=lambda t: (t.queued_at, t.id))


@given(waiting=queues(), counter=counters, policy=policies)
def test_targets_then_service_priority_then_fronts_decide_before_the_class(
    waiting, counter, policy
):
    called = next_ticket(waiting, counter, policy, NOW)
    if called is None:
        return
    direct = [t for t in waiting if t.target_counter == counter.id]
    if direct:
        assert called.target_counter == counter.id
        return
    assert called.target_counter is None
    rank = counter.services.index(called.service)
    assert not any(t.target_counter is None and t.service in counter.services[:rank]
                   for t in waiting)
    fronts = [t for t in waiting if t.front and t.target_counter is None
              and t.service == called.service]
    if fronts:
        assert called == min(fronts, key=QueuedTicket.sort_key)


@given(waiting=queues(fronts=(False,), targets=(None,)), counter=counters,
       cap=st.integers(1, 40))
def test_cap_calls_a_regular_that_waited_past_the_cap_before_any_preferential(
    waiting, counter, cap
):
    policy = PreferentialPolicyConfig(PreferentialMode.CAP, regular_wait_cap_minutes=cap)
    called = next_ticket(waiting, counter, policy, NOW)
    if called is None:
        return
    overdue = [t for t in waiting if t.service == called.service and not t.preferential
               and NOW - t.queued_at > dt.timedelta(minutes=cap)]
    if overdue:
        assert not called.preferential
    else:
        assert called.preferential == any(
            t.preferential for t in waiting if t.service == called.service)


def interleaved_calls(every: int, streak: int | None, calls: int,
                      arrivals: list[tuple[bool, int]]) -> list[bool]:
    """Which calls (True: preferential) one counter makes while both classes keep waiting."""
    policy = PreferentialPolicyConfig(PreferentialMode.INTERLEAVE, every=every)
    counter = CounterState("V04", ("PLACAS",), streak)
    waiting = [ticket(-1, waited=120), ticket(-2, waited=120, preferential=True)]
    pattern = []
    for step in range(calls):
        called = next_ticket(waiting, counter, policy, NOW)
        assert called is not None
        pattern.append(called.preferential)
        counter = after_call(counter, called)
        waiting.remove(called)
        # Somebody of the called class arrives, plus whoever the arrivals list brings.
        waiting.append(ticket(1000 + step, waited=0, preferential=called.preferential))
        if step < len(arrivals):
            preferential, seconds = arrivals[step]
            waiting.append(ticket(2000 + step, waited=seconds / 60, preferential=preferential))
    return pattern


interleave_runs = {
    "every": st.integers(2, 6),
    "streak": streaks,
    "calls": st.integers(1, 30),
    "arrivals": st.lists(st.tuples(st.booleans(), st.integers(0, 3600)), max_size=30),
}


@given(**interleave_runs)
def test_interleave_calls_a_regular_in_every_window_of_n_calls(every, streak, calls, arrivals):
    pattern = interleaved_calls(every, streak, calls, arrivals)
    for start in range(len(pattern) - every + 1):
        assert not all(pattern[start:start + every]), (pattern, start)


@given(**interleave_runs)
def test_interleave_calls_exactly_one_preferential_in_every_window_of_n_calls(
    every, streak, calls, arrivals
):
    pattern = interleaved_calls(every, streak, calls, arrivals)
    if streak is None:
        assert pattern[0], "a counter's first call goes to a preferential ticket"
    for start in range(len(pattern) - every + 1):
        assert pattern[start:start + every].count(True) == 1, (pattern, start)


@given(waiting=queues(services=("PLACAS",), targets=(None,), min_size=1))
def test_positions_in_one_queue_are_distinct_and_start_at_one(waiting):
    places = sorted(position(t, waiting) for t in waiting)
    assert places == list(range(1, len(waiting) + 1))


@given(waiting=queues(services=("PLACAS",), targets=(None,), min_size=1))
def test_the_first_in_line_is_called_first_while_no_regular_is_overdue(waiting):
    policy = PreferentialPolicyConfig(PreferentialMode.CAP, regular_wait_cap_minutes=61)
    called = next_ticket(waiting, V04, policy, NOW)
    assert called is not None
    assert position(called, waiting) == 1
