"""A ticket taken at the kiosk comes out of its thermal printer, or the kiosk says why not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask

from server.extensions import ext
from server.services import printing
from server.services.print_worker import worker_of
from tests.conftest import Auth
from tests.printers.fake_printer import fake_printer
from tests.support.printing import config_with_printers, file, network

KIOSK = "/kiosk/kiosco-pa-1"  # prints on pa-1


def _config(tmp_path: Path, upstairs_printer: str) -> Path:
    return config_with_printers(tmp_path, {
        "pb-1": file(tmp_path / "pb-1.bin"),
        "pb-2": file(tmp_path / "pb-2.bin"),
        "pa-1": upstairs_printer,
    })


def _paired_kiosk(make_app: Callable[..., Flask], sqlite_url: str, config: Path):
    app = make_app(sqlite_url, config_path=config)
    client = app.test_client()
    secret = Auth(ext(app).ctx).secret("kiosk")
    assert client.post(f"{KIOSK}/pair", json={"token": secret}).status_code == 204
    return app, client


def _take(client, key: str):
    response = client.post(f"{KIOSK}/tickets", json={"service": "MATRI", "key": key},
                           headers={"X-Turnos-Client": "kiosk"})
    assert response.status_code == 201
    return response.get_json()


def test_a_kiosk_ticket_is_printed_on_the_kiosks_printer(
    make_app: Callable[..., Flask], sqlite_url: str, tmp_path: Path
):
    with fake_printer("online") as printer:
        config = _config(tmp_path, network(printer.port))
        app, client = _paired_kiosk(make_app, sqlite_url, config)
        ticket = _take(client, "tap-0001")
        assert ticket["printer"]["ok"] is True
        worker_of(app).pump()
        assert len(printer.printed) == 1
        paper = printer.printed[0]
        assert ticket["number"].encode() in paper
        assert "Matrimonio".encode("cp1252") in paper
        assert ticket["follow_url"].encode() in paper


def test_out_of_paper_keeps_the_ticket_and_tells_the_citizen(
    make_app: Callable[..., Flask], sqlite_url: str, tmp_path: Path
):
    with fake_printer("paper_out") as printer:
        config = _config(tmp_path, network(printer.port))
        app, client = _paired_kiosk(make_app, sqlite_url, config)
        first = _take(client, "tap-0001")
        worker_of(app).pump()
        assert printer.printed == []

        second = _take(client, "tap-0002")
        assert second["printer"]["ok"] is False
        assert "La impresora tiene un problema" in second["printer"]["message"]
        assert second["number"] == "M-002"  # the ticket exists whatever the paper does
        states = {p.id: p for p in printing.printer_states(ext(app).ctx)}
        assert states["pa-1"].status.value == "paper_out"
        assert states["pa-1"].queued_jobs == 2

        printer.mode = "online"
        ext(app).ctx.clock.advance(minutes=2)  # past the retry back-off
        worker_of(app).pump()
        printed = b"".join(printer.printed)
        assert first["number"].encode() in printed
        assert second["number"].encode() in printed
