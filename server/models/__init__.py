"""SQLAlchemy models, one module per aggregate; importing this registers them all."""

from server.models.access import ApiToken, IdempotencyKey
from server.models.base import Base
from server.models.catalog import AgencyRow, CounterRow, ServiceRow
from server.models.display import DisplayMessage
from server.models.event import DailyNumber, Event, Sequence
from server.models.printing import PrinterState, PrintJob
from server.models.receipt import Receipt
from server.models.staff import AuditEntry, AuditHead, LoginAttempt, StaffSession, StaffUser
from server.models.ticket import Ticket

__all__ = [
    "AgencyRow",
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Base",
    "CounterRow",
    "DailyNumber",
    "DisplayMessage",
    "Event",
    "IdempotencyKey",
    "LoginAttempt",
    "PrintJob",
    "PrinterState",
    "Receipt",
    "Sequence",
    "ServiceRow",
    "StaffSession",
    "StaffUser",
    "Ticket",
]
