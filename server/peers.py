"""The server's worker processes on one database: they tell each other what changed, and one
of them leads the background work.

Production runs several gunicorn worker processes (see server/wsgi.py). Each one holds its own
Socket.IO clients and its own live-push hub, and they share nothing but the database and a
small run directory. Through it:

- **Messages.** Each process binds a Unix datagram socket there and sends short JSON messages
  to the others: "events up to seq N are committed" (their hubs then read those events from
  the log and push them to their own clients), a display line to show, a staff session that
  ended (its sockets in every process are closed), a print job to send.
- **Leadership.** Background work that must run once per CSA (sending print jobs, signing
  receipts) runs in the process that holds an exclusive lock on `leader.lock`. If that
  process dies the lock goes with it and another process takes over within seconds.

A single process (`turnos serve`, tests) is simply a group of one: it leads at once and its
messages reach nobody.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from server.file_locks import lock, open_lock_file, try_lock

log = logging.getLogger(__name__)

# A process that is not the leader tries to become it this often.
LEAD_RETRY_SECONDS = 2.0
# The list of other processes is read from the run directory at most this often (and
# whenever a message could not be delivered, or a process joined).
PEER_LIST_SECONDS = 1.0
MAX_MESSAGE_BYTES = 60_000
# What a process says to the others once its socket is bound (handled by Peers itself).
JOINED = "peer.joined"

Handler = Callable[[Any], None]


def run_directory(url: URL) -> Path:
    """Where the processes serving this database meet: one short path per database.

    Socket paths are limited to about 100 bytes, so the directory is in the system's temporary
    directory, named after the database (an SQLite file's absolute path, or a server URL
    without its password) rather than next to it.
    """
    if url.get_backend_name() == "sqlite":
        identity = f"sqlite:{Path(url.database or '').resolve()}"
    else:
        identity = url.set(password=None).render_as_string(hide_password=True)
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"turnos-{digest}"


class Peers:
    """This process's end of the group: send to the others, receive from them, lead."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._handlers: dict[str, Handler] = {}
        self._socket: socket.socket | None = None
        # Sends go through a socket of their own that never waits: a process that stopped
        # reading must not stall the sender (its full queue just drops the message).
        self._sender: socket.socket | None = None
        self._own_path: Path | None = None
        self._peers: list[Path] = []
        self._peers_read = 0.0
        self._lock = threading.Lock()
        self._leader_fd: int | None = None

    def on(self, kind: str, handler: Handler) -> None:
        """Call `handler(payload)` for every message of `kind` another process sends."""
        self._handlers[kind] = handler

    # --- messages -----------------------------------------------------------------------

    def open(self) -> None:
        """Bind this process's socket; `listen` then receives on it."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.directory / f"{os.getpid()}.sock"
        path.unlink(missing_ok=True)  # left by an earlier process with the same pid
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(path))
        sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sender.setblocking(False)
        self._socket, self._sender, self._own_path = sock, sender, path
        # The others may have read the directory a moment ago: without this they would not
        # send this process anything until they read it again (up to PEER_LIST_SECONDS).
        self.tell(JOINED)
        # And this process reads it again for its first message: more may be joining now.
        self._forget_peer_list()

    def listen(self) -> None:
        """Receive and handle messages until the socket is closed (a background task)."""
        sock = self._socket
        assert sock is not None, "open() first"
        while True:
            try:
                data = sock.recv(MAX_MESSAGE_BYTES)
            except OSError:
                return  # closed
            try:
                message = json.loads(data)
                if message["kind"] == JOINED:
                    self._forget_peer_list()
                    continue
                handler = self._handlers.get(message["kind"])
                if handler is not None:
                    handler(message.get("payload"))
            except Exception:  # one bad message must not end the listener
                log.exception("message from another server process failed")

    def tell(self, kind: str, payload: Any = None) -> None:
        """Send a message to every other process of the group; never blocks, never raises."""
        sender = self._sender
        others = self.others()
        if sender is None or not others:
            return
        data = json.dumps({"kind": kind, "payload": payload}).encode()
        if len(data) > MAX_MESSAGE_BYTES:
            log.error("message %s too large for the other processes (%d bytes)", kind, len(data))
            return
        for path in others:
            try:
                sender.sendto(data, str(path))
            except (ConnectionRefusedError, FileNotFoundError):
                # That process is gone: forget it (its file too, so nobody tries again).
                path.unlink(missing_ok=True)
                self._forget_peer_list()
            except BlockingIOError:
                log.warning("server process %s is not reading its messages", path.stem)
            except OSError:
                log.exception("could not reach server process %s", path.stem)

    def others(self) -> list[Path]:
        """The sockets of the other processes of the group (none for a process alone)."""
        now = time.monotonic()
        with self._lock:
            if now - self._peers_read > PEER_LIST_SECONDS:
                self._peers_read = now
                self._peers = [p for p in self.directory.glob("*.sock") if p != self._own_path]
            return self._peers

    def _forget_peer_list(self) -> None:
        """Read the run directory again before the next message."""
        with self._lock:
            self._peers_read = 0.0

    def close(self) -> None:
        for sock in (self._socket, self._sender):
            if sock is not None:
                sock.close()
        self._socket = self._sender = None
        if self._own_path is not None:
            self._own_path.unlink(missing_ok=True)
        fd, self._leader_fd = self._leader_fd, None
        if fd is not None:
            os.close(fd)

    # --- leadership ---------------------------------------------------------------------

    def try_to_lead(self) -> bool:
        """Become the leader if nobody is; True if this process leads (now or already)."""
        if self._leader_fd is not None:
            return True
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = open_lock_file(self.directory / "leader.lock")
        try:
            taken = try_lock(fd)
        except BaseException:
            os.close(fd)
            raise
        if not taken:
            os.close(fd)
            return False
        self._leader_fd = fd
        return True

    def lead_then(self, start: Callable[[], None], sleep: Callable[[float], None]) -> None:
        """Wait until this process leads, then call `start` (a background task)."""
        while not self.try_to_lead():
            sleep(LEAD_RETRY_SECONDS)
        log.info("server process %d leads the background work", os.getpid())
        start()


@contextmanager
def one_at_a_time(directory: Path, name: str) -> Iterator[None]:
    """Hold an exclusive lock on `name` in the run directory: the processes starting together
    migrate the schema and load the catalogue one after the other, not over each other."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = open_lock_file(directory / f"{name}.lock")
    try:
        lock(fd)
        yield
    finally:
        os.close(fd)
