"""The receipt's embedded font: DejaVu Sans cut down to Windows-1252 (all of Spanish).

The font files and their metrics are made once by scripts/subset_receipt_fonts.py and live next
to this module (licence in fonts/LICENSE). They are read and compressed once per process; each
receipt then only adds three small PDF objects that share the compressed bytes, and text is
shown as WinAnsi-encoded strings, so no font parsing or subsetting happens per receipt.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.api import FontEngine, FontEngineFactory, ShapeResult
from pyhanko.pdf_utils.writer import BasePdfFileWriter

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR = "DejaVuSans-Receipt"
BOLD = "DejaVuSans-Bold-Receipt"
# Subset tag required for embedded subsets (PDF 32000-1, 9.6.4); fixed, so output is stable.
_TAG = {REGULAR: "TRNSRA", BOLD: "TRNSRB"}

_name = generic.NameObject


class FontMissing(RuntimeError):
    """The vendored font files are not where the package puts them."""


@dataclass(frozen=True, slots=True)
class ReceiptFont:
    """One face: its compressed TrueType program and the widths of WinAnsi codes 32-255."""

    name: str
    postscript_name: str
    program: bytes  # FlateDecode-compressed
    program_length: int
    widths: tuple[int, ...]
    # Widths of all 256 codes (control codes 0), for measuring encoded text.
    code_widths: tuple[int, ...]
    # The /Widths array, serialised once.
    widths_pdf: bytes
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    bold: bool

    def encode(self, text: str) -> bytes:
        """WinAnsi bytes of `text`; characters the font lacks become '?'."""
        return text.encode("cp1252", errors="replace")

    def width(self, text: str, size: float) -> float:
        """Advance of `text` at `size` points."""
        return sum(map(self.code_widths.__getitem__, self.encode(text))) * size / 1000

    def add_to(self, writer: BasePdfFileWriter) -> generic.IndirectObject:
        """Add the font's objects to `writer` and return the font dictionary's reference."""
        program = generic.StreamObject(
            {_name("/Length1"): generic.NumberObject(self.program_length),
             _name("/Filter"): _name("/FlateDecode")},
            encoded_data=self.program,
        )
        base = _name(f"/{_TAG[self.name]}+{self.postscript_name}")
        descriptor = generic.DictionaryObject({
            _name("/Type"): _name("/FontDescriptor"),
            _name("/FontName"): base,
            # Nonsymbolic (32): the viewer maps WinAnsi codes through the font's Unicode cmap.
            _name("/Flags"): generic.NumberObject(32),
            _name("/FontBBox"): generic.ArrayObject(map(generic.NumberObject, self.bbox)),
            _name("/ItalicAngle"): generic.NumberObject(0),
            _name("/Ascent"): generic.NumberObject(self.ascent),
            _name("/Descent"): generic.NumberObject(self.descent),
            _name("/CapHeight"): generic.NumberObject(729),
            _name("/StemV"): generic.NumberObject(120 if self.bold else 80),
            _name("/FontFile2"): writer.add_object(program),
        })
        font = generic.DictionaryObject({
            _name("/Type"): _name("/Font"),
            _name("/Subtype"): _name("/TrueType"),
            _name("/BaseFont"): base,
            _name("/FirstChar"): generic.NumberObject(32),
            _name("/LastChar"): generic.NumberObject(255),
            _name("/Widths"): _Encoded(self.widths_pdf),
            _name("/Encoding"): _name("/WinAnsiEncoding"),
            _name("/FontDescriptor"): writer.add_object(descriptor),
        })
        return writer.add_object(font)


@cache
def load_font(name: str) -> ReceiptFont:
    """Read and compress one face, once per process."""
    program_path, metrics_path = FONT_DIR / f"{name}.ttf", FONT_DIR / f"{name}.json"
    try:
        program = program_path.read_bytes()
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    except OSError as error:
        raise FontMissing(
            f"receipt font {program_path.name} or its metrics are missing from {FONT_DIR} "
            f"({error}); reinstall Turnos or run scripts/subset_receipt_fonts.py"
        ) from error
    return ReceiptFont(
        name=name,
        postscript_name=metrics["postscript_name"],
        program=zlib.compress(program, 9),
        program_length=len(program),
        widths=tuple(metrics["widths"]),
        code_widths=(0,) * 32 + tuple(metrics["widths"]),
        widths_pdf=b"[" + b" ".join(b"%d" % w for w in metrics["widths"]) + b"]",
        bbox=tuple(metrics["bbox"]),
        ascent=metrics["ascent"],
        descent=metrics["descent"],
        bold=metrics["bold"],
    )


class _Encoded(generic.PdfObject):
    """A direct object written as bytes serialised beforehand."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def write_to_stream(self, stream, handler=None, container_ref=None) -> None:
        stream.write(self.data)


class _StampFontEngine(FontEngine):
    """Lets pyHanko's signature stamp write its text in the receipt's embedded font."""

    def __init__(self, writer: BasePdfFileWriter, font: ReceiptFont,
                 ref: generic.IndirectObject | None) -> None:
        super().__init__(writer, font.postscript_name, embedded_subset=False)
        self.font = font
        self.ref = ref if ref is not None else font.add_to(writer)

    @property
    def uses_complex_positioning(self) -> bool:
        return False

    def shape(self, txt: str) -> ShapeResult:
        out = pdf_string(self.font.encode(txt)) + b" Tj"
        return ShapeResult(graphics_ops=out, x_advance=self.font.width(txt, 1.0), y_advance=0)

    def as_resource(self) -> generic.PdfObject:
        return self.ref


class StampFontFactory(FontEngineFactory):
    """Font for the stamp; reuses the page's font object when the same writer made the page."""

    def __init__(self, font: ReceiptFont, ref: generic.IndirectObject | None = None) -> None:
        self.font = font
        self.ref = ref

    def create_font_engine(self, writer: BasePdfFileWriter, obj_stream=None) -> FontEngine:
        return _StampFontEngine(writer, self.font, self.ref)


def pdf_string(data: bytes) -> bytes:
    """A PDF literal string of already-encoded bytes."""
    escaped = (data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
               .replace(b"\r", b"\\r").replace(b"\n", b"\\n"))
    return b"(" + escaped + b")"
