"""Ticket lifecycle: the states a ticket can be in and the moves between them."""

from __future__ import annotations

from enum import StrEnum

from server.domain.errors import IllegalTransition


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES

    @property
    def holds_counter(self) -> bool:
        """Called and serving tickets occupy the counter that called them."""
        return self in (TicketStatus.CALLED, TicketStatus.SERVING)


class Action(StrEnum):
    CALL = "call"
    RECALL = "recall"
    START = "start"
    COMPLETE = "complete"
    NO_SHOW = "no_show"
    CANCEL = "cancel"
    TRANSFER = "transfer"


class Outcome(StrEnum):
    """What the counter recorded when it completed the service."""

    RESOLVED = "resolved"
    FOLLOW_UP = "follow_up"
    REJECTED = "rejected"


FINAL_STATUSES = frozenset({TicketStatus.COMPLETED, TicketStatus.NO_SHOW, TicketStatus.CANCELLED})

# (from, action) -> to. Anything absent is illegal.
TRANSITIONS: dict[tuple[TicketStatus, Action], TicketStatus] = {
    (TicketStatus.WAITING, Action.CALL): TicketStatus.CALLED,
    (TicketStatus.WAITING, Action.CANCEL): TicketStatus.CANCELLED,
    (TicketStatus.CALLED, Action.RECALL): TicketStatus.CALLED,
    (TicketStatus.CALLED, Action.START): TicketStatus.SERVING,
    (TicketStatus.CALLED, Action.NO_SHOW): TicketStatus.NO_SHOW,
    (TicketStatus.CALLED, Action.CANCEL): TicketStatus.CANCELLED,
    (TicketStatus.CALLED, Action.TRANSFER): TicketStatus.WAITING,
    (TicketStatus.SERVING, Action.COMPLETE): TicketStatus.COMPLETED,
    (TicketStatus.SERVING, Action.CANCEL): TicketStatus.CANCELLED,
    (TicketStatus.SERVING, Action.TRANSFER): TicketStatus.WAITING,
}


def next_status(current: TicketStatus, action: Action) -> TicketStatus:
    """The status `action` leads to from `current`, or IllegalTransition."""
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        raise IllegalTransition(
            f"cannot {action.value.replace('_', ' ')} a ticket that is {current.value}"
        ) from None


def is_legal(current: TicketStatus, action: Action) -> bool:
    return (current, action) in TRANSITIONS
