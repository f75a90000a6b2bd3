"""The service day: numbering restarts and yesterday's open tickets are closed."""

from __future__ import annotations

from server.domain.tickets import TicketStatus
from server.services import calling, daily, issuing, queries


def _issue(ctx, key: str, service: str = "ACTA"):
    return issuing.issue_ticket(ctx, issuing.IssueRequest(service), caller="t", key=key).ticket


def test_numbers_restart_on_the_next_local_day(ctx, clock):
    assert _issue(ctx, "key-day1-a").number == "A-001"
    assert _issue(ctx, "key-day1-b").number == "A-002"
    clock.advance(days=1)
    assert _issue(ctx, "key-day2-a").number == "A-001"


def test_tickets_left_open_yesterday_are_cancelled_and_not_called_today(ctx, clock):
    held = _issue(ctx, "key-held")
    waiting = _issue(ctx, "key-waiting")
    called = calling.call_next(ctx, "V17", actor="staff")
    assert called is not None and called.id == held.id
    clock.advance(days=1)
    today = _issue(ctx, "key-today")

    assert daily.close_previous_days(ctx) == 2
    assert queries.get_ticket(ctx, waiting.id).status is TicketStatus.CANCELLED
    assert queries.get_ticket(ctx, held.id).status is TicketStatus.CANCELLED
    assert queries.get_ticket(ctx, today.id).status is TicketStatus.WAITING
    # The counter that held yesterday's ticket is free again and gets today's.
    assert calling.call_next(ctx, "V17", actor="staff").id == today.id
    assert daily.close_previous_days(ctx) == 0
