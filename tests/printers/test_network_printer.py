"""Network printers over real TCP, against a fake printer: status, sending, and what the
print worker does when the paper runs out, the printer is silent or nobody answers."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from printers.devices import NetworkPrinter, PrinterError, PrinterStatus
from server.clock import FrozenClock
from server.context import Turnos
from server.extensions import ext
from server.models import PrintJob, Ticket
from server.services.print_worker import PrintWorker
from server.services.printing import printer_states
from tests.printers.fake_printer import FakePrinter, fake_printer, refused_port
from tests.support.printing import config_with_printers, file, issue_and_queue, network

STATUS_TIMEOUT = 0.3
WPC1252 = b"\x1b@\x1bt\x10"


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    with fake_printer("online") as fake:
        yield fake


def app_with_printer(make_app: Callable[..., Flask], sqlite_url: str, tmp_path: Path,
                     port: int, printing_toml: str = "") -> Turnos:
    config = config_with_printers(tmp_path, {
        "pb-1": network(port),
        "pb-2": file(tmp_path / "pb-2.bin"),
        "pa-1": file(tmp_path / "pa-1.bin", width=58),
    }, printing_toml)
    return ext(make_app(sqlite_url, config_path=config)).ctx


@pytest.fixture
def ctx(make_app, sqlite_url, tmp_path, printer) -> Turnos:
    return app_with_printer(make_app, sqlite_url, tmp_path, printer.port)


@pytest.fixture
def worker(ctx: Turnos) -> PrintWorker:
    return PrintWorker(ctx, status_timeout=STATUS_TIMEOUT, send_timeout=2.0)


def job(ctx: Turnos, job_id: int):
    with ctx.db.read() as conn:
        return conn.execute(select(PrintJob).where(PrintJob.id == job_id)).one()


def state_of(ctx: Turnos, printer_id: str = "pb-1"):
    return next(p for p in printer_states(ctx) if p.id == printer_id)


# --- the device ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "status"),
    [
        ("online", PrinterStatus.ONLINE),
        ("paper_near_end", PrinterStatus.PAPER_NEAR_END),
        ("paper_out", PrinterStatus.PAPER_OUT),
        ("cover_open", PrinterStatus.OFFLINE),
        ("garbage", PrinterStatus.UNKNOWN),
    ],
)
def test_the_status_is_read_from_the_printers_answers_to_dle_eot(mode, status):
    with fake_printer(mode) as fake:
        assert NetworkPrinter("127.0.0.1", fake.port).status(timeout=2.0) is status
        assert fake.connections == [b"\x10\x04\x04\x10\x04\x01"]


def test_a_printer_that_does_not_answer_status_requests_is_unknown_not_fine():
    with fake_printer("silent") as fake:
        started = time.monotonic()
        status = NetworkPrinter("127.0.0.1", fake.port).status(timeout=STATUS_TIMEOUT)
        waited = time.monotonic() - started

    assert status is PrinterStatus.UNKNOWN
    assert STATUS_TIMEOUT * 0.9 <= waited < STATUS_TIMEOUT + 1.0


def test_a_refused_connection_means_the_printer_is_offline():
    device = NetworkPrinter("127.0.0.1", refused_port())

    assert device.status(timeout=1.0) is PrinterStatus.OFFLINE
    with pytest.raises(PrinterError) as failure:
        device.send(b"\x1b@", timeout=1.0)
    assert failure.value.status is PrinterStatus.OFFLINE
    assert "refused" in failure.value.message


def test_send_delivers_the_bytes_exactly_in_one_connection(printer):
    data = WPC1252 + bytes(range(256)) * 40 + b"\x1dV\x00"

    NetworkPrinter("127.0.0.1", printer.port).send(data, timeout=2.0)

    assert wait_for(lambda: printer.printed == [data])


def wait_for(condition: Callable[[], bool], seconds: float = 2.0) -> bool:
    """The fake records on its own threads: give them a moment."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# --- the worker ----------------------------------------------------------------------------


def test_an_online_printer_prints_the_queued_ticket_once(ctx, worker, printer):
    ticket, job_id = issue_and_queue(ctx, service="LIC-RENOV")

    outcomes = worker.pump(check_idle=False)

    assert [(o.job_id, o.status) for o in outcomes] == [(job_id, "printed")]
    assert wait_for(lambda: len(printer.printed) == 1)
    paper = printer.printed[0]
    assert paper.startswith(WPC1252)
    assert ticket.number.encode() in paper and b"Renovaci\xf3n de licencia" in paper
    assert f"{ctx.config.base_url}/t/{ticket.follow_token}".encode() in paper
    assert job(ctx, job_id).status == "printed" and job(ctx, job_id).attempts == 1
    assert state_of(ctx).status is PrinterStatus.ONLINE
    assert worker.pump(check_idle=False) == []  # nothing printed twice


