"""Signing receipts outside the request path: the server's worker and the day batch.

The worker signs pending receipts in the background (a Socket.IO background task, like the
print worker), retrying failures with back-off up to MAX_ATTEMPTS, and sweeps expired PDFs
once an hour. In the server the signatures themselves are made in a child process
(server.services.signing_process), so they never hold up the event loop. `pump()` does one
pass so tests drive it without threads.

Storing a signed PDF: the file is written under a temporary name, then, in one write
transaction, the row becomes signed (only if it still is what the signer read: pending, or
anything but expired when forced) and the file is renamed into place. The server's worker and
`turnos receipts sign` may meet on the same receipt; whoever records first wins and the other
discards its file, so the stored PDF always has the recorded hash.

The batch (`sign_day`) renders and signs in a pool of worker processes (the keys are loaded
once per process) and records the results from the parent in small transactions, so a running
server's writes interleave with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask_socketio import SocketIO
from sqlalchemy import Connection, Row, bindparam, select, update

from server.config_types import CsaConfig
from server.context import Turnos
from server.models import Receipt, Ticket
from server.services import receipts
from server.settings import Settings

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
SWEEP_SECONDS = 3600.0
MAX_ATTEMPTS = 5
RETRY_SECONDS = 10
MAX_RETRY_SECONDS = 600
BATCH = 50

R = Receipt.__table__.c
T = Ticket.__table__.c


@dataclass(frozen=True, slots=True)
class SignOutcome:
    folio: str
    # signed, skipped (someone else recorded it first), pending (will retry) or failed.
    status: str
    error: str | None = None


def make_signer(config: CsaConfig) -> Any:
    """The CSA's signer with its keys loaded (once: keep it)."""
    from server.receipts.signing import ReceiptSigner

    return ReceiptSigner.from_config(config.receipts, os.environ)


def receipt_content(config: CsaConfig, conn: Connection, receipt: Row) -> Any:
    """The ReceiptContent the PDF renderer needs, from the database."""
    return receipts.facts_from(config, conn, receipt)


def record_signed(ctx: Turnos, receipt: Row, pdf: bytes, *, force: bool = False) -> SignOutcome:
    """Store a signed PDF and mark its receipt signed (see the module's docstring)."""
    return record_many(ctx, [(receipt, pdf)], force=force)[0]


def record_many(ctx: Turnos, signed: Sequence[tuple[Row, bytes]], *,
                force: bool = False) -> list[SignOutcome]:
    """`record_signed` for several receipts in one transaction (one COMMIT, one fsync)."""
    root = receipts.storage_root(ctx.config)
    temporaries = [receipts.write_temporary(root, r.day, r.folio, pdf) for r, pdf in signed]
    outcomes = []
    try:
        with ctx.db.write() as conn:
            for (receipt, pdf), temporary in zip(signed, temporaries, strict=True):
                recorded = _mark_signed(conn, ctx, receipt, pdf, force=force)
                if recorded:
                    os.replace(temporary, receipts.pdf_path(root, receipt.day, receipt.folio))
                outcomes.append(SignOutcome(receipt.folio, "signed" if recorded else "skipped"))
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
    return outcomes


def _mark_signed(conn: Connection, ctx: Turnos, receipt: Row, pdf: bytes, *,
                 force: bool) -> bool:
    statement = _SIGNED_FORCED if force else _SIGNED
    return conn.execute(statement, {
        "receipt_id": receipt.id, "b_sha": hashlib.sha256(pdf).hexdigest(),
        "b_size": len(pdf), "b_at": ctx.clock.now(),
    }).rowcount == 1


def record_failure(ctx: Turnos, receipt: Row, error: str) -> SignOutcome:
    """Count a failed attempt: wait and retry, or give up after MAX_ATTEMPTS."""
    attempts = receipt.attempts + 1
    status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
    wait = min(MAX_RETRY_SECONDS, RETRY_SECONDS * 2 ** (attempts - 1))
    with ctx.db.write() as conn:
        conn.execute(_FAILED, {
            "receipt_id": receipt.id, "b_status": status, "b_attempts": attempts,
            "b_error": error[:2000], "b_next": ctx.clock.now() + dt.timedelta(seconds=wait),
        })
    return SignOutcome(receipt.folio, status, error)


class ReceiptWorker:
    """Signs due receipts; `start()` runs it in the background, `pump()` does one pass."""

    def __init__(self, ctx: Turnos, socketio: SocketIO | None = None, *,
                 signer_factory: Callable[[CsaConfig], Any] = make_signer) -> None:
        self._ctx = ctx
        self._socketio = socketio
        self._signer_factory = signer_factory
        self._signer: Any = None
        self._lock = threading.Lock()
        self._started = False
        self._last_sweep: float | None = None

    def start(self) -> None:
        """Start the background task once per process (idempotent)."""
        with self._lock:
            if self._started or self._socketio is None or not receipts.enabled(self._ctx.config):
                return
            self._started = True
        self._socketio.start_background_task(self._run)

    def _run(self) -> None:
        while True:
            try:
                self.pump()
            except Exception:  # the worker must outlive any one bad receipt
                log.exception("receipt worker pass failed; continuing")
            time.sleep(POLL_SECONDS)

    def signer(self) -> Any:
        if self._signer is None:
            self._signer = self._signer_factory(self._ctx.config)
        return self._signer

    def pump(self) -> list[SignOutcome]:
        """One pass: sweep expired PDFs when due, then sign the receipts that are due."""
        if self._last_sweep is None or time.monotonic() - self._last_sweep > SWEEP_SECONDS:
            self._last_sweep = time.monotonic()
            receipts.sweep_expired(self._ctx)
        with self._ctx.db.read() as conn:
            due = conn.execute(_DUE, {"now": self._ctx.clock.now(), "limit": BATCH}).all()
        return [self.sign(receipt) for receipt in due]

    def sign(self, receipt: Row, *, force: bool = False) -> SignOutcome:
        try:
            with self._ctx.db.read() as conn:
                content = receipt_content(self._ctx.config, conn, receipt)
            pdf = self.signer().sign_receipt(content)
        except Exception as error:  # a broken key or font: retried, then given up on
            log.exception("receipt %s could not be signed", receipt.folio)
            return record_failure(self._ctx, receipt, f"{type(error).__name__}: {error}")
        return record_signed(self._ctx, receipt, pdf, force=force)


