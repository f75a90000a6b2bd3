"""Queue policy: which waiting ticket a counter gets next.

A counter serves its services in the configured priority order. Within a service, tickets sent
to the front by a transfer go first; then the preferential policy decides between the oldest
preferential ticket and the oldest regular one. Both policies guarantee progress for regular
tickets, so preferential attention never starves anyone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from server.config_types import PreferentialMode, PreferentialPolicyConfig


@dataclass(frozen=True, slots=True)
class QueuedTicket:
    """What the policy needs to know about a waiting ticket."""

    id: int
    service: str
    preferential: bool
    # Placed ahead of the ordinary queue by a transfer.
    front: bool
    # Issue time, or the original issue time for tickets transferred "by original time".
    queued_at: dt.datetime
    # Set when a ticket was transferred to one specific counter.
    target_counter: str | None = None

    def sort_key(self) -> tuple[bool, dt.datetime, int]:
        return (not self.front, self.queued_at, self.id)


@dataclass(frozen=True, slots=True)
class CounterState:
    """The part of a counter's history the policy depends on."""

    id: str
    services: tuple[str, ...]
    # Regular tickets called by this counter since it last called a preferential one;
    # None when it has not called a preferential ticket yet today.
    regular_since_preferential: int | None = None


def next_ticket(
    waiting: Iterable[QueuedTicket],
    counter: CounterState,
    policy: PreferentialPolicyConfig,
    now: dt.datetime,
) -> QueuedTicket | None:
    """The ticket `counter` should call next, or None when nothing it serves is waiting."""
    direct: list[QueuedTicket] = []
    by_service: dict[str, list[QueuedTicket]] = {}
    for ticket in waiting:
        if ticket.target_counter is None:
            by_service.setdefault(ticket.service, []).append(ticket)
        elif ticket.target_counter == counter.id:
            direct.append(ticket)
    if direct:
        return _pick(direct, counter, policy, now)
    for service in counter.services:
        candidates = by_service.get(service)
        if candidates:
            return _pick(candidates, counter, policy, now)
    return None


def _pick(
    candidates: Sequence[QueuedTicket],
    counter: CounterState,
    policy: PreferentialPolicyConfig,
    now: dt.datetime,
) -> QueuedTicket:
    fronts = [t for t in candidates if t.front]
    if fronts:
        return min(fronts, key=QueuedTicket.sort_key)
    oldest_preferential = min((t for t in candidates if t.preferential), key=_age_key, default=None)
    oldest_regular = min((t for t in candidates if not t.preferential), key=_age_key, default=None)
    if oldest_preferential is None:
        assert oldest_regular is not None
        return oldest_regular
    if oldest_regular is None:
        return oldest_preferential
    if preferential_turn(counter, policy, oldest_regular.queued_at, now):
        return oldest_preferential
    return oldest_regular


def preferential_turn(
    counter: CounterState,
    policy: PreferentialPolicyConfig,
    oldest_regular_queued_at: dt.datetime,
    now: dt.datetime,
) -> bool:
    """When both classes wait, whether this call goes to the preferential one."""
    if policy.mode is PreferentialMode.CAP:
        waited = now - oldest_regular_queued_at
        return waited <= dt.timedelta(minutes=policy.regular_wait_cap_minutes)
    streak = counter.regular_since_preferential
    return streak is None or streak >= policy.every - 1


def after_call(counter: CounterState, called: QueuedTicket) -> CounterState:
    """The counter's state once it has called `called`."""
    streak = 0 if called.preferential else (counter.regular_since_preferential or 0) + 1
    return CounterState(counter.id, counter.services, streak)


def _age_key(ticket: QueuedTicket) -> tuple[dt.datetime, int]:
    return (ticket.queued_at, ticket.id)


def position(ticket: QueuedTicket, same_service_waiting: Iterable[QueuedTicket]) -> int:
    """1-based place in line within its service, assuming preferential tickets go first.

    This is the citizen-facing estimate: the real order also depends on which counters are open
    and on the policy's interleaving, which nobody can know in advance.
    """
    ahead = 0
    for other in same_service_waiting:
        if other.id == ticket.id or other.target_counter is not None:
            continue
        if _goes_before(other, ticket):
            ahead += 1
    return ahead + 1


def _goes_before(other: QueuedTicket, ticket: QueuedTicket) -> bool:
    if other.front != ticket.front:
        return other.front
    if other.front:
        return other.sort_key() < ticket.sort_key()
    if other.preferential != ticket.preferential:
        return other.preferential
    return _age_key(other) < _age_key(ticket)
