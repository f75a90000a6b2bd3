"""The receipt as a one-page PDF: what the citizen keeps as proof of having been served.

The page is drawn directly into a pyHanko writer (text in the embedded DejaVu Sans subset of
`server.receipts.fonts`, the QR code as vector squares), so that `signing.ReceiptSigner` can
sign the very same in-memory writer without writing and re-reading the file.

The words on the receipt live here in Spanish and English rather than in the Flask-Babel
catalog: receipts are made by a worker, outside any request, and their wording is fixed.
"""

from __future__ import annotations

import datetime as dt
import io
import zlib
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import segno
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

from server.receipts.fonts import BOLD, REGULAR, ReceiptFont, load_font, pdf_string

__all__ = ["PAGE_SIZES", "ReceiptContent", "ReceiptPage", "build_page", "render_pdf"]

# Points (1/72 in).
PAGE_SIZES = {"letter": (612.0, 792.0), "a4": (595.28, 841.89)}
MARGIN = 50.0
# Where the visible signature stamp goes: (x1, y1, x2, y2) from the page's lower left corner.
STAMP_HEIGHT = 60.0
# Key of the document information dictionary that holds the receipt folio (read back by
# `verification.verify_pdf`; it is covered by the signature like everything else).
FOLIO_KEY = "/TurnosReceiptFolio"
OUTCOMES = ("resolved", "follow_up", "rejected")

_name = generic.NameObject

WORDS = {
    "es_MX": {
        "title": "Comprobante de atención",
        "ticket": "Turno",
        "service": "Trámite o servicio",
        "counter": "Ventanilla",
        "staff": "Atendió",
        "issued": "Turno emitido",
        "called": "Llamado a ventanilla",
        "started": "Inicio de la atención",
        "completed": "Conclusión",
        "outcome": "Resultado",
        "procedure_folio": "Folio del trámite",
        "note": "Observaciones",
        "receipt_folio": "Folio del comprobante",
        "times": "Horas locales del centro ({zone})",
        "verify": "Verifique la autenticidad de este comprobante escaneando el código QR o en:",
        "privacy": (
            "Aviso de privacidad: este comprobante no contiene datos personales del ciudadano. "
            "Los datos de la atención se conservan solo para fines de control y mejora del "
            "servicio, conforme a la legislación de protección de datos personales aplicable."
        ),
        "stamp": "Firmado electrónicamente por:\n%(signer)s\nFecha: %(ts)s\nFolio: %(folio)s",
        "resolved": "Resuelto",
        "follow_up": "Requiere seguimiento",
        "rejected": "No procedente",
        "date": "%d/%m/%Y %H:%M:%S",
    },
    "en": {
        "title": "Service receipt",
        "ticket": "Ticket",
        "service": "Service",
        "counter": "Counter",
        "staff": "Served by",
        "issued": "Ticket issued",
        "called": "Called to the counter",
        "started": "Service started",
        "completed": "Service completed",
        "outcome": "Outcome",
        "procedure_folio": "Procedure folio",
        "note": "Note",
        "receipt_folio": "Receipt folio",
        "times": "Local times of the centre ({zone})",
        "verify": "Check that this receipt is authentic by scanning the QR code or at:",
        "privacy": (
            "Privacy notice: this receipt holds no personal data of the citizen. The service "
            "record is kept only to run and improve the service, under the applicable personal "
            "data protection law."
        ),
        "stamp": "Electronically signed by:\n%(signer)s\nDate: %(ts)s\nFolio: %(folio)s",
        "resolved": "Resolved",
        "follow_up": "Needs follow-up",
        "rejected": "Rejected",
        "date": "%Y-%m-%d %H:%M:%S",
    },
}


@dataclass(frozen=True, slots=True)
class ReceiptContent:
    """Everything one receipt says; times are aware UTC datetimes, printed in `timezone`."""

    receipt_folio: str
    csa_name: str
    agency_name: str
    service_code: str
    service_name: str
    ticket_number: str
    counter_name: str | None      # None when the ticket never reached a counter
    staff_name: str | None
    issued_at: dt.datetime
    called_at: dt.datetime | None
    started_at: dt.datetime | None
    completed_at: dt.datetime
    outcome: str
    procedure_folio: str | None
    note: str | None
    verify_url: str
    timezone: ZoneInfo
    locale: str = "es_MX"

    def words(self) -> dict[str, str]:
        """The receipt's wording in its language (Spanish unless English was asked for)."""
        return WORDS["en"] if self.locale.startswith("en") else WORDS["es_MX"]


