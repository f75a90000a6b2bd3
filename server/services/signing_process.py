"""Signing receipts in a child process, for the server's receipt worker.

A signature is ~10 ms of pure CPU. In the server's single event loop it would hold up every
request and every push to the screens behind it, so the server hands each receipt to a child
process over a pipe and waits for the PDF cooperatively. The server still stores the result
itself, through its own write path: the two processes never compete for the database's write
lock (SQLite's busy wait would stall the server's event loop).

The child (`python -m server.services.signing_process CONFIG`) loads the keys once, signs one
receipt at a time, and ends when its input closes, which is also what happens when the server
ends however it ends.
"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

_LENGTH = struct.Struct("!I")
PDF, ERROR = b"P", b"E"


class SigningFailed(Exception):
    """The child could not sign (its keys did not load, or this receipt failed)."""


class SigningProcess:
    """A signer with `sign_receipt(content) -> bytes`, whose work runs in a child process."""

    def __init__(self, config_path: Path) -> None:
        self._config_path = Path(config_path).resolve()
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def sign_receipt(self, content: Any) -> bytes:
        with self._lock:
            process = self._running()
            assert process.stdin is not None and process.stdout is not None
            try:
                _send(process.stdin, pickle.dumps(content))
                kind = _read_exactly(process.stdout, 1)
                payload = _receive(process.stdout)
            except (OSError, EOFError) as error:
                self._stop()
                raise SigningFailed(f"the signing process ended: {error}") from error
        if kind != PDF:
            raise SigningFailed(payload.decode("utf-8", "replace"))
        return payload

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _running(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "server.services.signing_process",
                 str(self._config_path)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=os.environ.copy(),
            )
        return self._process

    def _stop(self) -> None:
        if self._process is None:
            return
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


def _send(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_LENGTH.pack(len(payload)) + payload)
    stream.flush()


def _receive(stream: IO[bytes]) -> bytes:
    (length,) = _LENGTH.unpack(_read_exactly(stream, _LENGTH.size))
    return _read_exactly(stream, length)


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if data is None or len(data) != size:
        raise EOFError("the pipe closed")
    return data


def serve(config_path: Path, requests: IO[bytes], replies: IO[bytes]) -> None:
    """The child's loop: a pickled ReceiptContent in, the signed PDF (or what failed) out."""
    from server.config import load_config
    from server.services.receipt_worker import make_signer

    signer: Any = None
    problem = ""
    try:
        signer = make_signer(load_config(config_path))
    except Exception as error:  # every request gets the reason; the worker retries later
        problem = f"{type(error).__name__}: {error}"
    while True:
        try:
            content = pickle.loads(_receive(requests))
        except EOFError:
            return  # the server closed the pipe: it is done, or gone
        try:
            if signer is None:
                raise SigningFailed(problem)
            pdf = signer.sign_receipt(content)
        except Exception as error:  # reported to the server, which records the attempt
            replies.write(ERROR)
            _send(replies, f"{type(error).__name__}: {error}".encode())
            continue
        replies.write(PDF)
        _send(replies, pdf)


if __name__ == "__main__":
    serve(Path(sys.argv[1]), sys.stdin.buffer, sys.stdout.buffer)
