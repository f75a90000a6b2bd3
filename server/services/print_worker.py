"""The print worker: sends queued print jobs in the background, with timeouts and retries.

For each printer with due jobs it first asks the printer how it is. Out of paper or offline:
nothing is sent, and the jobs wait (`retry_seconds`, doubling up to a minute). Unknown (the
printer does not answer status requests): the jobs are sent anyway, since silence is not a
refusal. A send that fails puts the job back to wait. A job not printed
`give_up_after_minutes` after it was queued is never printed: it is cancelled or kept as failed,
per `[printing]` in config.toml. Jobs are claimed with a conditional UPDATE, so the server's
worker and `turnos printers test` never send the same job twice.

Like the live-push hub (server.realtime.Hub), `start()` runs it as a Socket.IO background task
and `pump()` does one pass, so tests drive it deterministically without threads.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask_socketio import SocketIO
from sqlalchemy import bindparam, case, select, update

from printers.devices import PrinterDevice, PrinterError, device_for
from server.config_types import GiveUp, Printer
from server.context import Turnos
from server.models import PrintJob
from server.peers import Peers
from server.services.printing import (
    STATUS_TIMEOUT_SECONDS,
    ask_device,
    record_state,
    render_job,
)

log = logging.getLogger(__name__)

SEND_TIMEOUT_SECONDS = 5.0
# How often the worker looks for due jobs (`wake()` makes it look at once).
POLL_SECONDS = 0.5
# Retries wait retry_seconds, then twice that, and so on, but never longer than this.
MAX_RETRY_SECONDS = 60
# Printers without work are asked how they are this often, so a dashboard shows the paper
# running out before the next ticket needs it.
IDLE_CHECK_SECONDS = 60.0
BATCH = 100


@dataclass(frozen=True, slots=True)
class JobOutcome:
    job_id: int
    printer_id: str
    # The job's status after this pass: printed, queued (will retry), failed or cancelled.
    status: str
    error: str | None = None


class PrintWorker:
    """Sends due print jobs; `start()` runs it in the background, `pump()` does one pass."""

    def __init__(self, ctx: Turnos, socketio: SocketIO | None = None, *,
                 peers: Peers | None = None,
                 devices: Callable[[Printer], PrinterDevice] = device_for,
                 send_timeout: float = SEND_TIMEOUT_SECONDS,
                 status_timeout: float = STATUS_TIMEOUT_SECONDS) -> None:
        self._ctx = ctx
        self._socketio = socketio
        self._devices = devices
        self.send_timeout = send_timeout
        self.status_timeout = status_timeout
        self._wake = threading.Event()
        self._peers = peers
        self._lock = threading.Lock()
        self._started = False
        self._last_check: dict[str, dt.datetime] = {}
        self._logo: bytes | None = None
        self._logo_loaded = False

    def start(self) -> None:
        """Start the background task once per process (idempotent)."""
        with self._lock:
            if self._started or self._socketio is None:
                return
            self._started = True
        self.recover()
        self._socketio.start_background_task(self._run)

    def wake(self) -> None:
        """Look for due jobs now rather than at the next poll (after issuing, say).

        Only the leading server process runs the worker (server/peers.py); the others pass
        the word on to it."""
        if self._started:
            self._wake.set()
        elif self._peers is not None:
            self._peers.tell("print")

    def wake_here(self) -> None:
        """`wake` as told by another server process: only if the worker runs in this one."""
        if self._started:
            self._wake.set()

    def _run(self) -> None:
        while True:
            try:
                self.pump()
            except Exception:  # the worker must outlive any one bad job or printer
                log.exception("print worker pass failed; continuing")
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()

    def recover(self) -> None:
        """Jobs a crash left half-sent are sent again: a second paper beats none."""
        with self._ctx.db.write() as conn:
            conn.execute(update(PrintJob).where(PrintJob.status == "printing")
                         .values(status="queued"))

    def pump(self, *, job_ids: Collection[int] | None = None,
             check_idle: bool = True) -> list[JobOutcome]:
        """One pass: give up on stale jobs, send the due ones (only `job_ids`, if given), and
        ask idle printers how they are when that is due."""
        now = self._ctx.clock.now()
        outcomes = self._give_up_stale(now)
        due = select(*_DUE_COLUMNS).where(PrintJob.status == "queued",
                                          PrintJob.next_attempt_at <= now)
        if job_ids is not None:
            due = due.where(PrintJob.id.in_(list(job_ids)))
        with self._ctx.db.read() as conn:
            jobs = conn.execute(due.order_by(PrintJob.id).limit(BATCH)).all()
        by_printer: dict[str, list[Any]] = {}
        for job in jobs:
            by_printer.setdefault(job.printer_id, []).append(job)
        for printer_id, printer_jobs in by_printer.items():
            outcomes += self._print(printer_id, printer_jobs, now)
        if check_idle:
            self._check_idle(now, busy=by_printer.keys())
        return outcomes

    def _print(self, printer_id: str, jobs: Sequence[Any], now: dt.datetime) -> list[JobOutcome]:
        try:
            printer = self._ctx.config.printer(printer_id)
        except KeyError:
            return self._retry(jobs, now, f"printer {printer_id!r} is not in config.toml")
        device = self._devices(printer)
        status, message = ask_device(device, self.status_timeout)
        self._last_check[printer_id] = now
        if not status.may_print:
            record_state(self._ctx, printer_id, status, message)
            return self._retry(jobs, now, message or status.value)
        outcomes = []
        for index, job in enumerate(jobs):
            if not self._claim(job.id, now):
                continue  # another process (the CLI, the server) took it
            try:
                data = render_job(self._ctx.config, printer, job.kind, job.payload,
                                  self._logo_bytes())
            except Exception as error:  # a payload we cannot render will not get better
                log.exception("print job %s cannot be rendered", job.id)
                outcomes.append(self._finish(job, "failed", f"cannot render: {error!r}"))
                continue
            try:
                device.send(data, self.send_timeout)
            except PrinterError as error:
                record_state(self._ctx, printer_id, error.status, error.message)
                # The rest would fail the same way: they wait for the same retry.
                return outcomes + self._retry(jobs[index:], now, error.message, held=job.id)
            outcomes.append(self._finish(job, "printed", None,
                                         printed_at=self._ctx.clock.now()))
        record_state(self._ctx, printer_id, status, message)
        return outcomes

    def _claim(self, job_id: int, now: dt.datetime) -> bool:
        with self._ctx.db.write() as conn:
            return conn.execute(_CLAIM, {"job_id": job_id, "now": now}).rowcount == 1

    def _finish(self, job: Any, status: str, error: str | None, *, held: bool = True,
                printed_at: dt.datetime | None = None) -> JobOutcome:
        """Settle a job this worker holds (or, with held=False, one still queued)."""
        with self._ctx.db.write() as conn:
            conn.execute(_FINISH, {"job_id": job.id, "b_from": "printing" if held else "queued",
                                   "b_status": status, "b_error": error,
                                   "b_printed_at": printed_at})
        return JobOutcome(job.id, job.printer_id, status, error)

    def _retry(self, jobs: Sequence[Any], now: dt.datetime, error: str, *,
               held: int | None = None) -> list[JobOutcome]:
        """Count an attempt against each job and let it wait before the next one; `held` is
        the job this worker had claimed, the others are still queued."""
        printing = self._ctx.config.printing
        outcomes = []
        with self._ctx.db.write() as conn:
            for job in jobs:
                attempts = job.attempts + 1
                wait = min(max(MAX_RETRY_SECONDS, printing.retry_seconds),
                           printing.retry_seconds * 2 ** (attempts - 1))
                conn.execute(_RETRY, {
                    "job_id": job.id, "b_from": "printing" if job.id == held else "queued",
                    "b_attempts": attempts, "b_error": error,
                    "b_next": now + dt.timedelta(seconds=wait),
                })
                outcomes.append(JobOutcome(job.id, job.printer_id, "queued", error))
        return outcomes

    def _give_up_stale(self, now: dt.datetime) -> list[JobOutcome]:
        printing = self._ctx.config.printing
        minutes = printing.give_up_after_minutes
        status = "cancelled" if printing.on_give_up is GiveUp.CANCEL else "failed"
        with self._ctx.db.read() as conn:
            stale = conn.execute(_STALE, {"cutoff": now - dt.timedelta(minutes=minutes)}).all()
        outcomes = []
        for job in stale:
            reason = f"not printed within {minutes} min"
            if job.last_error:
                reason += f"; last error: {job.last_error}"
            outcomes.append(self._finish(job, status, reason, held=False))
        return outcomes

    def _check_idle(self, now: dt.datetime, busy: Collection[str]) -> None:
        for printer in self._ctx.config.printers:
            last = self._last_check.get(printer.id)
            if printer.id in busy or (last and (now - last).total_seconds() < IDLE_CHECK_SECONDS):
                continue
            self._last_check[printer.id] = now
            status, message = ask_device(self._devices(printer), self.status_timeout)
            record_state(self._ctx, printer.id, status, message)

    def _logo_bytes(self) -> bytes | None:
        if not self._logo_loaded:
            self._logo_loaded = True
            path = self._ctx.config.printing.logo
            if path:
                try:
                    with open(path, "rb") as image:
                        self._logo = image.read()
                except OSError:
                    log.exception("logo %s cannot be read; printing without it", path)
        return self._logo


def install(app: Flask, ctx: Turnos, socketio: SocketIO, peers: Peers | None) -> PrintWorker:
    """Give the app its print worker (see `worker_of`); the leading process starts it."""
    worker = PrintWorker(ctx, socketio, peers=peers)
    if peers is not None:
        peers.on("print", lambda _payload: worker.wake_here())
    app.extensions["turnos.printing"] = worker
    return worker


def worker_of(app: Flask) -> PrintWorker:
    return app.extensions["turnos.printing"]


def print_now(ctx: Turnos, job_id: int, *, wait_seconds: float = 10.0,
              devices: Callable[[Printer], PrinterDevice] = device_for) -> JobOutcome:
    """Send one queued job now (for the CLI) and report what became of it. If a running
    server's worker took it first, wait up to `wait_seconds` for that worker's outcome."""
    outcomes = PrintWorker(ctx, devices=devices).pump(job_ids=[job_id], check_idle=False)
    for outcome in outcomes:
        if outcome.job_id == job_id:
            return outcome
    deadline = time.monotonic() + wait_seconds
    while True:
        with ctx.db.read() as conn:
            job = conn.execute(_JOB, {"job_id": job_id}).one()
        if job.status != "printing" or time.monotonic() > deadline:
            return JobOutcome(job_id, job.printer_id, job.status, job.last_error)
        time.sleep(0.2)


# --- statements, built once -----------------------------------------------------------------

J = PrintJob.__table__.c

_JOB = select(J.printer_id, J.status, J.last_error).where(J.id == bindparam("job_id"))
_DUE_COLUMNS = (J.id, J.printer_id, J.kind, J.payload, J.attempts)
_STALE = select(J.id, J.printer_id, J.last_error).where(
    J.status == "queued", J.created_at < bindparam("cutoff")
).order_by(J.id)
_CLAIM = update(PrintJob.__table__).where(
    J.id == bindparam("job_id"), J.status == "queued", J.next_attempt_at <= bindparam("now")
).values(status="printing")
# Finishing a job we hold ("printing") counts its attempt; giving up on a queued one does not.
_FINISH = update(PrintJob.__table__).where(
    J.id == bindparam("job_id"), J.status == bindparam("b_from")
).values(
    status=bindparam("b_status"), last_error=bindparam("b_error"),
    printed_at=bindparam("b_printed_at"),
    attempts=case((J.status == "printing", J.attempts + 1), else_=J.attempts),
)
_RETRY = update(PrintJob.__table__).where(
    J.id == bindparam("job_id"), J.status == bindparam("b_from")
).values(status="queued", attempts=bindparam("b_attempts"), last_error=bindparam("b_error"),
         next_attempt_at=bindparam("b_next"))
