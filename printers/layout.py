"""What a paper ticket says, as ESC/POS bytes.

The bytes are written by python-escpos' own command writer: its `Dummy` printer collects what
it would send instead of sending it. It gets an explicit profile (Epson TM-T20II, the usual
kiosk printer, narrowed for 58 mm paper), never the library's "default" guess.

Text is printed in one pinned code page, WPC1252 (ESC t 16 in Epson's numbering, which the
common ESC/POS clones follow): it has every Spanish letter and sign (á é í ó ú ñ ü ¿ ¡, their
capitals) plus dashes and quotes. ESC @ resets a printer to its power-on code page, so the
selection is sent again right after every ESC @. Text is encoded here with Python's cp1252
codec rather than the library's "magic" encoder, which would switch code pages by itself
whenever a character is missing and cannot be told that ESC @ reset the printer.
"""

from __future__ import annotations

import io
import re
import textwrap
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from types import MappingProxyType

from escpos.capabilities import Profile, get_profile_class
from escpos.constants import HW_INIT, QR_ECLEVEL_M
from escpos.magicencode import Encoder
from escpos.printer import Dummy

__all__ = [
    "CODE_PAGE",
    "ENGLISH_LABELS",
    "LABELS_BY_LOCALE",
    "PAPER_WIDTHS_MM",
    "SPANISH_LABELS",
    "TicketPrint",
    "labels_for",
    "render_receipt_slip",
    "render_test_page",
    "render_ticket",
]

# Name of the pinned code page in python-escpos' capabilities, and the matching Python codec.
CODE_PAGE = "CP1252"
_CODEC = "cp1252"
_BASE_PROFILE = "TM-T20II"
PAPER_WIDTHS_MM = (58, 80)

SPANISH_LABELS: Mapping[str, str] = MappingProxyType({
    "ticket": "Turno",
    "preferential": "Atención preferente",
    "ahead": "Personas antes de usted",
    "wait": "Espera estimada",
    "minutes": "min",
    "follow": "Siga su turno en su celular:",
    "privacy": "Este turno no contiene datos personales. "
               "Aviso de privacidad en el módulo de información.",
})
ENGLISH_LABELS: Mapping[str, str] = MappingProxyType({
    "ticket": "Ticket",
    "preferential": "Priority service",
    "ahead": "People ahead of you",
    "wait": "Estimated wait",
    "minutes": "min",
    "follow": "Follow your turn on your phone:",
    "privacy": "This ticket holds no personal data. "
               "Privacy notice at the information desk.",
})
LABELS_BY_LOCALE: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {"es_MX": SPANISH_LABELS, "en": ENGLISH_LABELS}
)


def labels_for(locale: str) -> Mapping[str, str]:
    """The fixed words of a ticket in `locale`; Spanish when the locale is unknown."""
    return LABELS_BY_LOCALE.get(locale, SPANISH_LABELS)


@dataclass(frozen=True, slots=True)
class TicketPrint:
    """Everything printed on one ticket, already translated and formatted."""

    csa_name: str
    agency_name: str
    service_name: str
    number: str
    preferential: bool
    # CSA local time, formatted by the caller ("23/11/2026 10:00").
    issued_at_local: str
    # 1-based place in line, as the API reports it; the ticket says how many are ahead.
    position: int | None
    estimated_wait_minutes: int | None
    follow_url: str
    labels: Mapping[str, str] = field(default_factory=lambda: SPANISH_LABELS)


@dataclass(frozen=True, slots=True)
class _Paper:
    """What differs between paper widths: profile, columns and sizes that fit."""

    profile: Profile
    columns: int  # font A
    small_columns: int  # font B
    max_number_scale: int
    qr_module_dots: int
    # ESC t n selecting the pinned code page, n as this profile numbers it.
    code_page_select: bytes
    encoder: Encoder