@dataclass(frozen=True, slots=True)
class ReceiptPage:
    """A receipt drawn into a writer that has not been written out yet."""

    writer: PdfFileWriter
    regular_font: generic.IndirectObject
    stamp_box: tuple[int, int, int, int]


def render_pdf(content: ReceiptContent, page_size: str = "letter") -> bytes:
    """The receipt as an unsigned one-page PDF."""
    page = build_page(content, page_size)
    out = io.BytesIO()
    page.writer.write(out)
    return out.getvalue()


def build_page(content: ReceiptContent, page_size: str = "letter") -> ReceiptPage:
    """Draw the receipt into a new writer; the signer adds the signature to the same writer."""
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page_size must be one of {sorted(PAGE_SIZES)}, got {page_size!r}")
    if content.outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, got {content.outcome!r}")
    width, height = PAGE_SIZES[page_size]
    regular, bold = load_font(REGULAR), load_font(BOLD)
    canvas = _Canvas(regular, bold)
    stamp_box = _draw(canvas, content, width, height)

    info = generic.DictionaryObject({
        _name("/Title"): generic.TextStringObject(
            f"{content.words()['title']} {content.receipt_folio}"),
        _name("/Author"): generic.TextStringObject(content.csa_name),
        _name("/Creator"): generic.TextStringObject("Turnos"),
        _name(FOLIO_KEY): generic.TextStringObject(content.receipt_folio),
    })
    writer = PdfFileWriter(info=info)
    regular_ref, bold_ref = regular.add_to(writer), bold.add_to(writer)
    stream = generic.StreamObject(
        {_name("/Filter"): _name("/FlateDecode")},
        encoded_data=zlib.compress(canvas.getvalue(), 6),
    )
    resources = generic.DictionaryObject({
        _name("/Font"): generic.DictionaryObject({_name("/F1"): regular_ref,
                                                  _name("/F2"): bold_ref}),
    })
    writer.insert_page(PageObject(writer.add_object(stream), (0, 0, width, height), resources))
    return ReceiptPage(writer=writer, regular_font=regular_ref, stamp_box=stamp_box)


class _Canvas:
    """Content-stream operators for text, lines and filled rectangles."""

    def __init__(self, regular: ReceiptFont, bold: ReceiptFont) -> None:
        self.fonts = {"F1": regular, "F2": bold}
        self.parts: list[bytes] = []

    def text(self, x: float, y: float, text: str, size: float, *, bold: bool = False,
             grey: float = 0.0) -> None:
        font = "F2" if bold else "F1"
        self.parts.append(
            b"BT %.3f g /%s %.1f Tf %.2f %.2f Td %s Tj ET\n"
            % (grey, font.encode(), size, x, y, pdf_string(self.fonts[font].encode(text)))
        )

    def width(self, text: str, size: float, *, bold: bool = False) -> float:
        return self.fonts["F2" if bold else "F1"].width(text, size)

    def wrap(self, text: str, size: float, max_width: float, *, bold: bool = False) -> list[str]:
        """Greedy word wrap; a word longer than a line is cut."""
        lines: list[str] = []
        for paragraph in text.splitlines() or [""]:
            line = ""
            for word in paragraph.split():
                candidate = f"{line} {word}" if line else word
                if self.width(candidate, size, bold=bold) <= max_width:
                    line = candidate
                    continue
                if line:
                    lines.append(line)
                while self.width(word, size, bold=bold) > max_width:
                    cut = len(word)
                    while cut > 1 and self.width(word[:cut], size, bold=bold) > max_width:
                        cut -= 1
                    lines.append(word[:cut])
                    word = word[cut:]
                line = word
            lines.append(line)
        return lines

    def rule(self, x1: float, x2: float, y: float, grey: float = 0.6) -> None:
        self.parts.append(b"%.3f G 0.8 w %.2f %.2f m %.2f %.2f l S\n" % (grey, x1, y, x2, y))

    def box(self, x: float, y: float, w: float, h: float, grey: float) -> None:
        self.parts.append(b"%.3f g %.2f %.2f %.2f %.2f re f\n" % (grey, x, y, w, h))

    def qr(self, data: str, x: float, top: float, size: float) -> None:
        """A QR code of `data`, `size` points wide with its top-left corner at (x, top)."""
        # A fixed mask: choosing the best of eight costs ~10 ms in pure Python and buys nothing
        # a phone camera notices on a printed or on-screen code of this size.
        matrix = segno.make(data, error="m", micro=False, mask=0).matrix
        module = size / len(matrix)
        ops = [b"0 g"]
        for row, cells in enumerate(matrix):
            y = top - (row + 1) * module
            column = 0
            while column < len(cells):
                if cells[column]:
                    start = column
                    while column < len(cells) and cells[column]:
                        column += 1
                    ops.append(b"%.3f %.3f %.3f %.3f re" % (
                        x + start * module, y, (column - start) * module, module))
                else:
                    column += 1
        ops.append(b"f\n")
        self.parts.append(b"\n".join(ops))

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def _local(moment: dt.datetime | None, zone: ZoneInfo, pattern: str) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("receipt times must be timezone-aware")
    return moment.astimezone(zone).strftime(pattern)


