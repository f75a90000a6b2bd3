"""The real turn engine, driven by random sequences of kiosk and counter actions.

A Hypothesis state machine issues, calls, recalls, starts, completes, marks no-shows, cancels
and transfers tickets through server.services on an SQLite file, moves the clock (past local
midnight too) and closes past days as the hub does. A small model predicts each outcome,
domain refusals included, and call-next is checked against server.domain.policy. After every
step the database must agree with the model and with the rules: legal transitions only, one
ticket per counter, FIFO within a class, daily numbering and a gap-free event log.

The plain tests at the end are failures the machine found, kept as short examples.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import shutil
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)
from sqlalchemy import Row, select

from server.app import create_app
from server.clock import FrozenClock
from server.config_types import PreferentialMode, PreferentialPolicyConfig, TransferPlacement
from server.context import Turnos
from server.domain import policy
from server.domain.errors import (
    CounterBusy,
    DomainError,
    IllegalTransition,
    InvalidRequest,
    NoShowTooEarly,
    NotFound,
    NotServedHere,
)
from server.domain.numbering import format_number, parse_number, service_day
from server.domain.tickets import TRANSITIONS, Action, Outcome, TicketStatus
from server.extensions import ext
from server.models import CounterRow, Event, Ticket
from server.services import calling, daily, issuing, views
from server.services import events as event_log
from server.settings import Settings
from tests.conftest import DEMO_CONFIG, MONDAY_10AM

S = TicketStatus
# Registro Civil: V17 calls ACTA; V18 ACTA then DEFUN; V20 ACLARA then ACTA; V21 (MATRI then)
# DEFUN. Every service has two counters, and every counter shares a queue with another.
SERVICES = ("ACTA", "DEFUN", "ACLARA")
COUNTERS = ("V17", "V18", "V20", "V21")
STAFF = "test-staff"
KIOSK = "kiosco-pa-1"
# Each run gets its own database file: on tmpfs when there is one, so fsync costs nothing.
SCRATCH = "/dev/shm" if Path("/dev/shm").is_dir() else None

EVENT_ACTIONS = {
    "ticket.called": Action.CALL,
    "ticket.recalled": Action.RECALL,
    "ticket.started": Action.START,
    "ticket.completed": Action.COMPLETE,
    "ticket.no_show": Action.NO_SHOW,
    "ticket.cancelled": Action.CANCEL,
    "ticket.transferred": Action.TRANSFER,
}

transfers = st.builds(
    calling.Transfer,
    service=st.sampled_from((None, *SERVICES)),
    counter=st.sampled_from((None, None, *COUNTERS)),
    placement=st.sampled_from((None, TransferPlacement.FRONT, TransferPlacement.ORIGINAL_TIME)),
)
requests = st.tuples(st.sampled_from(SERVICES),
                     st.sampled_from((None, None, "senior", "pregnancy", "disability")))
# How staff type a number at the counter.
typings = st.sampled_from(["as printed", "lower case", "spaced"])
# What staff do to a ticket: a verb and its argument.
verbs = st.one_of(
    *(st.tuples(st.just(verb), st.none()) for verb in ("recall", "start", "no_show", "cancel")),
    st.tuples(st.just("complete"), st.sampled_from(Outcome)),
    st.tuples(st.just("transfer"), transfers),
)


@dataclasses.dataclass
class ModelTicket:
    """What the test believes about one ticket."""

    id: int
    number: str
    day: dt.date
    issued_at: dt.datetime
    service: str
    preferential: bool
    queued_at: dt.datetime
    status: TicketStatus = S.WAITING
    counter: str | None = None
    target: str | None = None
    front: bool = False
    recall_count: int = 0

    def queued(self) -> policy.QueuedTicket:
        return policy.QueuedTicket(self.id, self.service, self.preferential, self.front,
                                   self.queued_at, self.target)


@dataclasses.dataclass(frozen=True)
class Move:
    """A predicted transition: the action the service should apply and the fields it sets."""

    action: Action
    changes: dict[str, Any] = dataclasses.field(default_factory=dict)


Prediction = Move | type[DomainError]


@dataclasses.dataclass(frozen=True)
class Snapshot:
    tickets: list[Row]
    # Events the invariants have not checked yet, and the event sequence's current value.
    events: list[Row]
    top_seq: int


def may_call(ticket: ModelTicket, counter: str, services: tuple[str, ...]) -> bool:
    """Whether `counter` may call `ticket` by its number."""
    if ticket.target is not None:
        return ticket.target == counter
    return ticket.service in services


def build_app(folder: Path, clock: FrozenClock) -> Flask:
    settings_ = Settings(config_path=DEMO_CONFIG,
                         database_url=f"sqlite:///{folder / 'turnos.sqlite'}",
                         clock=clock, start_hub=False)
    return create_app(settings_)


class TurnEngine(RuleBasedStateMachine):
    """Kiosks and four counters working the Registro Civil queues."""

    # None keeps config.toml's policy (CAP, 20 minutes).
    preferential_policy: PreferentialPolicyConfig | None = None

    tickets = Bundle("tickets")

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="turnos-engine-", dir=SCRATCH))
        self.clock = FrozenClock(MONDAY_10AM)
        try:
            self.ctx: Turnos = ext(build_app(self.folder, self.clock)).ctx
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        if self.preferential_policy is not None:
            rules = dataclasses.replace(self.ctx.config.rules,
                                        preferential=self.preferential_policy)
            self.ctx.config = dataclasses.replace(self.ctx.config, rules=rules)
        self.model: dict[int, ModelTicket] = {}
        self.keys = itertools.count(1)
        self.events_checked = 0
        self.logged_status: dict[int, TicketStatus] = {}
        # Service calls so far, and the database as read after the last of them.
        self.writes = 0
        self.snapshot: tuple[int, Snapshot] | None = None

    def teardown(self) -> None:
        self.ctx.db.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- helpers ------------------------------------------------------------------------------

    @property
    def today(self) -> dt.date:
        return service_day(self.clock.now(), self.ctx.config.timezone)

    def held_by(self, counter: str) -> ModelTicket | None:
        held = [t for t in self.model.values() if t.status.holds_counter and t.counter == counter]
        assert len(held) <= 1
        return held[0] if held else None

    def waiting_today(self) -> list[ModelTicket]:
        return [t for t in self.model.values() if t.status is S.WAITING and t.day == self.today]

    def streak(self, counter: str) -> int | None:
        with self.ctx.db.read() as conn:
            return conn.execute(select(CounterRow.regular_since_preferential)
                                .where(CounterRow.id == counter)).scalar_one()

    def attempt(self, call: Callable[[], Any]) -> Any:
        """The service's answer, or the domain error it refused with."""
        self.writes += 1
        try:
            return call()
        except DomainError as refused:
            return refused

    def settle(self, ticket: ModelTicket, predicted: Prediction, outcome: Any) -> None:
        """Check the service did what the model predicts, and update the model."""
        if isinstance(predicted, type):
            assert isinstance(outcome, predicted), f"expected {predicted.__name__}, got {outcome!r}"
            return
        to = TRANSITIONS.get((ticket.status, predicted.action))
        if to is None:
            assert isinstance(outcome, IllegalTransition), (
                f"{predicted.action} on a {ticket.status} ticket gave {outcome!r}"
            )
            return
        assert not isinstance(outcome, DomainError), (
            f"{predicted.action} on {ticket} was refused: {outcome!r}"
        )
        assert outcome.id == ticket.id
        assert outcome.status is to, f"{ticket.status} --{predicted.action}--> {outcome.status}"
        ticket.status = to
        for name, value in predicted.changes.items():
            setattr(ticket, name, value)
        assert (outcome.service, outcome.counter, outcome.target_counter, outcome.recall_count) == (
            ticket.service, ticket.counter, ticket.target, ticket.recall_count
        )
        # A ticket a counter still held at midnight belongs to yesterday's line: no place today.
        if to is S.WAITING and ticket.target is None and ticket.day == self.today:
            self.check_position(ticket, outcome.position)

    def check_position(self, ticket: ModelTicket, reported: int | None) -> None:
        line = [t.queued() for t in self.waiting_today() if t.service == ticket.service]
        assert reported == policy.position(ticket.queued(), line), (
            f"{ticket.number} reported at place {reported} in {line}"
        )

    def predict(self, ticket: ModelTicket, verb: str, argument: Any) -> Prediction:
        rules = self.ctx.config.rules
        called = ticket.status is S.CALLED
        if verb == "recall":
            if called and ticket.recall_count >= rules.max_recalls:
                return Move(Action.NO_SHOW)
            return Move(Action.RECALL, {"recall_count": ticket.recall_count + 1})
        if verb == "no_show":
            if called and ticket.recall_count < rules.no_show_after_recalls:
                return NoShowTooEarly
            return Move(Action.NO_SHOW)
        if verb == "transfer":
            if argument.service is None and argument.counter is None:
                return InvalidRequest
            placement = argument.placement or rules.transfer_placement
            front = placement is TransferPlacement.FRONT
            return Move(Action.TRANSFER, {
                "service": argument.service or ticket.service, "target": argument.counter,
                "counter": None, "front": front, "recall_count": 0,
                "queued_at": self.clock.now() if front else ticket.issued_at,
            })
        return Move({"start": Action.START, "complete": Action.COMPLETE,
                     "cancel": Action.CANCEL}[verb])

    def perform(self, ticket_id: int, verb: str, argument: Any) -> None:
        ticket = self.model[ticket_id]
        predicted = self.predict(ticket, verb, argument)
        ctx = self.ctx
        call = {
            "recall": lambda: calling.recall(ctx, ticket_id, actor=STAFF),
            "start": lambda: calling.start(ctx, ticket_id, actor=STAFF),
            "complete": lambda: calling.complete(ctx, ticket_id, actor=STAFF, outcome=argument),
            "no_show": lambda: calling.no_show(ctx, ticket_id, actor=STAFF),
            "cancel": lambda: calling.cancel(ctx, ticket_id, actor=STAFF, reason="se retiró"),
            "transfer": lambda: calling.transfer(ctx, ticket_id, argument, actor=STAFF),
        }[verb]
        self.settle(ticket, predicted, self.attempt(call))

    def issue_one(self, service: str, preferential: str | None) -> int:
        request = issuing.IssueRequest(service, preferential)
        result = self.attempt(lambda: issuing.issue_ticket(self.ctx, request, caller=KIOSK,
                                                           key=f"key-{next(self.keys)}"))
        assert not isinstance(result, DomainError), result
        view = result.ticket
        prefix = self.ctx.config.service(service).prefix
        issued_today = sum(1 for t in self.model.values()
                           if t.number.startswith(f"{prefix}-") and t.day == self.today)
        assert result.created
        assert view.status is S.WAITING
        assert view.number == format_number(prefix, issued_today + 1)
        assert view.day == self.today
        ticket = ModelTicket(view.id, view.number, view.day, view.issued_at, service,
                             preferential is not None, queued_at=self.clock.now())
        self.model[view.id] = ticket
        self.check_position(ticket, view.position)
        return view.id

    def call_by_number(self, counter: str, number: str, typing: str) -> None:
        prefix, sequence = parse_number(number) or ("", 0)
        typed = {"as printed": number, "lower case": f"{prefix.lower()}{sequence}",
                 "spaced": f" {prefix} {sequence} "}[typing]
        # The ticket given this number today, wherever a transfer sent it since.
        todays = [t for t in self.model.values() if t.number == number and t.day == self.today]
        services = self.ctx.config.counter(counter).services
        predicted: Prediction
        if self.held_by(counter) is not None:
            predicted = CounterBusy
        elif not todays:
            predicted = NotFound
        elif not may_call(todays[0], counter, services):
            predicted = NotServedHere
        else:
            predicted = Move(Action.CALL, {"counter": counter, "target": None, "front": False})
        outcome = self.attempt(lambda: calling.call_number(self.ctx, counter, typed, actor=STAFF))
        if todays:
            self.settle(todays[0], predicted, outcome)
        else:
            assert isinstance(outcome, predicted), outcome

    # --- rules --------------------------------------------------------------------------------

    @initialize(target=tickets, morning=st.lists(requests, max_size=10))
    def citizens_are_waiting_at_opening(self, morning: list[tuple[str, str | None]]) -> Any:
        return multiple(*(self.issue_one(service, preferential)
                          for service, preferential in morning))

    @rule(target=tickets, request=requests)
    def issue(self, request: tuple[str, str | None]) -> int:
        return self.issue_one(*request)

    @rule(counter=st.sampled_from(COUNTERS))
    def call_next(self, counter: str) -> None:
        services = self.ctx.config.counter(counter).services
        state = policy.CounterState(counter, services, self.streak(counter))
        busy = self.held_by(counter) is not None
        waiting = [t.queued() for t in self.waiting_today()]
        expected = policy.next_ticket(waiting, state, self.ctx.config.rules.preferential,
                                      self.clock.now())
        outcome = self.attempt(lambda: calling.call_next(self.ctx, counter, actor=STAFF))
        if busy:
            assert isinstance(outcome, CounterBusy), outcome
            return
        if expected is None:
            assert outcome is None, f"{counter} called {outcome} from an empty queue"
            return
        assert outcome is not None, f"{counter} called nothing while {expected} waited"
        chosen = self.model[outcome.id].queued()
        if not chosen.front and chosen.target_counter is None:
            older = [t for t in waiting if not t.front and t.target_counter is None
                     and t.service == chosen.service and t.preferential == chosen.preferential
                     and (t.queued_at, t.id) < (chosen.queued_at, chosen.id)]
            assert not older, f"{counter} called {chosen} before the older {older}"
        assert outcome.id == expected.id, f"{counter} called {chosen}, the policy says {expected}"
        self.settle(self.model[outcome.id], Move(Action.CALL, {
            "counter": counter, "target": None, "front": False,
        }), outcome)
        assert self.streak(counter) == policy.after_call(state, chosen).regular_since_preferential

    @rule(counter=st.sampled_from(COUNTERS), ticket_id=tickets, typing=typings)
    def call_a_number(self, counter: str, ticket_id: int, typing: str) -> None:
        self.call_by_number(counter, self.model[ticket_id].number, typing)

    @precondition(lambda self: bool(self.waiting_today()))
    @rule(counter=st.sampled_from(COUNTERS), data=st.data(), typing=typings)
    def call_a_waiting_number(self, counter: str, data: st.DataObject, typing: str) -> None:
        waiting = sorted(t.number for t in self.waiting_today())
        self.call_by_number(counter, data.draw(st.sampled_from(waiting), label="number"), typing)

    @precondition(lambda self: any(t.status is S.CALLED for t in self.model.values()))
    @rule(data=st.data(), recalls=st.integers(1, 5))
    def the_citizen_does_not_come(self, data: st.DataObject, recalls: int) -> None:
        called = sorted(t.id for t in self.model.values() if t.status is S.CALLED)
        ticket_id = data.draw(st.sampled_from(called), label="called ticket")
        for _ in range(recalls):
            self.perform(ticket_id, "recall", None)
        self.perform(ticket_id, "no_show", None)

    @rule(ticket_id=tickets, verb=verbs)
    def act_on_any_ticket(self, ticket_id: int, verb: tuple[str, Any]) -> None:
        self.perform(ticket_id, *verb)

    @precondition(lambda self: any(t.status.holds_counter for t in self.model.values()))
    @rule(data=st.data(), verb=verbs)
    def act_on_a_ticket_at_a_counter(self, data: st.DataObject, verb: tuple[str, Any]) -> None:
        held = sorted(t.id for t in self.model.values() if t.status.holds_counter)
        self.perform(data.draw(st.sampled_from(held), label="held ticket"), *verb)

    @precondition(lambda self: any(t.status.holds_counter for t in self.model.values()))
    @rule(data=st.data(), when_called=st.sampled_from(["start", "start", "recall", "no_show"]),
          outcome=st.sampled_from(Outcome))
    def a_counter_gets_on_with_its_ticket(self, data: st.DataObject, when_called: str,
                                          outcome: Outcome) -> None:
        held = sorted(t.id for t in self.model.values() if t.status.holds_counter)
        ticket = self.model[data.draw(st.sampled_from(held), label="held ticket")]
        if ticket.status is S.CALLED:
            self.perform(ticket.id, when_called, None)
        else:
            self.perform(ticket.id, "complete", outcome)

    @rule(counter=st.sampled_from(COUNTERS), outcome=st.sampled_from(Outcome))
    def a_counter_finishes_and_calls_the_next_citizen(self, counter: str,
                                                      outcome: Outcome) -> None:
        ticket = self.held_by(counter)
        if ticket is not None and ticket.status is S.CALLED:
            self.perform(ticket.id, "start", None)
        if ticket is not None:
            self.perform(ticket.id, "complete", outcome)
        self.call_next(counter)

    @precondition(lambda self: any(t.status.holds_counter for t in self.model.values()))
    @rule(data=st.data(), transfer=transfers)
    def a_counter_transfers_its_ticket(self, data: st.DataObject,
                                       transfer: calling.Transfer) -> None:
        held = sorted(t.id for t in self.model.values() if t.status.holds_counter)
        self.perform(data.draw(st.sampled_from(held), label="held ticket"), "transfer", transfer)

    @rule(minutes=st.integers(0, 30), seconds=st.integers(0, 59))
    def time_passes(self, minutes: int, seconds: int) -> None:
        self.clock.advance(minutes=minutes, seconds=seconds)

    @precondition(lambda self: any(t.day == self.today for t in self.model.values()))
    @rule()
    def it_gets_to_one_second_before_local_midnight(self) -> None:
        tz = self.ctx.config.timezone
        local_now = self.clock.now().astimezone(tz)
        last_second = dt.datetime.combine(local_now.date(), dt.time(23, 59, 59), tz)
        if last_second > local_now:
            self.clock.set(last_second)

    @precondition(lambda self: any(not t.status.is_final and t.day < self.today
                                   for t in self.model.values()))
    @rule()
    def the_hub_closes_past_days(self) -> None:
        """What the live-push hub does every minute: cancel what earlier days left open."""
        stale = [t for t in self.model.values() if not t.status.is_final and t.day < self.today]
        closed = self.attempt(lambda: daily.close_previous_days(self.ctx))
        assert closed == len(stale)
        for ticket in stale:
            ticket.status = S.CANCELLED

    # --- invariants, read from the database ---------------------------------------------------

    def database(self) -> Snapshot:
        """What the database holds now, read once per step however many invariants ask."""
        if self.snapshot is None or self.snapshot[0] != self.writes:
            events = Event.__table__.c
            with self.ctx.db.read() as conn:
                tickets = conn.execute(select(Ticket.__table__)).all()
                logged = conn.execute(select(Event.__table__)
                                      .where(events.seq > self.events_checked)
                                      .order_by(events.seq)).all()
                top = event_log.current_seq(conn)
            self.snapshot = (self.writes, Snapshot(tickets, logged, top))
        return self.snapshot[1]

    @invariant()
    def the_database_agrees_with_the_model(self) -> None:
        rows = self.database().tickets
        assert {r.id for r in rows} == set(self.model)
        for row in rows:
            ticket = self.model[row.id]
            assert (row.number, row.day, row.service_code, row.preferential, row.status,
                    row.counter_id, row.target_counter_id, row.front, row.recall_count,
                    row.queued_at) == (
                ticket.number, ticket.day, ticket.service, ticket.preferential, ticket.status,
                ticket.counter, ticket.target, ticket.front, ticket.recall_count,
                ticket.queued_at,
            ), ticket

    @invariant()
    def a_counter_holds_at_most_one_ticket_and_a_held_ticket_names_its_counter(self) -> None:
        holders = [row.counter_id for row in self.database().tickets
                   if S(row.status).holds_counter]
        assert None not in holders
        assert len(holders) == len(set(holders)), holders

    @invariant()
    def the_event_log_is_gap_free_and_replays_legal_transitions(self) -> None:
        snapshot = self.database()
        logged = [event for event in snapshot.events if event.seq > self.events_checked]
        seqs = [event.seq for event in logged]
        assert seqs == list(range(self.events_checked + 1, snapshot.top_seq + 1)), seqs
        for event in logged:
            status = S(event.payload["ticket"]["status"])
            if event.type == "ticket.issued":
                assert event.ticket_id not in self.logged_status
                assert status is S.WAITING
            else:
                before = self.logged_status[event.ticket_id]
                assert TRANSITIONS.get((before, EVENT_ACTIONS[event.type])) is status, (
                    f"event {event.seq}: {before} --{event.type}--> {status}"
                )
            self.logged_status[event.ticket_id] = status
        self.events_checked = snapshot.top_seq
        assert self.logged_status == {i: t.status for i, t in self.model.items()}

    @invariant()
    def every_ticket_waiting_today_is_told_its_place_as_the_policy_orders_the_line(self) -> None:
        # On SQLite the place comes from the queue lengths the triggers keep, so this checks
        # them after every kind of move, the day-close sweep included.
        waiting = [t for t in self.waiting_today() if t.target is None]
        with self.ctx.db.read() as conn:
            places = {t.id: views.waiting_position(conn, views.load_ticket(conn, t.id))
                      for t in waiting}
        for ticket in waiting:
            self.check_position(ticket, places[ticket.id])

    @invariant()
    def numbers_are_unique_per_service_and_day_and_count_from_one(self) -> None:
        issued: dict[tuple[str, dt.date], list[int]] = defaultdict(list)
        for row in self.database().tickets:
            parsed = parse_number(row.number)
            assert parsed is not None and parsed[1] == row.sequence, row
            assert row.number == format_number(*parsed)
            issued[(parsed[0], row.day)].append(row.sequence)
        for sequences in issued.values():
            assert sorted(sequences) == list(range(1, len(sequences) + 1)), issued


