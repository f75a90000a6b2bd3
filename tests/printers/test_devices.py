"""Which device each kind of printer gets, and what printers without hardware here report."""

from __future__ import annotations

import escpos.printer.cups
import escpos.printer.serial
import escpos.printer.usb
import pytest

from printers.devices import (
    FilePrinter,
    MissingDriver,
    NetworkPrinter,
    PrinterError,
    PrinterStatus,
    device_for,
    status_from_answers,
)
from server.config_types import Printer, PrinterKind

USB = Printer(id="u", kind=PrinterKind.USB, vendor_id=0x04B8, product_id=0x0202)
SERIAL = Printer(id="s", kind=PrinterKind.SERIAL, device="/dev/ttyS0")
CUPS = Printer(id="c", kind=PrinterKind.CUPS, queue="tickets")


def test_network_and_file_printers_get_their_own_devices(tmp_path):
    network = device_for(Printer(id="n", kind=PrinterKind.NETWORK, host="10.0.0.5", port=9101))
    sink = device_for(Printer(id="f", kind=PrinterKind.FILE, path=str(tmp_path / "f.bin")))

    assert isinstance(network, NetworkPrinter) and (network.host, network.port) == (
        "10.0.0.5", 9101)
    assert isinstance(sink, FilePrinter) and sink.status(timeout=1) is PrinterStatus.ONLINE


@pytest.mark.parametrize(
    ("printer", "module", "flag", "package"),
    [
        (USB, escpos.printer.usb, "_DEP_USB", "pyusb"),
        (SERIAL, escpos.printer.serial, "_DEP_PYSERIAL", "pyserial"),
        (CUPS, escpos.printer.cups, "_DEP_PYCUPS", "pycups"),
    ],
)
def test_a_printer_whose_driver_package_is_missing_says_which_one_to_install(
    monkeypatch, printer, module, flag, package
):
    monkeypatch.setattr(module, flag, False)  # how python-escpos records a failed import
    device = device_for(printer)

    with pytest.raises(MissingDriver, match=f"pip install {package}") as failure:
        device.send(b"\x1b@", timeout=1)
    assert failure.value.status is PrinterStatus.OFFLINE
    with pytest.raises(MissingDriver):
        device.status(timeout=1)


def test_the_file_sink_reports_a_path_it_cannot_write(tmp_path):
    (tmp_path / "taken").write_text("a file where a folder should be")

    with pytest.raises(PrinterError, match="cannot write"):
        FilePrinter(tmp_path / "taken" / "pb-1.bin").send(b"\x1b@", timeout=1)


@pytest.mark.parametrize(
    ("paper", "printer", "status"),
    [
        (0x12, 0x12, PrinterStatus.ONLINE),
        (0x12, None, PrinterStatus.ONLINE),  # only the paper sensor answered
        (0x1E, 0x12, PrinterStatus.PAPER_NEAR_END),
        (0x72, 0x1A, PrinterStatus.PAPER_OUT),
        (0x7E, 0x12, PrinterStatus.PAPER_OUT),
        (0x12, 0x1A, PrinterStatus.OFFLINE),
        (None, 0x12, PrinterStatus.UNKNOWN),
        (0x00, 0x12, PrinterStatus.UNKNOWN),  # fixed bits missing: not a status byte
        (0x12, 0xFF, PrinterStatus.ONLINE),  # a printer byte that is not one is ignored
    ],
)
def test_status_bytes_are_read_by_their_documented_bits(paper, printer, status):
    assert status_from_answers(paper, printer) is status