def _draw(c: _Canvas, content: ReceiptContent, width: float, height: float
          ) -> tuple[int, int, int, int]:
    """Lay the receipt out top to bottom; return the signature stamp's box."""
    words = content.words()
    left, right = MARGIN, width - MARGIN
    usable = right - left
    y = height - MARGIN - 14

    for line in c.wrap(content.csa_name, 15, usable, bold=True):
        c.text(left, y, line, 15, bold=True)
        y -= 19
    for line in c.wrap(content.agency_name, 12, usable):
        c.text(left, y, line, 12, grey=0.25)
        y -= 16
    y -= 4
    c.rule(left, right, y)
    y -= 30
    c.text(left, y, words["title"], 20, bold=True)

    # Ticket number, large, with the QR code to its right.
    qr_size = 132.0
    qr_x = right - qr_size
    qr_top = y + 14
    c.qr(content.verify_url, qr_x, qr_top, qr_size)
    y -= 30
    c.text(left, y, words["ticket"], 11, grey=0.35)
    y -= 44
    c.text(left, y, content.ticket_number, 44, bold=True)
    y -= 26
    for line in c.wrap(content.service_name, 13, qr_x - left - 12, bold=True):
        c.text(left, y, line, 13, bold=True)
        y -= 17
    y = min(y, qr_top - qr_size) - 14

    zone, pattern = content.timezone, words["date"]
    rows: list[tuple[str, str | None]] = [
        (words["counter"], content.counter_name),
        (words["staff"], content.staff_name),
        (words["issued"], _local(content.issued_at, zone, pattern)),
        (words["called"], _local(content.called_at, zone, pattern)),
        (words["started"], _local(content.started_at, zone, pattern)),
        (words["completed"], _local(content.completed_at, zone, pattern)),
        (words["outcome"], words[content.outcome]),
        (words["procedure_folio"], content.procedure_folio),
        (words["note"], content.note),
        (words["receipt_folio"], content.receipt_folio),
    ]
    label_width = 170.0
    value_width = usable - label_width
    c.text(left, y, words["times"].format(zone=zone.key), 9, grey=0.35)
    y -= 8
    wrapped = [(label, c.wrap(value, 12, value_width, bold=True)) for label, value in rows if value]
    # Keep the foot (verification line, stamp, privacy line) on the page: a long note is cut.
    privacy = c.wrap(words["privacy"], 8, usable)
    verify = c.wrap(words["verify"], 10, usable)
    url = c.wrap(content.verify_url, 11, usable, bold=True)
    foot = MARGIN + 10 * len(privacy) + 8 + STAMP_HEIGHT + 13 * len(verify) + 14 * len(url) + 22
    spare_lines = int((y - foot - 33 * len(wrapped)) // 15)
    for label, lines in wrapped:
        extra = len(lines) - 1
        if extra > spare_lines:
            lines = lines[: 1 + max(spare_lines, 0)]
            lines[-1] = lines[-1][: max(len(lines[-1]) - 2, 0)] + " …"
        spare_lines -= len(lines) - 1
        c.rule(left, right, y, grey=0.85)
        y -= 15
        c.text(left, y, label, 11, grey=0.35)
        for line in lines:
            c.text(left + label_width, y, line, 12, bold=True)
            y -= 15
        y -= 3
    c.rule(left, right, y, grey=0.85)

    y -= 22
    for line in verify:
        c.text(left, y, line, 10)
        y -= 13
    for line in url:
        c.text(left, y, line, 11, bold=True)
        y -= 14

    # The signature stamp under the verification line; the privacy line at the foot.
    py = MARGIN + 10 * (len(privacy) - 1)
    for line in privacy:
        c.text(left, py, line, 8, grey=0.3)
        py -= 10
    stamp_top = y - 4
    stamp_bottom = max(stamp_top - STAMP_HEIGHT, MARGIN + 10 * len(privacy) + 4)
    return (int(left), int(stamp_bottom), int(left + 300), int(stamp_bottom + STAMP_HEIGHT))