def install(app: Flask, ctx: Turnos, socketio: SocketIO, settings: Settings) -> ReceiptWorker:
    """Give the app its receipt worker (see `worker_of`), signing in a child process unless
    the settings keep background work off (tests that pump it by hand sign in their own
    process). The leading server process starts it (server/peers.py)."""
    from server.services.signing_process import SigningProcess

    def in_child_process(config: CsaConfig) -> SigningProcess:
        return SigningProcess(settings.config_path)

    worker = ReceiptWorker(ctx, socketio,
                           signer_factory=in_child_process if settings.start_hub else make_signer)
    app.extensions["turnos.receipts"] = worker
    return worker


def worker_of(app: Flask) -> ReceiptWorker:
    return app.extensions["turnos.receipts"]


# --- the day batch --------------------------------------------------------------------------

def day_receipts(ctx: Turnos, day: dt.date, *, force: bool) -> list[Row]:
    """The receipts of a CSA-local day the batch should (re)produce."""
    with ctx.db.read() as conn:
        return conn.execute(_OF_DAY_FORCED if force else _OF_DAY, {"day": day}).all()


def sign_day(ctx: Turnos, rows: Sequence[Row], *, force: bool, processes: int,
             chunk: int = 25) -> Iterator[SignOutcome]:
    """Sign `rows` (from `day_receipts`) in `processes` worker processes; yields as it goes."""
    if processes <= 1:
        worker = ReceiptWorker(ctx)
        for row in rows:
            yield worker.sign(row, force=force)
        return
    with ctx.db.read() as conn:
        contents = [receipt_content(ctx.config, conn, row) for row in rows]
    row_chunks = [rows[i:i + chunk] for i in range(0, len(rows), chunk)]
    content_chunks = [contents[i:i + chunk] for i in range(0, len(contents), chunk)]
    with ProcessPoolExecutor(max_workers=processes, mp_context=_pool_context(),
                             initializer=_init_child, initargs=(ctx.config,)) as pool:
        # All chunks are queued at once: the children keep signing while this process
        # stores what they have returned, one transaction per chunk.
        for chunk_rows, results in zip(row_chunks, pool.map(_sign_in_child, content_chunks),
                                       strict=True):
            done = [(row, pdf) for row, pdf in zip(chunk_rows, results, strict=True)
                    if isinstance(pdf, bytes)]
            yield from record_many(ctx, done, force=force)
            for row, result in zip(chunk_rows, results, strict=True):
                if not isinstance(result, bytes):
                    yield record_failure(ctx, row, result)


def _pool_context():
    # fork starts a worker in milliseconds; the parent holds no threads or locks then (the
    # CLI), and the children never touch its database connections.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


_child_signer: Any = None


def _init_child(config: CsaConfig) -> None:
    global _child_signer
    _child_signer = make_signer(config)


def _sign_in_child(contents: list[Any]) -> list[bytes | str]:
    results: list[bytes | str] = []
    for content in contents:
        try:
            results.append(_child_signer.sign_receipt(content))
        except Exception as error:  # reported back, recorded as a failed attempt
            results.append(f"{type(error).__name__}: {error}")
    return results


# --- statements, built once -----------------------------------------------------------------

_DUE = (
    select(Receipt.__table__)
    .where(R.status == "pending", R.next_attempt_at <= bindparam("now"))
    .order_by(R.id).limit(bindparam("limit"))
)
_OF_DAY = (
    select(Receipt.__table__)
    .where(R.day == bindparam("day"), R.status.in_(("pending", "failed")))
    .order_by(R.id)
)
_OF_DAY_FORCED = (
    select(Receipt.__table__)
    .where(R.day == bindparam("day"), R.status != "expired")
    .order_by(R.id)
)
_SIGNED_VALUES = {
    "status": "signed", "sha256": bindparam("b_sha"), "size_bytes": bindparam("b_size"),
    "signed_at": bindparam("b_at"), "last_error": None,
}
_SIGNED = update(Receipt.__table__).where(
    R.id == bindparam("receipt_id"), R.status.in_(("pending", "failed"))
).values(**_SIGNED_VALUES)
_SIGNED_FORCED = update(Receipt.__table__).where(
    R.id == bindparam("receipt_id"), R.status != "expired"
).values(**_SIGNED_VALUES)
_FAILED = update(Receipt.__table__).where(
    R.id == bindparam("receipt_id"), R.status.in_(("pending", "failed"))
).values(status=bindparam("b_status"), attempts=bindparam("b_attempts"),
         last_error=bindparam("b_error"), next_attempt_at=bindparam("b_next"))


def storage_path_for(config: CsaConfig, receipt: Row) -> Path:
    return receipts.pdf_path(receipts.storage_root(config), receipt.day, receipt.folio)
