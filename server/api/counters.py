"""Counter endpoints: open, pause and close a counter, and its day in figures."""

from __future__ import annotations

from dataclasses import asdict

from flask import g

from server.api import bp
from server.api.auth import STAFF, requires
from server.api.parse import json_body, text
from server.api.serialize import counter_json
from server.extensions import ctx
from server.services import counters
from server.services.counters import CounterState


@bp.post("/counters/<counter_id>/open")
@requires(*STAFF)
def open_counter(counter_id: str):
    return _change(counter_id, CounterState.OPEN)


@bp.post("/counters/<counter_id>/pause")
@requires(*STAFF)
def pause_counter(counter_id: str):
    return _change(counter_id, CounterState.PAUSED)


@bp.post("/counters/<counter_id>/close")
@requires(*STAFF)
def close_counter(counter_id: str):
    return _change(counter_id, CounterState.CLOSED)


@bp.get("/counters/<counter_id>/day")
@requires(*STAFF)
def counter_day(counter_id: str):
    return asdict(counters.counter_day(ctx(), counter_id))


def _change(counter_id: str, state: CounterState):
    body = json_body({"reason"})
    status = counters.set_state(ctx(), counter_id, state, actor=g.principal.name,
                                reason=text(body, "reason", max_len=200))
    return counter_json(status)