class InterleavingTurnEngine(TurnEngine):
    """The same centre with one preferential call in every three."""

    preferential_policy = PreferentialPolicyConfig(PreferentialMode.INTERLEAVE, every=3)


# About 25 s for both machines on two cores. No shrinking: with an app built per run it takes
# Hypothesis's whole five-minute budget per machine, so a failure prints the steps as run (add
# Phase.shrink to the phases to get a minimal one while debugging).
RUNS = settings(max_examples=30, stateful_step_count=40, deadline=None,
                report_multiple_bugs=False,
                phases=(Phase.explicit, Phase.reuse, Phase.generate))
test_the_engine_keeps_its_rules_under_the_cap_policy = TurnEngine.TestCase
test_the_engine_keeps_its_rules_under_the_cap_policy.settings = RUNS
test_the_engine_keeps_its_rules_when_interleaving = InterleavingTurnEngine.TestCase
test_the_engine_keeps_its_rules_when_interleaving.settings = RUNS


# --- what the state machine found, as plain examples ------------------------------------------

def issue(ctx: Turnos, service: str) -> int:
    result = issuing.issue_ticket(ctx, issuing.IssueRequest(service), caller=KIOSK,
                                  key=uuid.uuid4().hex)
    return result.ticket.id


def test_a_ticket_can_be_transferred_to_a_service_that_already_gave_out_its_number(ctx):
    acta = issue(ctx, "ACTA")
    issue(ctx, "DEFUN")
    calling.call_next(ctx, "V17", actor=STAFF)
    moved = calling.transfer(ctx, acta, calling.Transfer(service="DEFUN"), actor=STAFF)
    assert (moved.number, moved.service, moved.status) == ("A-001", "DEFUN", S.WAITING)


