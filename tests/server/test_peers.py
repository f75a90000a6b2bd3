"""The server's processes on one database: messages between them, one leader, one start-up
at a time (server/peers.py)."""

from __future__ import annotations

import multiprocessing
import queue
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from server.peers import Peers, one_at_a_time
from tests.support.processes import echo_peer

SPAWN = multiprocessing.get_context("spawn")


@contextmanager
def _listening(directory: Path) -> Iterator[tuple[Peers, queue.Queue[Any]]]:
    """This process's Peers in `directory`, receiving on a thread; the "pong"s it gets."""
    peers = Peers(directory)
    pongs: queue.Queue[Any] = queue.Queue()
    peers.on("pong", pongs.put)
    peers.open()
    # A daemon thread, as `turnos serve` runs it: closing the socket does not wake a thread
    # blocked in recv(), so it is not waited for.
    threading.Thread(target=peers.listen, daemon=True).start()
    try:
        yield peers, pongs
    finally:
        peers.close()


@contextmanager
def _echo_process(directory: Path, *, speak_first: bool = False) -> Iterator[None]:
    """Another process of the group (tests/support/processes.py), ready to answer."""
    ready, done = SPAWN.Event(), SPAWN.Event()
    child = SPAWN.Process(target=echo_peer, args=(str(directory), ready, done),
                          kwargs={"speak_first": speak_first})
    child.start()
    try:
        assert ready.wait(60), "the other process did not start"
        yield
    finally:
        done.set()
        child.join(10)
    assert child.exitcode == 0


def test_two_processes_send_each_other_messages(tmp_path: Path):
    with _listening(tmp_path) as (here, pongs), _echo_process(tmp_path):
        # This process to the other ("ping"), and the other back to this one ("pong").
        here.tell("ping", {"seq": 41})
        here.tell("ping", {"seq": 42})
        assert pongs.get(timeout=10) == {"seq": 41}
        assert pongs.get(timeout=10) == {"seq": 42}


def test_a_process_that_just_started_gets_messages_at_once(tmp_path: Path):
    """The other process read the run directory a moment before this one joined; it must not
    wait until it reads it again to send this one anything."""
    with _echo_process(tmp_path, speak_first=True), _listening(tmp_path) as (here, pongs):
        here.tell("ping", "hola")
        assert pongs.get(timeout=10) == "hola"


def test_a_message_to_a_process_that_is_gone_removes_its_socket_and_does_not_raise(
    tmp_path: Path,
):
    gone = tmp_path / "4194305.sock"  # above any pid: the socket of a process that died
    left_behind = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    left_behind.bind(str(gone))
    left_behind.close()
    assert gone.exists()

    with _listening(tmp_path) as (here, _):
        here.tell("events", 7)

    assert not gone.exists()


def test_a_message_reaches_the_live_process_past_one_that_is_gone(tmp_path: Path):
    left_behind = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    left_behind.bind(str(tmp_path / "4194305.sock"))
    left_behind.close()

    with _listening(tmp_path) as (here, pongs), _echo_process(tmp_path):
        here.tell("ping", 1)
        assert pongs.get(timeout=10) == 1


def test_the_first_process_to_try_leads_and_another_leads_once_it_is_gone(tmp_path: Path):
    first, second = Peers(tmp_path), Peers(tmp_path)
    try:
        assert first.try_to_lead()
        assert not second.try_to_lead()
        assert first.try_to_lead()  # it still leads
        first.close()
        assert second.try_to_lead()
    finally:
        first.close()
        second.close()


def test_a_process_waiting_to_lead_starts_the_background_work_when_the_leader_goes(
    tmp_path: Path,
):
    leader, waiting = Peers(tmp_path), Peers(tmp_path)
    started = threading.Event()
    try:
        assert leader.try_to_lead()
        thread = threading.Thread(target=waiting.lead_then,
                                  args=(started.set, lambda _seconds: time.sleep(0.01)),
                                  daemon=True)
        thread.start()
        assert not started.wait(0.3)
        leader.close()
        assert started.wait(5)
    finally:
        leader.close()
        waiting.close()


def test_one_at_a_time_lets_the_second_in_only_after_the_first_leaves(tmp_path: Path):
    steps: list[str] = []
    inside, leave = threading.Event(), threading.Event()

    def first() -> None:
        with one_at_a_time(tmp_path, "start"):
            steps.append("first in")
            inside.set()
            leave.wait(10)
            steps.append("first out")

    def second() -> None:
        inside.wait(10)
        with one_at_a_time(tmp_path, "start"):
            steps.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert inside.wait(10)
    time.sleep(0.3)
    waited = list(steps)
    leave.set()
    for thread in threads:
        thread.join(10)

    assert waited == ["first in"]
    assert steps == ["first in", "first out", "second in"]