@cache
def _paper(width_mm: int) -> _Paper:
    """Profiles are built once per width: building one per ticket would cost more than the
    ticket (see docs/performance.md)."""
    if width_mm not in PAPER_WIDTHS_MM:
        raise ValueError(f"paper width must be 58 or 80 mm, got {width_mm}")
    data = dict(get_profile_class(_BASE_PROFILE).profile_data)
    if width_mm == 58:
        # 48 mm printable at 203 dpi: 384 dots, 32 columns of font A, 42 of font B.
        data["media"] = {"dpi": 203, "width": {"mm": 48, "pixels": 384}}
        data["fonts"] = {"0": {"columns": 32, "name": "Font A"},
                         "1": {"columns": 42, "name": "Font B"}}
    profile = Profile(features=data["features"])
    profile.profile_data = data
    if CODE_PAGE not in profile.get_code_pages():  # a profile change upstream would show here
        raise RuntimeError(f"printer profile {_BASE_PROFILE} lacks code page {CODE_PAGE}")
    return _Paper(
        profile=profile,
        code_page_select=b"\x1bt" + bytes([int(profile.get_code_pages()[CODE_PAGE])]),
        encoder=Encoder(profile.get_code_pages()),
        columns=profile.get_columns("a"),
        small_columns=profile.get_columns("b"),
        max_number_scale=6 if width_mm == 80 else 4,
        qr_module_dots=8 if width_mm == 80 else 6,
    )


# Control characters never reach the printer from text; typographic signs the code page
# lacks fall back to plain ones instead of "?".
_TEXT_FIXES = str.maketrans({
    **{chr(c): None for c in range(32) if c != 10},
    "\x7f": None,
    "\u2010": "-", "\u2011": "-", "\u2212": "-",
})
_NEEDS_FIXES = re.compile("[\x00-\x09\x0b-\x1f\x7f\u2010\u2011\u2212]")


def _encode(text: str) -> bytes:
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if _NEEDS_FIXES.search(text):
        text = text.translate(_TEXT_FIXES)
    return text.encode(_CODEC, errors="replace")


class _Ticket:
    """A Dummy printer plus the habits every ticket follows."""

    def __init__(self, paper: _Paper) -> None:
        self.paper = paper
        # Should a library call print text after all, it uses the pinned code page and never
        # switches pages by itself.
        self.p = Dummy(profile=paper.profile, magic_encode_args={
            "encoding": CODE_PAGE, "disabled": True, "encoder": paper.encoder,
        })

    def init(self) -> None:
        """ESC @ and, right after it, the code page it just reset."""
        self.p._raw(HW_INIT + self.paper.code_page_select)

    def line(self, text: str, *, columns: int | None = None) -> None:
        """Text and a line feed, wrapped to the paper (or to `columns` for other sizes)."""
        width = columns or self.paper.columns
        wrapped = textwrap.wrap(text, width) if len(text) > width else [text]
        self.p._raw(_encode("\n".join(wrapped) + "\n"))

    def feed(self, lines: int = 1) -> None:
        self.p._raw(b"\n" * lines)

    def output(self) -> bytes:
        return self.p.output