def test_after_a_transfer_both_services_go_on_with_their_own_numbers(ctx):
    acta = issue(ctx, "ACTA")
    calling.call_next(ctx, "V17", actor=STAFF)
    calling.transfer(ctx, acta, calling.Transfer(service="DEFUN"), actor=STAFF)
    numbers = [
        issuing.issue_ticket(ctx, issuing.IssueRequest(service), caller=KIOSK,
                             key=uuid.uuid4().hex).ticket.number
        for service in ("DEFUN", "ACTA")
    ]
    # The service it left still counts the number it gave (A-001 stays taken).
    assert numbers == ["D-001", "A-002"]


def test_a_transferred_ticket_is_called_by_the_number_printed_on_it(ctx):
    acta = issue(ctx, "ACTA")
    calling.call_next(ctx, "V17", actor=STAFF)
    calling.transfer(ctx, acta, calling.Transfer(service="DEFUN"), actor=STAFF)
    called = calling.call_number(ctx, "V21", "A-001", actor=STAFF)
    assert (called.id, called.counter) == (acta, "V21")


def test_a_number_nobody_was_given_calls_nobody(ctx):
    acta = issue(ctx, "ACTA")
    calling.call_next(ctx, "V17", actor=STAFF)
    calling.transfer(ctx, acta, calling.Transfer(service="DEFUN"), actor=STAFF)
    with pytest.raises(NotFound):
        calling.call_number(ctx, "V21", "D-001", actor=STAFF)


def test_a_ticket_sent_to_one_counter_is_told_its_place_there(ctx):
    acta = issue(ctx, "ACTA")
    calling.call_next(ctx, "V17", actor=STAFF)
    moved = calling.transfer(ctx, acta, calling.Transfer(counter="V20"), actor=STAFF)
    assert (moved.status, moved.target_counter, moved.position) == (S.WAITING, "V20", 1)


def test_tickets_left_waiting_yesterday_do_not_count_in_todays_line(ctx, clock):
    issue(ctx, "ACTA")
    clock.advance(days=1)
    result = issuing.issue_ticket(ctx, issuing.IssueRequest("ACTA"), caller=KIOSK,
                                  key=uuid.uuid4().hex)
    assert (result.ticket.number, result.ticket.position) == ("A-001", 1)
    assert calling.call_next(ctx, "V17", actor=STAFF).id == result.ticket.id
