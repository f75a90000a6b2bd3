"""What tests run in a process of their own (multiprocessing's "spawn"): a server process's
peer, or its writers. Here rather than in the test modules, so that the child can import them
by name."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import text

from server.db import Database
from server.peers import Peers


def echo_peer(directory: str, ready: Any, done: Any, *, speak_first: bool = False) -> None:
    """Join the group in `directory` and answer each "ping" with a "pong" of the same
    payload, until `done` is set. With `speak_first`, send a message to the group (whoever is
    in it) before saying it is ready."""
    peers = Peers(Path(directory))
    peers.on("ping", lambda payload: peers.tell("pong", payload))
    peers.open()
    threading.Thread(target=peers.listen, daemon=True).start()
    if speak_first:
        peers.tell("started")
    ready.set()
    done.wait(60)
    peers.close()


def write_notes(database_url: str, prefix: str, count: int, threads: int, go: Any) -> None:
    """Insert `count` notes named `prefix`-<n> through Database.write(), from `threads`
    threads at once, starting when `go` is set. Any failure ends the process with an error."""
    db = Database(database_url)
    failures: list[BaseException] = []
    go.wait(60)

    def writer(first: int) -> None:
        try:
            for n in range(first, count, threads):
                with db.write() as conn:
                    conn.execute(text("INSERT INTO note (body) VALUES (:body)"),
                                 {"body": f"{prefix}-{n}"})
        except BaseException as error:
            failures.append(error)

    running = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    db.dispose()
    if failures:
        raise failures[0]


def write_note(database_url: str, body: str, trying: Any, written: Any) -> None:
    """Set `trying`, insert one note through Database.write(), then set `written`."""
    db = Database(database_url)
    trying.set()
    with db.write() as conn:
        conn.execute(text("INSERT INTO note (body) VALUES (:body)"), {"body": body})
    written.set()
    db.dispose()