def render_ticket(ticket: TicketPrint, *, paper_width_mm: int, logo: bytes | None = None) -> bytes:
    """The ESC/POS bytes of one ticket, from initialisation to the cut."""
    paper = _paper(paper_width_mm)
    doc = _Ticket(paper)
    p, labels = doc.p, ticket.labels
    doc.init()
    p.set(align="center")
    if logo:
        p._raw(_logo(logo, paper_width_mm))
    p.set(bold=True)
    doc.line(ticket.csa_name)
    p.set(bold=False)
    doc.line(ticket.agency_name)
    doc.feed()
    doc.line(labels["ticket"])
    scale = max(1, min(paper.max_number_scale, paper.columns // max(1, len(ticket.number))))
    p.set(custom_size=True, width=scale, height=scale, bold=True)
    doc.line(ticket.number, columns=paper.columns // scale)
    p.set(normal_textsize=True, bold=True)  # ESC ! 0 also ends bold: set it again
    doc.line(ticket.service_name)
    p.set(bold=False)
    if ticket.preferential:
        p.set(invert=True, bold=True)
        doc.line(f" {labels['preferential'].upper()} ")
        p.set(invert=False, bold=False)
    doc.feed()
    doc.line(ticket.issued_at_local)
    if ticket.position is not None:
        doc.line(f"{labels['ahead']}: {max(0, ticket.position - 1)}")
    if ticket.estimated_wait_minutes is not None:
        doc.line(f"{labels['wait']}: {ticket.estimated_wait_minutes} {labels['minutes']}")
    doc.feed()
    doc.line(labels["follow"])
    p.qr(ticket.follow_url, ec=QR_ECLEVEL_M, size=paper.qr_module_dots, native=True)
    doc.feed()
    p.set(font="b")
    doc.line(labels["privacy"], columns=paper.small_columns)
    p.set(font="a")
    p.cut()
    return doc.output()


def render_test_page(printer_id: str, *, paper_width_mm: int, csa_name: str,
                     printed_at_local: str, qr_url: str) -> bytes:
    """A page for the technician: code page, accents, sizes, a native QR and the cut."""
    paper = _paper(paper_width_mm)
    doc = _Ticket(paper)
    p = doc.p
    doc.init()
    p.set(align="center", bold=True)
    doc.line("Página de prueba")
    p.set(bold=False)
    doc.line(csa_name)
    doc.line(f"Impresora {printer_id} · papel de {paper_width_mm} mm")
    doc.line(printed_at_local)
    doc.feed()
    p.set(align="left")
    doc.line(f"Código: {CODE_PAGE}, ESC t {paper.code_page_select[2]}")
    doc.line("minúsculas: á é í ó ú ñ ü ¿ ¡")
    doc.line("MAYÚSCULAS: Á É Í Ó Ú Ñ Ü")
    doc.line("Reposición de licencia por robo o extravío")
    doc.line("=" * paper.columns)
    p.set(align="center", custom_size=True, width=paper.max_number_scale,
          height=paper.max_number_scale)
    doc.line("A-001", columns=paper.columns // paper.max_number_scale)
    p.set(normal_textsize=True)
    p.qr(qr_url, ec=QR_ECLEVEL_M, size=paper.qr_module_dots, native=True)
    doc.feed()
    doc.line(qr_url)
    p.cut()
    return doc.output()


def render_receipt_slip(*, paper_width_mm: int, csa_name: str, ticket_number: str,
                        receipt_folio: str, verify_url: str, completed_at_local: str,
                        locale: str = "es_MX") -> bytes:
    """A short slip for the citizen: the receipt folio and the QR of its verify page."""
    english = locale == "en"
    paper = _paper(paper_width_mm)
    doc = _Ticket(paper)
    p = doc.p
    doc.init()
    p.set(align="center", bold=True)
    doc.line(csa_name)
    p.set(bold=False)
    doc.line("Service receipt" if english else "Comprobante de atención")
    doc.line(f"{'Ticket' if english else 'Turno'} {ticket_number} · {completed_at_local}")
    doc.feed()
    doc.line("Receipt folio:" if english else "Folio del comprobante:")
    p.set(bold=True)
    doc.line(receipt_folio)
    p.set(bold=False)
    doc.feed()
    doc.line("Scan to download and verify it:" if english
             else "Escanee para descargarlo y verificarlo:")
    p.qr(verify_url, ec=QR_ECLEVEL_M, size=paper.qr_module_dots, native=True)
    p.set(font="b")
    doc.line(verify_url, columns=paper.small_columns)
    p.set(font="a")
    p.cut()
    return doc.output()


@lru_cache(maxsize=4)
def _logo(image: bytes, paper_width_mm: int) -> bytes:
    """The logo as a raster image command, converted once per image and width."""
    from PIL import Image

    paper = _paper(paper_width_mm)
    picture = Image.open(io.BytesIO(image))
    max_width = int(paper.profile.profile_data["media"]["width"]["pixels"])
    if picture.width > max_width:
        picture = picture.resize((max_width, max(1, picture.height * max_width // picture.width)))
    dummy = Dummy(profile=paper.profile)
    dummy.image(picture, center=True)
    dummy._raw(b"\n")
    return dummy.output
