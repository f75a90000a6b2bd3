"""New connections go to the gunicorn worker that holds the fewest.

The workers share one listening socket. The kernel wakes every worker waiting on it, and on its
own nearly every new connection went to whichever worker ran first, so on a few long-lived
connections (kiosks, counters, screens, a load generator's 16) one worker could serve most of
the centre while the other idled. SO_REUSEPORT (one socket per worker) spreads connections by a
hash of their addresses instead: a fair coin per connection, which on 16 connections still put
79 % of the work on one worker in one benchmark run (docs/performance.md, "Eighth pass").

So each worker publishes how many connections it holds in memory the master maps before forking,
and a worker holding more than another that is accepting lets the new connection wait for that
one: it stops watching the socket for a millisecond and looks again. If nobody less loaded has
taken it within `GRACE_SECONDS` (that worker busy or hung), it accepts it itself, so a
connection never waits long for a worker that will not come.

The master gives each worker a slot before forking it (`claim`) and clears the slot when the
worker exits (`clear`); only the worker itself writes its slot while it runs, and only from the
gevent loop's thread, so no lock is needed: a reader may see a count one connection old.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import select
import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from gevent import monkey
from gevent.server import StreamServer

RECHECK_SECONDS = 0.001
GRACE_SECONDS = 0.05

# Cells per slot: the pid of the worker accepting on it (0: none) and its open connections.
_PID, _OPEN, _CELLS = 0, 1, 2


class ConnectionTable:
    def __init__(self, slots: int) -> None:
        # Anonymous and MAP_SHARED: the forked workers see the same pages as the master.
        self._memory = mmap.mmap(-1, slots * _CELLS * ctypes.sizeof(ctypes.c_int64))
        self._cells = (ctypes.c_int64 * (slots * _CELLS)).from_buffer(self._memory)
        self.slots = slots

    def claim(self, taken: Iterable[int | None]) -> int | None:
        """A free slot for a worker about to be forked, emptied; None when all are taken."""
        busy = set(taken)
        free = next((slot for slot in range(self.slots) if slot not in busy), None)
        if free is not None:
            self.clear(free)
        return free

    def clear(self, slot: int) -> None:
        self._cells[slot * _CELLS + _PID] = 0
        self._cells[slot * _CELLS + _OPEN] = 0

    def start(self, slot: int, pid: int) -> None:
        """The worker in `slot` accepts from now on."""
        self._cells[slot * _CELLS + _PID] = pid

    def stop(self, slot: int) -> None:
        """The worker in `slot` accepts no more (it is shutting down)."""
        self._cells[slot * _CELLS + _PID] = 0

    def add(self, slot: int, change: int) -> None:
        self._cells[slot * _CELLS + _OPEN] += change

    def open_connections(self, slot: int) -> int:
        return self._cells[slot * _CELLS + _OPEN]

    def holds_fewest(self, slot: int) -> bool:
        """Whether no other accepting worker holds fewer connections than `slot`'s."""
        cells = self._cells
        mine = cells[slot * _CELLS + _OPEN]
        for base in range(0, self.slots * _CELLS, _CELLS):
            if cells[base + _PID] and cells[base + _OPEN] < mine:
                return False
        return True


class BalancedStreamServer(StreamServer):
    """gevent's StreamServer as gunicorn's gevent worker makes it, counting the connections it
    holds in `table` and leaving a new one to a worker that holds fewer (module docstring)."""

    table: ClassVar[ConnectionTable]
    slot: ClassVar[int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._waiting_since: float | None = None
        super().__init__(*args, **kwargs)
        self.table.start(self.slot, os.getpid())

    def set_handle(self, handle: Callable[..., Any] | None) -> None:
        super().set_handle(handle)
        inner = self.handle

        def handle_and_count_the_close(*args: Any) -> None:
            try:
                inner(*args)
            finally:
                self.table.add(self.slot, -1)

        # start() takes `handle` again (init_socket), so the wrapper goes there too.
        self.handle = self._handle = handle_and_count_the_close

    def do_handle(self, *args: Any) -> None:
        self.table.add(self.slot, 1)
        try:
            super().do_handle(*args)
        except BaseException:
            self.table.add(self.slot, -1)  # the handler never started
            raise

    def _do_read(self) -> None:
        if self._leaves_it_to_another_worker():
            self.stop_accepting()
            self._timer = self.loop.timer(RECHECK_SECONDS)
            self._timer.start(self._look_again)
            return
        super()._do_read()

    def _leaves_it_to_another_worker(self) -> bool:
        if self.table.holds_fewest(self.slot):
            self._waiting_since = None
            return False
        now = time.monotonic()
        if self._waiting_since is None:
            self._waiting_since = now
        elif now - self._waiting_since >= GRACE_SECONDS:
            self._waiting_since = None
            return False
        return True

    def _look_again(self) -> None:
        self.stop_accepting()  # closes the timer that just fired
        if not _readable(self.socket.fileno()):
            self._waiting_since = None  # another worker took it; the next one starts afresh
        self._start_accepting_if_started()

    def close(self) -> None:
        self.table.stop(self.slot)
        super().close()


# gevent replaces select.poll with a cooperative one that would yield to the loop.
_poll = monkey.get_original("select", "poll")


def _readable(fileno: int) -> bool:
    poller = _poll()
    poller.register(fileno, select.POLLIN)
    return bool(poller.poll(0))


def install(table: ConnectionTable, slot: int) -> None:
    """Make this gunicorn gevent worker's servers balanced ones; from `post_worker_init`, before
    the worker builds them."""
    from gunicorn.workers import ggevent  # gunicorn's own module, so only in its workers

    BalancedStreamServer.table = table
    BalancedStreamServer.slot = slot
    ggevent.StreamServer = BalancedStreamServer
