"""gunicorn settings for production (README, "Production"):

    gunicorn --config python:server.gunicorn_settings server.wsgi:app

- **gevent workers**: displays, kiosks, counters and phones hold long-lived WebSocket
  connections, and a gevent process holds thousands of them cheaply (eventlet is deprecated
  and gone from current gunicorn).
- **One worker per core** (`TURNOS_WORKERS` to choose): the server is CPU-bound in Python, so
  one process uses one core. The processes share the database and tell each other what they
  commit (server/peers.py), so a client may be in any of them.
- **10,000 connections per worker**: gunicorn's default, 1,000, would leave the 1,001st screen
  of a busy worker waiting.

- **One secret key for all workers**: without `TURNOS_SECRET_KEY` every process would draw a
  key of its own, and a staff login or form signed by one worker would be refused by the
  other; so the master draws one per start (nothing signed survives a restart, as with one
  process) and the workers inherit it.

Options on the command line (`--bind`, `--workers`) take precedence over these.
"""

from __future__ import annotations

import os
import secrets
import sys


def _workers() -> int:
    value = os.environ.get("TURNOS_WORKERS", "")
    if not value:
        return os.cpu_count() or 1
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise ValueError(f"TURNOS_WORKERS must be a whole number from 1 to 64, not {value!r}")
    return int(value)


if not os.environ.get("TURNOS_SECRET_KEY"):
    os.environ["TURNOS_SECRET_KEY"] = secrets.token_hex(32)

worker_class = "gevent"
workers = _workers()
worker_connections = 10_000
bind = os.environ.get("TURNOS_BIND", "0.0.0.0:8000")


def command(bind: str, workers: int | None = None) -> list[str]:
    """The production command, for the benchmarks and tests that run it."""
    extra = ["--workers", str(workers)] if workers is not None else []
    return [sys.executable, "-m", "gunicorn", "--config", "python:server.gunicorn_settings",
            "--bind", bind, *extra, "server.wsgi:app"]
