"""Live push: rooms, seq-ordered dispatch, and replay for clients that reconnect.

Python Socket.IO has no connection-state recovery, so Turnos builds its own on the event log.
Every committed event carries the CSA-wide `seq`. Services hand events to `Hub.publish`, which
only enqueues, so a request never waits for fan-out. One dispatcher task emits them strictly in
seq order (holding back any that overtook an earlier one) and keeps the newest in a ring
buffer. A client subscribes with the rooms it wants and the last seq it saw; it gets exactly
the events it missed in those rooms, in order, or a fresh snapshot when too much was missed.
Joining the rooms and choosing the replay range happen under the same lock the dispatcher
holds while emitting, so an event is either replayed or pushed live, never both, never neither.

Queue counts change with every ticket; they are coalesced into at most one `queue.changed`
message per second. Ticket events are never coalesced or dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from flask_socketio import SocketIO, join_room

from server.config_types import CsaConfig
from server.context import Turnos
from server.peers import Peers
from server.services import daily, queries
from server.services import events as event_log
from server.services.events import PublishedEvent

log = logging.getLogger(__name__)

RING_SIZE = 5_000
# A client that missed more than this gets a snapshot instead of a replay.
REPLAY_LIMIT = 1_000
# Queue counts go out at most once a second: with a thousand clients in service rooms, every
# flush is a thousand messages (see docs/performance.md, "Live push at scale").
QUEUE_FLUSH_SECONDS = 1.0
# Queue counts go to this many clients at a time, ticket events and requests going in between.
FLUSH_SLICE = 100
# How long the dispatcher waits for new events before it looks at its timers.
IDLE_WAIT_SECONDS = 0.25
# Events written by a program outside the group of server processes (the CLI) are picked up
# from the database this often; the server's own processes say when they commit (Peers).
POLL_SECONDS = 1.0
# An event that overtook an earlier one waits this long for it before the log is read.
GAP_WAIT_SECONDS = 0.5
# Events go to the other server processes in messages of at most this many (well under a
# datagram's size); a message lost anyway is made up for from the log (POLL_SECONDS).
PEER_BATCH = 50
# How often open tickets of past service days are looked for.
DAY_CLOSE_SECONDS = 60.0


class RoomMap:
    """Which rooms an event goes to, from tables built once from the CSA configuration.

    An event goes to the whole CSA; to its service, that service's agency and the zones that
    show the service; to every counter it involves, that counter's agency and the zones that
    show the counter; and to its ticket's room.
    """

    def __init__(self, config: CsaConfig) -> None:
        self._services = {
            s.code: frozenset({"csa", f"service:{s.code}", f"agency:{s.agency}",
                               *(f"zone:{z.id}" for z in config.zones if s.code in z.services)})
            for s in config.services
        }
        self._counters = {
            c.id: frozenset({f"counter:{c.id}", f"agency:{c.agency}",
                             *(f"zone:{z.id}" for z in config.zones if c.id in z.counters)})
            for c in config.counters
        }

    def of_service(self, code: str) -> frozenset[str]:
        """The rooms that show service `code` (and its queue count)."""
        rooms = self._services.get(code)
        return rooms if rooms is not None else frozenset({"csa", f"service:{code}"})

    def of_counter(self, counter_id: str) -> frozenset[str]:
        rooms = self._counters.get(counter_id)
        return rooms if rooms is not None else frozenset({f"counter:{counter_id}"})

    def of(self, event: PublishedEvent) -> frozenset[str]:
        """Every room that receives `event`."""
        payload = event.payload
        rooms = set(self.of_service(event.service_code)) if event.service_code else {"csa"}
        if payload.get("from_service"):
            rooms |= self.of_service(payload["from_service"])
        ticket = payload.get("ticket") or {}
        for counter_id in (event.counter_id, payload.get("to_counter"),
                           payload.get("from_counter"), ticket.get("counter")):
            if counter_id:
                rooms |= self.of_counter(counter_id)
        if event.ticket_id is not None:
            rooms.add(f"ticket:{event.ticket_id}")
        return frozenset(rooms)


class Hub:
    """Receives committed events and pushes them to Socket.IO rooms in seq order."""

    def __init__(self, ctx: Turnos, socketio: SocketIO, peers: Peers | None = None) -> None:
        self._ctx = ctx
        self._socketio = socketio
        self._peers = peers
        # The highest seq another server process said it committed.
        self._peer_seq = 0
        self._inbox: queue.SimpleQueue[Sequence[PublishedEvent]] = queue.SimpleQueue()
        # Events other server processes committed and sent; not passed on again.
        self._from_peers: queue.SimpleQueue[Sequence[PublishedEvent]] = queue.SimpleQueue()
        self._lock = threading.RLock()
        self._ring: deque[PublishedEvent] = deque(maxlen=RING_SIZE)
        self._held: dict[int, PublishedEvent] = {}
        self._dirty_services: set[str] = set()
        self._last_flush = 0.0
        self._last_poll = 0.0
        self._gap_since: float | None = None
        self._last_day_close = 0.0
        self._started = False
        self._rooms = RoomMap(ctx.config)
        with ctx.db.read() as conn:
            self.dispatched = event_log.current_seq(conn)

    # --- producer side ------------------------------------------------------------------

    def publish(self, events: Sequence[PublishedEvent]) -> None:
        if events:
            self._inbox.put(events)

    def peer_committed(self, message: dict[str, Any]) -> None:
        """Another server process committed these events (up to `seq`).

        They come with the message, so the hub need not read them back from the log; what
        did not come (or arrived out of order) is read from the log as any gap is.
        """
        events = [
            PublishedEvent(seq, kind, dt.datetime.fromisoformat(at), ticket_id, service_code,
                           counter_id, actor, payload)
            for seq, kind, at, ticket_id, service_code, counter_id, actor, payload
            in message.get("events", ())
        ]
        if events:
            self._from_peers.put(events)
        self._peer_seq = max(self._peer_seq, message["seq"])
        self._inbox.put(())  # wake the dispatcher

    def start(self) -> None:
        """Start the dispatcher once per process (idempotent)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        self._socketio.start_background_task(self._run)

    # --- dispatcher ---------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                self.pump(timeout=IDLE_WAIT_SECONDS)
            except Exception:  # the dispatcher must outlive any one bad event
                log.exception("event dispatch failed; continuing")
                time.sleep(0.1)

    def pump(self, timeout: float = 0.0) -> None:
        """Take what arrived, emit whatever is now in order, flush queue counts when due."""
        self._dispatch(timeout)
        now = time.monotonic()
        if self._dirty_services and now - self._last_flush >= QUEUE_FLUSH_SECONDS:
            self._last_flush = now
            self._flush_queues()
        if now - self._last_day_close >= DAY_CLOSE_SECONDS:
            self._last_day_close = now
            daily.close_previous_days(self._ctx)

    def _dispatch(self, timeout: float = 0.0) -> None:
        """Emit the ticket events that arrived (waiting up to `timeout` for some), in order."""
        try:
            batch = self._inbox.get(timeout=timeout) if timeout else self._inbox.get_nowait()
        except queue.Empty:
            batch = ()
        arrived = [*batch, *_drain(self._inbox)]
        foreign = _drain(self._from_peers)
        now = time.monotonic()
        with self._lock:
            for event in (*arrived, *foreign):
                if event.seq > self.dispatched:
                    self._held[event.seq] = event
            self._emit_in_order()
            if self._held:
                self._gap_since = self._gap_since or now
            else:
                self._gap_since = None
            gap_stuck = self._gap_since is not None and now - self._gap_since > GAP_WAIT_SECONDS
            if (self._peer_seq > self.dispatched or gap_stuck
                    or now - self._last_poll > POLL_SECONDS):
                self._last_poll = now
                self._catch_up_from_log()
        if arrived and self._peers is not None and self._peers.others():
            self._tell_peers(arrived)

    def _tell_peers(self, events: Sequence[PublishedEvent]) -> None:
        """Send this process's committed events to the others (a few messages per batch)."""
        for start in range(0, len(events), PEER_BATCH):
            chunk = events[start:start + PEER_BATCH]
            self._peers.tell("events", {  # type: ignore[union-attr]
                "seq": max(e.seq for e in chunk),
                "events": [[e.seq, e.type, e.at.isoformat(), e.ticket_id, e.service_code,
                            e.counter_id, e.actor, e.payload] for e in chunk],
            })

    def _emit_in_order(self) -> None:
        while self.dispatched + 1 in self._held:
            event = self._held.pop(self.dispatched + 1)
            self._emit(event)

    def _catch_up_from_log(self) -> None:
        with self._ctx.db.read() as conn:
            missing = event_log.since(conn, self.dispatched, limit=REPLAY_LIMIT)
        for event in missing:
            self._held.setdefault(event.seq, event)
        self._emit_in_order()
        if not self._held:
            self._gap_since = None

    def _emit(self, event: PublishedEvent) -> None:
        self.dispatched = event.seq
        self._ring.append(event)
        if "/" in self._socketio.server.manager.rooms:
            # Somebody is connected to this process: building the rooms and the message for
            # nobody cost a tenth of issuing a ticket.
            self._socketio.emit(event.type, event.message(), to=tuple(self._rooms.of(event)))
        self._dirty_services.add(event.service_code or "")
        if event.payload.get("from_service"):
            self._dirty_services.add(event.payload["from_service"])
        # A counter opening or closing changes whether its services take tickets.
        self._dirty_services.update((event.payload.get("counter") or {}).get("services", ()))

    def _flush_queues(self) -> None:
        with self._lock:
            dirty, self._dirty_services = self._dirty_services, set()
            seq = self.dispatched
        dirty.discard("")
        if not dirty:
            return
        rooms: set[str] = set()
        for code in dirty:
            rooms |= self._rooms.of_service(code)
        # Nearly every client listens to some service: sent a slice at a time, with the other
        # greenlets (requests) let through and ticket events that came meanwhile sent first.
        manager = self._socketio.server.manager
        sids = [sid for sid, _ in manager.get_participants("/", tuple(rooms))]
        if not sids:
            return  # counting a long line is not free, and nobody in this process would see it
        stats = [asdict(s) for s in queries.queues(self._ctx) if s.service in dirty]
        message = {"seq": seq, "queues": stats}
        for start in range(0, len(sids), FLUSH_SLICE):
            self._socketio.emit("queue.changed", message, to=sids[start:start + FLUSH_SLICE])
            if start + FLUSH_SLICE < len(sids):
                self._socketio.sleep(0)
                self._dispatch()

    # --- rooms --------------------------------------------------------------------------

    def rooms_of(self, event: PublishedEvent) -> frozenset[str]:
        return self._rooms.of(event)

    # --- subscribers --------------------------------------------------------------------

    def subscribe(self, sid: str, rooms: Sequence[str], last_seq: int | None) -> dict[str, Any]:
        """Join `rooms`; replay what the client missed since `last_seq`, or snapshot it."""
        with self._lock:
            for room in rooms:
                join_room(room, sid=sid)
            upto = self.dispatched
            if last_seq is None or last_seq >= upto:
                return {"seq": upto, "replayed": 0}
            missed = self._missed(last_seq, upto)
            if missed is None:
                self._socketio.emit("snapshot", self.snapshot(upto), to=sid)
                return {"seq": upto, "replayed": 0, "snapshot": True}
            wanted = set(rooms)
            replayed = 0
            for event in missed:
                if self.rooms_of(event) & wanted:
                    self._socketio.emit(event.type, event.message(), to=sid)
                    replayed += 1
            return {"seq": upto, "replayed": replayed}

    def _missed(self, after: int, upto: int) -> list[PublishedEvent] | None:
        if upto - after > REPLAY_LIMIT:
            return None
        if self._ring and self._ring[0].seq <= after + 1:
            return [e for e in self._ring if after < e.seq <= upto]
        with self._ctx.db.read() as conn:
            stored = event_log.since(conn, after, limit=upto - after)
        return [e for e in stored if e.seq <= upto]

    def snapshot(self, seq: int) -> dict[str, Any]:
        """Everything a screen needs to redraw from scratch, as of `seq`."""
        recent_calls = [
            e.message() for e in reversed(self._ring)
            if e.type in ("ticket.called", "ticket.recalled")
        ][:20]
        return {
            "seq": seq,
            "queues": [asdict(s) for s in queries.queues(self._ctx)],
            "counters": [
                {**asdict(c), "services": list(c.services)} for c in queries.counters(self._ctx)
            ],
            "recent_calls": recent_calls,
        }


def _drain(inbox: queue.SimpleQueue[Sequence[PublishedEvent]]) -> list[PublishedEvent]:
    """Every event waiting in `inbox`, without waiting for more."""
    events: list[PublishedEvent] = []
    while True:
        try:
            events.extend(inbox.get_nowait())
        except queue.Empty:
            return events
