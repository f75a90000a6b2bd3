"""Read-only views of the CSA: services, counters and live queues. Public: the same facts
hang on the hall's TV screens."""

from __future__ import annotations

from server.api import bp
from server.api.serialize import counter_json, queue_json, service_json
from server.extensions import ctx
from server.services import queries


@bp.get("/services")
def list_services():
    config = ctx().config
    return {"services": [service_json(config, s.code) for s in config.services]}


@bp.get("/counters")
def list_counters():
    return {"counters": [counter_json(c) for c in queries.counters(ctx())]}


@bp.get("/queues")
def list_queues():
    return {"queues": [queue_json(q) for q in queries.queues(ctx())]}
