"""The table of open connections the gunicorn workers share, and the master's hooks that hand
out its slots. How live workers use it is in tests/server/test_processes.py."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from gunicorn import util
from gunicorn.http import wsgi
from gunicorn.workers import ggevent

from server import gunicorn_settings
from server.worker_balance import BalancedStreamServer, ConnectionTable


def _accepting(table: ConnectionTable, *open_by_slot: int) -> None:
    for slot, connections in enumerate(open_by_slot):
        table.start(slot, 1000 + slot)
        table.add(slot, connections)


def test_a_worker_holds_fewest_unless_another_accepting_worker_holds_fewer():
    table = ConnectionTable(slots=4)
    _accepting(table, 3, 2, 2)

    assert not table.holds_fewest(0)
    assert table.holds_fewest(1)
    assert table.holds_fewest(2)  # a tie: either may take the next one

    table.add(1, 1)
    assert table.holds_fewest(2)
    assert not table.holds_fewest(1)


def test_workers_that_stopped_accepting_or_left_are_not_waited_for():
    table = ConnectionTable(slots=3)
    _accepting(table, 5, 0, 1)

    table.stop(1)  # shutting down: it holds fewest but accepts nothing
    assert not table.holds_fewest(0)
    table.clear(2)  # gone
    assert table.holds_fewest(0)


def test_a_claimed_slot_is_a_free_one_and_starts_empty():
    table = ConnectionTable(slots=3)
    _accepting(table, 4, 7, 2)

    slot = table.claim(taken=[0, None, 2])

    assert slot == 1
    assert table.open_connections(1) == 0
    assert table.holds_fewest(0) is False  # slot 1 is free until its worker starts
    assert table.claim(taken=[0, 1, 2]) is None


def test_a_forked_process_writes_the_counts_its_parent_reads():
    table = ConnectionTable(slots=2)
    _accepting(table, 1, 1)

    child = os.fork()
    if child == 0:
        table.add(1, 5)
        os._exit(0)
    _, status = os.waitpid(child, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert table.open_connections(1) == 6
    assert not table.holds_fewest(1)


def test_the_master_gives_each_worker_a_slot_of_its_own_and_frees_it_when_the_worker_exits(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(gunicorn_settings, "_connections", None)
    # The port probe in on_starting is a test of its own (test_processes.py).
    master = SimpleNamespace(cfg=SimpleNamespace(address=[]), WORKERS={})
    gunicorn_settings.on_starting(master)
    table = gunicorn_settings._connections
    first, second = SimpleNamespace(), SimpleNamespace()

    for pid, worker in ((101, first), (102, second)):
        gunicorn_settings.pre_fork(master, worker)
        master.WORKERS[pid] = worker
    assert {first.connection_slot, second.connection_slot} == {0, 1}

    table.start(first.connection_slot, 101)
    table.add(first.connection_slot, 3)
    del master.WORKERS[101]
    gunicorn_settings.child_exit(master, first)
    assert table.open_connections(first.connection_slot) == 0

    replacement = SimpleNamespace()
    gunicorn_settings.pre_fork(master, replacement)
    assert replacement.connection_slot == first.connection_slot


def test_a_worker_with_a_slot_builds_balanced_servers(monkeypatch: pytest.MonkeyPatch):
    # Restored after the test: this process is not a worker.
    for module, name in ((ggevent, "StreamServer"), (wsgi, "Response"), (util, "http_date")):
        monkeypatch.setattr(module, name, getattr(module, name))
    monkeypatch.setattr(gunicorn_settings, "_connections", ConnectionTable(slots=2))
    for name in ("table", "slot"):
        monkeypatch.setattr(BalancedStreamServer, name, None, raising=False)

    gunicorn_settings.post_worker_init(SimpleNamespace(connection_slot=1))

    assert ggevent.StreamServer is BalancedStreamServer
    assert BalancedStreamServer.slot == 1
    assert BalancedStreamServer.table is gunicorn_settings._connections
