"""A fake ESC/POS network printer: a real TCP server on 127.0.0.1 that records what it gets.

It answers the real-time status requests DLE EOT 1 (printer) and DLE EOT 4 (paper sensor) the
way an Epson-compatible printer does in the current `mode`, or not at all when "silent".
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

DLE_EOT = b"\x10\x04"

# Answer bytes per mode, for DLE EOT n with n = 1 (printer status) and n = 4 (paper sensor).
# Fixed bits 1 and 4 are set in every answer (0x12); see the ESC/POS reference.
ANSWERS: dict[str, dict[int, int]] = {
    "online": {1: 0x12, 4: 0x12},
    "paper_near_end": {1: 0x12, 4: 0x1E},  # near-end sensor bits 2-3
    "paper_out": {1: 0x1A, 4: 0x72},  # paper end bits 5-6; the printer also goes offline
    "cover_open": {1: 0x1A, 4: 0x12},  # offline (bit 3), paper present
    "garbage": {1: 0xFF, 4: 0xFF},  # not a status answer at all
    "silent": {},
}


class FakePrinter:
    """Listens on 127.0.0.1:<free port>; `connections` holds the bytes of each connection."""

    def __init__(self, mode: str = "online") -> None:
        if mode not in ANSWERS:
            raise ValueError(mode)
        self.mode = mode
        self.connections: list[bytes] = []
        self.status_queries = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.05)
        self.port: int = self._server.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._clients: list[socket.socket] = []
        self._acceptor = threading.Thread(target=self._accept, name="fake-printer", daemon=True)
        self._acceptor.start()

    @property
    def printed(self) -> list[bytes]:
        """What each connection sent besides status requests: the jobs, in arrival order."""
        with self._lock:
            connections = list(self.connections)
        jobs = []
        for data in connections:
            for n in ANSWERS["online"]:
                data = data.replace(DLE_EOT + bytes([n]), b"")
            if data:
                jobs.append(data)
        return jobs

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            index = self._open_connection(client)
            thread = threading.Thread(target=self._serve, args=(client, index), daemon=True)
            with self._lock:
                self._threads.append(thread)
            thread.start()

    def _open_connection(self, client: socket.socket) -> int:
        with self._lock:
            self.connections.append(b"")
            self._clients.append(client)
            return len(self.connections) - 1

    def _serve(self, client: socket.socket, index: int) -> None:
        client.settimeout(0.05)
        scanned = 0
        with client:
            while not self._stopping.is_set():
                try:
                    chunk = client.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                with self._lock:
                    self.connections[index] += chunk
                    data = self.connections[index]
                scanned = self._answer(client, data, scanned)

    def _answer(self, client: socket.socket, data: bytes, scanned: int) -> int:
        """Answer every complete DLE EOT n after `scanned`; returns how far it looked."""
        while True:
            at = data.find(DLE_EOT, scanned)
            if at < 0 or at + 2 >= len(data):
                return scanned if at < 0 else at
            n = data[at + 2]
            scanned = at + 3
            with self._lock:
                self.status_queries += 1
                answer = ANSWERS[self.mode].get(n)
            if answer is not None:
                try:
                    client.sendall(bytes([answer]))
                except OSError:
                    return scanned

    def close(self) -> None:
        self._stopping.set()
        self._server.close()
        self._acceptor.join(timeout=2)
        with self._lock:
            threads, clients = list(self._threads), list(self._clients)
        for thread in threads:
            thread.join(timeout=2)
        for client in clients:
            client.close()


@contextmanager
def fake_printer(mode: str = "online") -> Iterator[FakePrinter]:
    printer = FakePrinter(mode)
    try:
        yield printer
    finally:
        printer.close()


def refused_port() -> int:
    """A local port nobody listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
