"""Domain objects to the JSON shapes the OpenAPI document describes."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from server.config_types import CsaConfig
from server.services.queries import CounterStatus, QueueStats
from server.services.views import TicketView


def iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def follow_url(config: CsaConfig, ticket: TicketView) -> str:
    return f"{config.base_url}/t/{ticket.follow_token}"


def ticket_json(config: CsaConfig, ticket: TicketView) -> dict[str, Any]:
    service = config.service(ticket.service)
    counter_name = None
    if ticket.counter:
        counter_name = config.counter(ticket.counter).name
    return {
        "id": ticket.id,
        "number": ticket.number,
        "service": ticket.service,
        "service_name": service.name,
        "agency": service.agency,
        "status": ticket.status.value,
        "preferential": ticket.preferential,
        "preferential_reason": ticket.preferential_reason,
        "issued_at": iso(ticket.issued_at),
        "called_at": iso(ticket.called_at),
        "started_at": iso(ticket.started_at),
        "finished_at": iso(ticket.finished_at),
        "counter": ticket.counter,
        "counter_name": counter_name,
        "target_counter": ticket.target_counter,
        "recall_count": ticket.recall_count,
        "outcome": ticket.outcome,
        "folio": ticket.folio,
        "position": ticket.position,
        "follow_url": follow_url(config, ticket),
    }


def service_json(config: CsaConfig, code: str) -> dict[str, Any]:
    service = config.service(code)
    return {
        "code": service.code,
        "prefix": service.prefix,
        "name": service.name,
        "name_en": service.name_en,
        "agency": service.agency,
        "agency_name": config.agency(service.agency).name,
        "target_wait_minutes": service.target_wait_minutes,
        "preferential": service.preferential,
    }


def queue_json(stats: QueueStats) -> dict[str, Any]:
    return asdict(stats)


def counter_json(status: CounterStatus) -> dict[str, Any]:
    return {**asdict(status), "services": list(status.services)}
