"""What a service call needs: the CSA's configuration, the database, the clock and the hub."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from server.clock import Clock
from server.config_types import CsaConfig
from server.db import Database
from server.services.events import PublishedEvent


class EventSink(Protocol):
    def publish(self, events: Sequence[PublishedEvent]) -> None:
        """Hand committed events to whoever pushes them to screens; must not block."""


class NoPush:
    """For the CLI: the server's hub picks events up from the database instead."""

    def publish(self, events: Sequence[PublishedEvent]) -> None:
        del events


@dataclass(slots=True)
class Turnos:
    config: CsaConfig
    db: Database
    clock: Clock
    sink: EventSink
