"""Printer connections behind one small interface: send bytes, ask for the status.

Network printers (raw TCP, usually port 9100) are spoken to directly, so that the status can be
read with a timeout and silence told apart from an answer: python-escpos reports "paper OK"
when a printer does not answer, and a printer that does not answer has told us nothing.
USB, serial and CUPS printers go through python-escpos' own printer classes, imported only when
used, so that a missing pyusb, pyserial or pycups breaks only the printers that need it and
says which package to install.
A file sink appends the bytes to a file (or writes one file per job into a directory), for
development and for the demo.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from server.config_types import Printer, PrinterKind

__all__ = [
    "DLE_EOT_PAPER",
    "DLE_EOT_PRINTER",
    "FilePrinter",
    "MissingDriver",
    "NetworkPrinter",
    "PrinterDevice",
    "PrinterError",
    "PrinterStatus",
    "device_for",
    "status_from_answers",
]

log = logging.getLogger(__name__)

# Real-time status requests (answered even while the printer is busy or out of paper).
DLE_EOT_PRINTER = b"\x10\x04\x01"  # printer status: bit 3 = offline
DLE_EOT_PAPER = b"\x10\x04\x04"  # roll paper sensor: bits 2-3 near end, bits 5-6 paper out

# Both answers have bits 1 and 4 set and bits 0 and 7 clear; anything else is not an answer.
_FIXED_MASK, _FIXED_BITS = 0b1001_0011, 0b0001_0010
_OFFLINE = 0b0000_1000
_NEAR_END = 0b0000_1100
_PAPER_END = 0b0110_0000


class PrinterStatus(StrEnum):
    ONLINE = "online"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"
    # The printer did not say (no answer, or a connection that cannot ask).
    UNKNOWN = "unknown"

    @property
    def may_print(self) -> bool:
        """Worth sending a job: unknown is tried, since silence is not a refusal."""
        return self not in (PrinterStatus.PAPER_OUT, PrinterStatus.OFFLINE)


class PrinterError(Exception):
    """Sending failed; `status` is what the failure says about the printer."""

    def __init__(self, message: str, status: PrinterStatus = PrinterStatus.OFFLINE) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class MissingDriver(PrinterError):
    """The optional package a kind of printer needs is not installed."""


class PrinterDevice(Protocol):
    def send(self, data: bytes, timeout: float) -> None:
        """Deliver `data` to the printer or raise PrinterError; never waits past `timeout`
        for any one step."""

    def status(self, timeout: float) -> PrinterStatus:
        """Ask the printer how it is; UNKNOWN when it does not say."""


def status_from_answers(paper: int | None, printer: int | None) -> PrinterStatus:
    """Read the answers to DLE EOT 4 (paper sensor) and DLE EOT 1 (printer status)."""
    if paper is None or paper & _FIXED_MASK != _FIXED_BITS:
        return PrinterStatus.UNKNOWN
    # Printers go offline when the paper runs out, so paper-out is the more useful news.
    if paper & _PAPER_END:
        return PrinterStatus.PAPER_OUT
    if printer is not None and printer & _FIXED_MASK == _FIXED_BITS and printer & _OFFLINE:
        return PrinterStatus.OFFLINE
    if paper & _NEAR_END:
        return PrinterStatus.PAPER_NEAR_END
    return PrinterStatus.ONLINE


class NetworkPrinter:
    """An ESC/POS printer on raw TCP (JetDirect, port 9100)."""

    def __init__(self, host: str, port: int = 9100) -> None:
        self.host, self.port = host, port

    def __repr__(self) -> str:
        return f"NetworkPrinter({self.host}:{self.port})"

    def _connect(self, timeout: float) -> socket.socket:
        try:
            return socket.create_connection((self.host, self.port), timeout=timeout)
        except OSError as error:
            raise PrinterError(f"cannot connect to {self.host}:{self.port}: "
                               f"{_reason(error)}") from error

    def send(self, data: bytes, timeout: float) -> None:
        with self._connect(timeout) as sock:
            try:
                sock.settimeout(timeout)
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
            except OSError as error:
                raise PrinterError(f"sending to {self.host}:{self.port} failed: "
                                   f"{_reason(error)}") from error

    def status(self, timeout: float) -> PrinterStatus:
        try:
            sock = self._connect(timeout)
        except PrinterError:
            return PrinterStatus.OFFLINE
        with sock:
            try:
                # Both requests at once; the answers come back in order, one byte each.
                sock.sendall(DLE_EOT_PAPER + DLE_EOT_PRINTER)
                answers = _read_up_to(sock, 2, timeout)
            except OSError:
                return PrinterStatus.OFFLINE
        return status_from_answers(*(list(answers) + [None, None])[:2])


def _read_up_to(sock: socket.socket, count: int, timeout: float) -> bytes:
    """At most `count` bytes, whatever arrived before `timeout` seconds passed."""
    deadline = time.monotonic() + timeout
    received = b""
    while len(received) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(count - len(received))
        except TimeoutError:
            break
        if not chunk:
            break
        received += chunk
    return received


def _reason(error: OSError) -> str:
    if isinstance(error, TimeoutError):
        return "timed out"
    return error.strerror or str(error) or type(error).__name__


class FilePrinter:
    """Development sink: appends to a file, or writes one file per job into a directory."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"FilePrinter({self.path})"

    def send(self, data: bytes, timeout: float) -> None:
        del timeout  # local files do not hang
        try:
            if self.path.is_dir():
                target = self.path / f"{time.time_ns()}.bin"
                with open(target, "xb") as out:
                    out.write(data)
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "ab") as out:
                out.write(data)
        except OSError as error:
            raise PrinterError(f"cannot write {self.path}: {_reason(error)}") from error

    def status(self, timeout: float) -> PrinterStatus:
        del timeout
        return PrinterStatus.ONLINE


