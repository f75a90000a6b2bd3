"""SQLAlchemy models, one module per aggregate; importing this registers them all."""

from server.models.access import ApiToken, IdempotencyKey
from server.models.base import Base
from server.models.catalog import AgencyRow, CounterRow, ServiceRow
from server.models.event import DailyNumber, Event, Sequence
from server.models.printing import PrinterState, PrintJob
from server.models.ticket import Ticket

__all__ = [
    "AgencyRow",
    "ApiToken",
    "Base",
    "CounterRow",
    "DailyNumber",
    "Event",
    "IdempotencyKey",
    "PrintJob",
    "PrinterState",
    "Sequence",
    "ServiceRow",
    "Ticket",
]
