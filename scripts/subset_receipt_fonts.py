"""Make the font files the signed receipts embed: DejaVu Sans (regular, bold) cut down to the
Windows-1252 repertoire (all of Spanish, and English), without hinting.

    pip install fonttools && python scripts/subset_receipt_fonts.py [DEJAVU_DIR]

DEJAVU_DIR defaults to the folder the Debian package fonts-dejavu-core installs. The output
goes to server/receipts/fonts/ (committed with the DejaVu licence next to it); Turnos itself
needs no fontTools at run time.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fontTools import subset

SOURCE = Path("/usr/share/fonts/truetype/dejavu")
TARGET = Path(__file__).resolve().parents[1] / "server" / "receipts" / "fonts"
FACES = {
    "DejaVuSans.ttf": "DejaVuSans-Receipt.ttf",
    "DejaVuSans-Bold.ttf": "DejaVuSans-Bold-Receipt.ttf",
}


def cp1252_code_points() -> list[int]:
    points = []
    for code in range(0x20, 0x100):
        try:
            points.append(ord(bytes([code]).decode("cp1252")))
        except UnicodeDecodeError:
            continue
    return points


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    options = subset.Options()
    options.hinting = False
    options.desubroutinize = True
    options.name_IDs = ["*"]  # keep the copyright and licence records
    options.notdef_outline = True
    options.layout_features = []
    for name, out in FACES.items():
        font = subset.load_font(str(source / name), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=cp1252_code_points())
        subsetter.subset(font)
        subset.save_font(font, str(TARGET / out), options)
        metrics = TARGET / out.replace(".ttf", ".json")
        metrics.write_text(json.dumps(font_metrics(font)) + "\n")
        print(f"{TARGET / out}: {(TARGET / out).stat().st_size} bytes; metrics in {metrics.name}")


def font_metrics(font) -> dict:
    """What a PDF font dictionary needs, in 1/1000 em: widths of WinAnsi codes 32-255 and the
    descriptor values; read by server/receipts/fonts.py so that no font parser runs there."""
    scale = 1000 / font["head"].unitsPerEm
    cmap, hmtx = font.getBestCmap(), font["hmtx"]
    widths = []
    for code in range(32, 256):
        try:
            char = bytes([code]).decode("cp1252")
        except UnicodeDecodeError:
            widths.append(0)
            continue
        glyph = cmap.get(ord(char))
        widths.append(round(hmtx[glyph][0] * scale) if glyph else 0)
    head, os2 = font["head"], font["OS/2"]
    return {
        "postscript_name": font["name"].getDebugName(6),
        "first_char": 32,
        "widths": widths,
        "bbox": [round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)],
        "ascent": round(font["hhea"].ascent * scale),
        "descent": round(font["hhea"].descent * scale),
        "cap_height": round(getattr(os2, "sCapHeight", 729) * scale),
        "bold": "Bold" in font["name"].getDebugName(6),
    }


if __name__ == "__main__":
    main()