class _EscposPrinter:
    """USB, serial and CUPS printers through python-escpos; imported when first used."""

    # (module under escpos.printer, class, the package that module needs)
    DRIVERS: dict[PrinterKind, tuple[str, str, str]] = {
        PrinterKind.USB: ("usb", "Usb", "pyusb"),
        PrinterKind.SERIAL: ("serial", "Serial", "pyserial"),
        PrinterKind.CUPS: ("cups", "CupsPrinter", "pycups"),
    }

    def __init__(self, config: Printer) -> None:
        self.config = config

    def __repr__(self) -> str:
        return f"{self.config.kind.value} printer {self.config.id}"

    def _printer(self, timeout: float) -> Any:
        import importlib

        module_name, class_name, package = self.DRIVERS[self.config.kind]
        module = importlib.import_module(f"escpos.printer.{module_name}")
        if not module.is_usable():
            raise MissingDriver(
                f"{self.config.kind.value} printers need the {package} package: "
                f"pip install {package}"
            )
        cls = getattr(module, class_name)
        if self.config.kind is PrinterKind.USB:
            # pyusb counts in milliseconds.
            return cls(self.config.vendor_id, self.config.product_id,
                       timeout=max(1, int(timeout * 1000)))
        if self.config.kind is PrinterKind.SERIAL:
            return cls(devfile=self.config.device, baudrate=self.config.baudrate,
                       timeout=timeout)
        return cls(printer_name=self.config.queue)

    def send(self, data: bytes, timeout: float) -> None:
        printer = self._printer(timeout)
        try:
            printer.open()
            printer._raw(data)
            printer.close()
        except PrinterError:
            raise
        except Exception as error:  # each driver has its own errors; all mean "not printed"
            raise PrinterError(f"{self!r}: {error}") from error

    def status(self, timeout: float) -> PrinterStatus:
        try:
            printer = self._printer(timeout)
            printer.open()
        except MissingDriver:
            raise
        except Exception:
            return PrinterStatus.OFFLINE
        try:
            if self.config.kind is PrinterKind.CUPS:
                # CUPS knows whether its queue is stopped, not whether there is paper.
                state = printer.printers.get(self.config.queue, {}).get("printer-state")
                return PrinterStatus.OFFLINE if state in (None, 5) else PrinterStatus.UNKNOWN
            paper = bytes(printer.query_status(DLE_EOT_PAPER))[:1]
            online = bytes(printer.query_status(DLE_EOT_PRINTER))[:1]
            return status_from_answers(paper[0] if paper else None,
                                       online[0] if online else None)
        except Exception:
            log.debug("%r: status not readable", self, exc_info=True)
            return PrinterStatus.UNKNOWN
        finally:
            try:
                printer.close()
            except Exception:
                log.debug("%r: close failed", self, exc_info=True)


def device_for(printer: Printer) -> PrinterDevice:
    """The device for one `[[printers]]` entry of config.toml."""
    if printer.kind is PrinterKind.NETWORK:
        assert printer.host is not None
        return NetworkPrinter(printer.host, printer.port)
    if printer.kind is PrinterKind.FILE:
        assert printer.path is not None
        return FilePrinter(printer.path)
    return _EscposPrinter(printer)
