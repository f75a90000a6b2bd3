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
- **New connections go to the worker holding fewest** (`pre_fork`, `child_exit`,
  `post_worker_init`, server/worker_balance.py): on their shared socket nearly every new
  connection went to whichever worker ran first, so one worker served most kiosks and counters
  while the other idled (docs/performance.md, "Fifth pass"), and SO_REUSEPORT's hash still gave
  one worker 79 % of the work on a few connections ("Eighth pass"). The master maps a table of
  each worker's open connections before forking, and a worker leaves a new connection to one
  holding fewer.
- **A port in use refuses start-up at once** (`on_starting`) with a message naming it, instead
  of gunicorn retrying the bind for five seconds before it gives up.

- **One write per answer** (`post_worker_init`, server/http_response.py): gunicorn sends an
  answer's headers and body in two TCP segments and formats its Date header every time.

- **One secret key for all workers**: without `TURNOS_SECRET_KEY` every process would draw a
  key of its own, and a staff login or form signed by one worker would be refused by the
  other; so the master draws one per start (nothing signed survives a restart, as with one
  process) and the workers inherit it.

Options on the command line (`--bind`, `--workers`) take precedence over these.
"""

from __future__ import annotations

import errno
import os
import secrets
import socket
import sys

from server import worker_balance


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


# Every worker's open connections, mapped by the master (on_starting) before it forks any.
_connections: worker_balance.ConnectionTable | None = None


def on_starting(server) -> None:
    global _connections
    for address in server.cfg.address:
        if isinstance(address, tuple):
            _refuse_if_taken(address[0], address[1])
    _connections = worker_balance.ConnectionTable(slots=64)


def pre_fork(server, worker) -> None:
    worker.connection_slot = _connections.claim(
        getattr(other, "connection_slot", None) for other in server.WORKERS.values())


def child_exit(server, worker) -> None:
    if worker.connection_slot is not None:
        _connections.clear(worker.connection_slot)


def post_worker_init(worker) -> None:
    from server import http_response  # gunicorn's own modules, so only in its workers

    http_response.install()
    if worker.connection_slot is not None:  # None past 64 workers: that one takes any
        worker_balance.install(_connections, worker.connection_slot)


def _refuse_if_taken(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As gunicorn binds: a listener of any other server refuses it.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            raise SystemExit(f"{host}:{port} is already in use by another server") from None


def command(bind: str, workers: int | None = None) -> list[str]:
    """The production command, for the benchmarks and tests that run it."""
    extra = ["--workers", str(workers)] if workers is not None else []
    return [sys.executable, "-m", "gunicorn", "--config", "python:server.gunicorn_settings",
            "--bind", bind, *extra, "server.wsgi:app"]
