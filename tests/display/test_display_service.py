"""The display service on both databases: the ticker line (one per zone, expiry, audit) and
the list of a zone's calls."""

from __future__ import annotations

import uuid

import pytest

from server.auth import audit
from server.clock import FrozenClock
from server.extensions import ext
from server.services import calling, counters, display, issuing
from server.services.counters import CounterState
from tests.display.conftest import ZONE


@pytest.fixture
def ctx(make_app, database_url):
    return ext(make_app(database_url)).ctx


def test_setting_a_message_replaces_the_zones_previous_one(ctx):
    zone = ctx.config.zone(ZONE)
    display.set_message(ctx, zone, "Primero", minutes=None, actor="gerente", role="manager",
                        device=None)
    display.set_message(ctx, zone, "Segundo", minutes=10, actor="admin", role="admin",
                        device="10.0.0.1")

    message = display.current_message(ctx, ZONE)

    assert message is not None and (message.text, message.set_by) == ("Segundo", "admin")
    assert display.current_message(ctx, "planta-baja") is None
    assert [e.action for e in audit.recent(ctx, limit=2)] == ["display.message_set"] * 2
    assert not audit.verify(ctx)


def test_an_expired_message_is_not_shown(ctx, clock: FrozenClock):
    display.set_message(ctx, ctx.config.zone(ZONE), "Aviso", minutes=1, actor="gerente",
                        role="manager", device=None)
    clock.advance(seconds=61)
    assert display.current_message(ctx, ZONE) is None


def test_clearing_a_zone_without_a_message_changes_nothing(ctx):
    before = audit.head(ctx)
    assert display.clear_message(ctx, ctx.config.zone(ZONE), actor="gerente", role="manager",
                                 device=None) is False
    assert audit.head(ctx) == before


@pytest.mark.parametrize(("text", "minutes", "code"), [
    ("", None, "message_empty"),
    ("x" * 281, None, "message_too_long"),
    ("Aviso\x00", None, "message_characters"),
    ("Aviso", 0, "message_duration"),
    ("Aviso", 7 * 24 * 60 + 1, "message_duration"),
])
def test_bad_messages_are_refused_with_a_code(ctx, text, minutes, code):
    with pytest.raises(display.InvalidMessage) as refused:
        display.set_message(ctx, ctx.config.zone(ZONE), text, minutes=minutes,
                            actor="gerente", role="manager", device=None)
    assert refused.value.code == code
    assert display.current_message(ctx, ZONE) is None


def test_recent_calls_keep_the_newest_call_of_each_ticket_of_the_zone(ctx):
    def issue(service: str):
        return issuing.issue_ticket(ctx, issuing.IssueRequest(service, None), caller="test",
                                    key=uuid.uuid4().hex).ticket

    first, second = issue("ACTA"), issue("DEFUN")
    for ticket, counter in ((first, "V17"), (second, "V18")):
        counters.set_state(ctx, counter, CounterState.OPEN, actor="test")
        calling.call_number(ctx, counter, ticket.number, actor="test")
    calling.recall(ctx, first.id, actor="test")

    calls = display.recent_calls(ctx, ctx.config.zone(ZONE))

    assert [(c.number, c.counter, c.recall) for c in calls] == [
        (first.number, "V17", True), (second.number, "V18", False)]
    assert display.recent_calls(ctx, ctx.config.zone("planta-baja")) == []