def test_out_of_paper_nothing_is_sent_and_the_job_waits_until_the_paper_is_back(
    ctx, worker, printer, clock: FrozenClock
):
    printer.mode = "paper_out"
    ticket, job_id = issue_and_queue(ctx)

    assert [o.status for o in worker.pump(check_idle=False)] == ["queued"]
    assert printer.printed == []
    waiting = job(ctx, job_id)
    assert (waiting.status, waiting.attempts, waiting.last_error) == ("queued", 1, "out of paper")
    assert waiting.next_attempt_at == clock.now() + dt.timedelta(seconds=5)
    state = state_of(ctx)
    assert (state.status, state.queued_jobs) == (PrinterStatus.PAPER_OUT, 1)

    printer.mode = "online"
    assert worker.pump(check_idle=False) == []  # not due yet
    clock.advance(seconds=5)
    assert [o.status for o in worker.pump(check_idle=False)] == ["printed"]
    assert wait_for(lambda: len(printer.printed) == 1)
    assert ticket.number.encode() in printer.printed[0]
    assert state_of(ctx).status is PrinterStatus.ONLINE

    with ctx.db.read() as conn:
        row = conn.execute(select(Ticket.number, Ticket.status)
                           .where(Ticket.id == ticket.id)).one()
    assert tuple(row) == (ticket.number, "waiting")  # printing never touched the ticket


def test_each_failed_attempt_waits_twice_as_long_as_the_one_before(ctx, worker, printer, clock):
    printer.mode = "paper_out"
    _, job_id = issue_and_queue(ctx)

    waits = []
    for _ in range(3):
        worker.pump(check_idle=False)
        waits.append((job(ctx, job_id).next_attempt_at - clock.now()).total_seconds())
        clock.set(job(ctx, job_id).next_attempt_at)

    assert waits == [5, 10, 20]


def test_a_silent_printer_is_still_sent_the_ticket_and_shown_as_unknown(
    make_app, sqlite_url, tmp_path
):
    with fake_printer("silent") as silent:
        ctx = app_with_printer(make_app, sqlite_url, tmp_path, silent.port)
        ticket, job_id = issue_and_queue(ctx)

        outcomes = PrintWorker(ctx, status_timeout=STATUS_TIMEOUT).pump(check_idle=False)

        assert [o.status for o in outcomes] == ["printed"]
        assert wait_for(lambda: len(silent.printed) == 1)
        assert ticket.number.encode() in silent.printed[0]
    state = state_of(ctx)
    assert state.status is PrinterStatus.UNKNOWN
    assert "does not report its status" in state.message


def test_a_printer_nobody_answers_for_is_offline_and_its_job_waits(make_app, sqlite_url, tmp_path):
    ctx = app_with_printer(make_app, sqlite_url, tmp_path, refused_port())
    _, job_id = issue_and_queue(ctx)

    outcomes = PrintWorker(ctx, status_timeout=STATUS_TIMEOUT).pump(check_idle=False)

    assert [o.status for o in outcomes] == ["queued"]
    assert state_of(ctx).status is PrinterStatus.OFFLINE
    assert (job(ctx, job_id).status, job(ctx, job_id).attempts) == ("queued", 1)


@pytest.mark.parametrize(("on_give_up", "status"), [("cancel", "cancelled"), ("keep", "failed")])
def test_a_job_not_printed_in_time_is_given_up_as_configured_and_never_printed_later(
    make_app, sqlite_url, tmp_path, printer, clock, on_give_up, status
):
    ctx = app_with_printer(make_app, sqlite_url, tmp_path, printer.port,
                           f'give_up_after_minutes = 15\non_give_up = "{on_give_up}"')
    worker = PrintWorker(ctx, status_timeout=STATUS_TIMEOUT)
    printer.mode = "paper_out"
    _, job_id = issue_and_queue(ctx)
    worker.pump(check_idle=False)

    clock.advance(minutes=14)
    assert [o.status for o in worker.pump(check_idle=False)] == ["queued"]
    clock.advance(minutes=1, seconds=1)
    assert [(o.job_id, o.status) for o in worker.pump(check_idle=False)] == [(job_id, status)]

    printer.mode = "online"
    clock.advance(minutes=5)
    assert worker.pump(check_idle=False) == []
    assert printer.printed == []
    given_up = job(ctx, job_id)
    assert given_up.status == status
    assert given_up.last_error == "not printed within 15 min; last error: out of paper"
    assert state_of(ctx).failed_jobs == (1 if on_give_up == "keep" else 0)
    assert state_of(ctx).queued_jobs == 0


def test_a_job_found_only_after_the_give_up_time_is_not_printed(ctx, worker, printer, clock):
    _, job_id = issue_and_queue(ctx)
    clock.advance(minutes=15, seconds=1)  # the server was down meanwhile

    assert [o.status for o in worker.pump(check_idle=False)] == ["cancelled"]
    assert printer.printed == []
