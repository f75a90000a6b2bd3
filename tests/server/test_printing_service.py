"""Print jobs as the rest of Turnos sees them: queued with the ticket, printed by the worker,
visible in GET /api/v1/printers and driven from `turnos printers`."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from PIL import Image
from sqlalchemy import func, select, update

from printers.devices import PrinterStatus
from server.cli import main
from server.context import Turnos
from server.extensions import ext
from server.models import PrintJob
from server.services import issuing
from server.services.print_worker import PrintWorker, worker_of
from server.services.printing import (
    check_printers,
    enqueue_ticket_print,
    printer_states,
    queue_test_page,
    ticket_payload,
)
from tests.conftest import Auth
from tests.printers.fake_printer import FakePrinter, fake_printer
from tests.support.printing import config_with_printers, file, issue_and_queue, network

WPC1252 = b"\x1b@\x1bt\x10"


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    with fake_printer("online") as fake:
        yield fake


@pytest.fixture
def config_path(tmp_path: Path, printer: FakePrinter) -> Path:
    """pb-1 is the fake network printer, pb-2 a file, pa-1 a directory of 58 mm jobs."""
    (tmp_path / "pa-1").mkdir()
    return config_with_printers(tmp_path, {
        "pb-1": network(printer.port),
        "pb-2": file(tmp_path / "out" / "pb-2.bin"),
        "pa-1": file(tmp_path / "pa-1", width=58),
    })


@pytest.fixture
def app(make_app: Callable[..., Flask], database_url: str, config_path: Path) -> Flask:
    return make_app(database_url, config_path=config_path)


@pytest.fixture
def ctx(app: Flask) -> Turnos:
    return ext(app).ctx


def jobs(ctx: Turnos) -> list:
    with ctx.db.read() as conn:
        return conn.execute(select(PrintJob).order_by(PrintJob.id)).all()


# --- queueing with the ticket ----------------------------------------------------------------


def test_a_print_job_queued_in_the_tickets_transaction_is_stored_with_it(ctx):
    issued = issuing.issue_ticket(ctx, issuing.IssueRequest("ACTA"), caller="k",
                                  key=uuid.uuid4().hex)
    now = ctx.clock.now()

    with ctx.db.write() as conn:
        job_id = enqueue_ticket_print(conn, ticket_id=issued.ticket.id, printer_id="pa-1",
                                      payload={"number": issued.ticket.number}, now=now)

    [job] = jobs(ctx)
    assert (job.id, job.ticket_id, job.printer_id, job.kind, job.status) == (
        job_id, issued.ticket.id, "pa-1", "ticket", "queued")
    assert (job.created_at, job.next_attempt_at, job.attempts) == (now, now, 0)
    assert job.payload == {"number": issued.ticket.number}


def test_a_print_job_rolls_back_with_a_transaction_that_fails(ctx):
    issued = issuing.issue_ticket(ctx, issuing.IssueRequest("ACTA"), caller="k",
                                  key=uuid.uuid4().hex)

    with pytest.raises(RuntimeError), ctx.db.write() as conn:
        enqueue_ticket_print(conn, ticket_id=issued.ticket.id, printer_id="pa-1",
                             payload={}, now=ctx.clock.now())
        raise RuntimeError("the ticket's transaction failed after queueing its paper")

    assert jobs(ctx) == []


def test_the_payload_holds_the_ticket_as_printed_in_csa_local_time(ctx):
    ticket, _ = issue_and_queue(ctx, service="LIC-NUEVA", preferential="senior")

    payload = ticket_payload(ctx.config, ticket, estimated_wait_minutes=40)

    assert payload == {
        "csa_name": "Centro de Servicios Administrativos Zona Centro",
        "agency_name": "Licencias de Conducir",
        "service_name": "Licencia de conducir por primera vez",
        "number": "L-001",
        "preferential": True,
        "issued_at_local": "23/11/2026 10:00",  # 16:00 UTC in Mexico City
        "position": 1,
        "estimated_wait_minutes": 40,
        "follow_url": f"http://127.0.0.1:8000/t/{ticket.follow_token}",
        "locale": "es_MX",
    }
    english = ticket_payload(ctx.config, ticket, locale="en")
    assert (english["service_name"], english["locale"]) == ("First driving licence", "en")


# --- the worker on file printers, and its safety nets ---------------------------------------


def test_a_file_printer_appends_each_ticket_and_a_directory_gets_one_file_per_ticket(
    ctx, tmp_path
):
    first, _ = issue_and_queue(ctx, service="CAJA", printer="pb-2")
    second, _ = issue_and_queue(ctx, service="CAJA", printer="pb-2")
    third, _ = issue_and_queue(ctx, service="ACTA", printer="pa-1")

    outcomes = PrintWorker(ctx).pump(check_idle=False)

    assert [o.status for o in outcomes] == ["printed"] * 3
    appended = (tmp_path / "out" / "pb-2.bin").read_bytes()
    assert appended.count(WPC1252) == 2
    assert appended.index(first.number.encode()) < appended.index(second.number.encode())
    [page] = (tmp_path / "pa-1").iterdir()
    assert third.number.encode() in page.read_bytes()
    assert b"\x1d!\x33" in page.read_bytes()  # pa-1 has 58 mm paper


def test_the_configured_logo_heads_every_ticket(make_app, sqlite_url, tmp_path):
    logo = tmp_path / "logo.png"
    Image.new("1", (200, 40)).save(logo)
    config = config_with_printers(tmp_path, {
        "pb-1": file(tmp_path / "pb-1.bin"), "pb-2": file(tmp_path / "pb-2.bin"),
        "pa-1": file(tmp_path / "pa-1.bin"),
    }, 'logo = "logo.png"')
    ctx = ext(make_app(sqlite_url, config_path=config)).ctx
    issue_and_queue(ctx)

    PrintWorker(ctx).pump(check_idle=False)

    paper = (tmp_path / "pb-1.bin").read_bytes()
    assert paper.index(b"\x1dv0") < paper.index(b"R-001")


def test_a_job_left_half_printed_by_a_crash_is_sent_again_after_recovery(ctx, tmp_path):
    ticket, job_id = issue_and_queue(ctx, printer="pb-2")
    with ctx.db.write() as conn:
        conn.execute(update(PrintJob).where(PrintJob.id == job_id).values(status="printing"))
    worker = PrintWorker(ctx)

    assert worker.pump(check_idle=False) == []  # someone else holds it
    worker.recover()
    assert [o.status for o in worker.pump(check_idle=False)] == ["printed"]
    assert ticket.number.encode() in (tmp_path / "out" / "pb-2.bin").read_bytes()


def test_a_job_for_a_printer_no_longer_configured_waits_instead_of_failing_the_worker(ctx):
    ticket, _ = issue_and_queue(ctx, printer="pb-2")
    with ctx.db.write() as conn:
        enqueue_ticket_print(conn, ticket_id=ticket.id, printer_id="gone", payload={},
                             now=ctx.clock.now())

    outcomes = PrintWorker(ctx).pump(check_idle=False)

    assert sorted((o.printer_id, o.status) for o in outcomes) == [
        ("gone", "queued"), ("pb-2", "printed")]
    assert "not in config.toml" in next(o.error for o in outcomes if o.printer_id == "gone")


def test_a_job_that_cannot_be_rendered_fails_at_once_rather_than_retrying(ctx):
    ticket, _ = issue_and_queue(ctx, printer="pb-2")
    with ctx.db.write() as conn:
        enqueue_ticket_print(conn, ticket_id=ticket.id, printer_id="pb-2",
                             payload={"number": "A-001"}, now=ctx.clock.now())

    outcomes = PrintWorker(ctx).pump(check_idle=False)

    assert [o.status for o in outcomes] == ["printed", "failed"]
    assert "cannot render" in outcomes[1].error


def test_idle_printers_are_checked_once_a_minute_not_on_every_pass(ctx, printer, clock):
    worker = PrintWorker(ctx, status_timeout=0.5)

    worker.pump()
    worker.pump()
    assert printer.status_queries == 2  # one DLE EOT 4 and one DLE EOT 1, once
    assert {p.id: p.status for p in printer_states(ctx)} == {
        "pb-1": PrinterStatus.ONLINE, "pb-2": PrinterStatus.ONLINE, "pa-1": PrinterStatus.ONLINE}

    clock.advance(seconds=60)
    printer.mode = "paper_near_end"
    worker.pump()
    assert printer.status_queries == 4
    state = printer_states(ctx)[0]
    assert (state.status, state.message) == (PrinterStatus.PAPER_NEAR_END, "paper is running out")


# --- GET /api/v1/printers --------------------------------------------------------------------


def test_printers_are_listed_for_staff_with_their_state_and_queued_jobs(app, ctx, printer, clock):
    auth = Auth(ctx)
    printer.mode = "paper_out"
    issue_and_queue(ctx, printer="pb-1")
    worker_of(app).status_timeout = 0.5
    worker_of(app).pump(check_idle=False)

    response = app.test_client().get("/api/v1/printers", headers=auth("staff"))

    assert response.status_code == 200
    assert response.get_json() == {"printers": [
        {"id": "pb-1", "kind": "network", "status": "paper_out", "message": "out of paper",
         "checked_at": "2026-11-23T16:00:00Z", "queued_jobs": 1, "failed_jobs": 0},
        {"id": "pb-2", "kind": "file", "status": "unknown", "message": "not checked yet",
         "checked_at": None, "queued_jobs": 0, "failed_jobs": 0},
        {"id": "pa-1", "kind": "file", "status": "unknown", "message": "not checked yet",
         "checked_at": None, "queued_jobs": 0, "failed_jobs": 0},
    ]}


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("kiosk", 403), ("display", 403),
                                              ("admin", 200)])
def test_only_staff_and_admins_may_see_the_printers(app, ctx, role, status):
    headers = Auth(ctx)(role) if role else {}

    assert app.test_client().get("/api/v1/printers", headers=headers).status_code == status


# --- turnos printers ... ---------------------------------------------------------------------


def run_cli(config_path: Path, database_url: str, *args: str):
    return CliRunner().invoke(main, ["--config", str(config_path), "printers", *args],
                              env={"TURNOS_DATABASE_URL": database_url})


def test_printers_status_asks_each_printer_now_and_prints_a_table(
    app, config_path, database_url, printer
):
    printer.mode = "paper_out"

    result = run_cli(config_path, database_url, "status", "--timeout", "0.5")

    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split() == ["PRINTER", "KIND", "STATUS", "QUEUED", "FAILED", "MESSAGE"]
    assert rows[0].split() == ["pb-1", "network", "paper_out", "0", "0", "out", "of", "paper"]
    assert [row.split()[:3] for row in rows[1:]] == [["pb-2", "file", "online"],
                                                     ["pa-1", "file", "online"]]
    assert printer.status_queries == 2


def test_printers_test_prints_a_test_page_at_once(app, config_path, database_url, printer):
    result = run_cli(config_path, database_url, "test", "pb-1")

    assert result.exit_code == 0, result.output
    assert result.output == "pb-1: test page printed\n"
    [page] = printer.printed
    assert page.startswith(WPC1252) and b"P\xe1gina de prueba" in page


def test_printers_test_on_a_printer_out_of_paper_says_so_and_leaves_nothing_queued(
    app, ctx, config_path, database_url, printer
):
    printer.mode = "paper_out"

    result = run_cli(config_path, database_url, "test", "pb-1")

    assert result.exit_code == 1
    assert "pb-1: test page not printed: out of paper" in result.output
    assert printer.printed == []
    assert [job.status for job in jobs(ctx)] == ["cancelled"]


def test_printers_test_names_the_known_printers_when_given_an_unknown_one(
    app, config_path, database_url
):
    result = run_cli(config_path, database_url, "test", "pb-9")

    assert result.exit_code == 1
    assert "there is no printer 'pb-9' (printers: pb-1, pb-2, pa-1)" in result.output


def test_a_test_page_for_an_unknown_printer_is_not_queued(ctx):
    with pytest.raises(KeyError):
        queue_test_page(ctx, "pb-9")
    with ctx.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(PrintJob)).scalar_one() == 0


def test_a_usb_printer_without_pyusb_shows_as_offline_with_what_to_install(
    make_app, sqlite_url, tmp_path, monkeypatch
):
    import escpos.printer.usb

    monkeypatch.setattr(escpos.printer.usb, "_DEP_USB", False)
    config = config_with_printers(tmp_path, {
        "pb-1": 'kind = "usb"\nvendor_id = 0x04b8\nproduct_id = 0x0202',
        "pb-2": file(tmp_path / "pb-2.bin"), "pa-1": file(tmp_path / "pa-1.bin"),
    })
    ctx = ext(make_app(sqlite_url, config_path=config)).ctx

    states = check_printers(ctx)

    assert (states[0].id, states[0].status) == ("pb-1", PrinterStatus.OFFLINE)
    assert "pip install pyusb" in states[0].message
