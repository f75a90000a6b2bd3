"""The ticket as ESC/POS bytes: code page, text, the native QR code and the cut."""

from __future__ import annotations

import dataclasses
import io

import pytest
from PIL import Image

from printers.layout import (
    ENGLISH_LABELS,
    TicketPrint,
    labels_for,
    render_test_page,
    render_ticket,
)

INIT = b"\x1b@"
WPC1252 = b"\x1bt\x10"  # ESC t 16: WPC1252 in Epson's table
CUT = b"\x1dV\x00"
FOLLOW_URL = "http://127.0.0.1:8000/t/Zq3xN0pW4kLr8sTy2vBm1A"

TICKET = TicketPrint(
    csa_name="Centro de Servicios Administrativos Zona Centro",
    agency_name="Licencias de Conducir",
    service_name="Renovación de licencia",
    number="R-042",
    preferential=False,
    issued_at_local="23/11/2026 10:00",
    position=3,
    estimated_wait_minutes=25,
    follow_url=FOLLOW_URL,
)


def qr_store(url: str) -> bytes:
    """GS ( k pL pH cn=49 fn=80 m=48 d1...dk: store the symbol data."""
    return b"\x1d(k" + (len(url) + 3).to_bytes(2, "little") + b"1P0" + url.encode()


QR_PRINT = b"\x1d(k\x03\x001Q0"  # fn 81: print the stored symbol


@pytest.mark.parametrize("width", [58, 80])
def test_a_ticket_starts_by_initialising_the_printer_and_pinning_wpc1252(width):
    data = render_ticket(TICKET, paper_width_mm=width)

    assert data.startswith(INIT + WPC1252)


@pytest.mark.parametrize("width", [58, 80])
def test_every_initialisation_is_followed_by_the_code_page_and_nothing_else_switches_it(width):
    for data in (render_ticket(TICKET, paper_width_mm=width),
                 render_test_page("pb-1", paper_width_mm=width, csa_name="CSA",
                                  printed_at_local="23/11/2026 10:00", qr_url=FOLLOW_URL)):
        assert data.count(INIT) >= 1
        assert data.count(INIT) == data.count(INIT + WPC1252)
        assert data.count(b"\x1bt") == data.count(INIT)


def test_the_ticket_number_is_printed_in_large_bold_characters():
    data = render_ticket(TICKET, paper_width_mm=80)

    size_6x6 = b"\x1d!\x55"
    assert size_6x6 + b"\x1bE\x01R-042\n" in data


def test_accented_service_names_are_encoded_in_the_pinned_code_page():
    ticket = dataclasses.replace(TICKET, service_name="Reposición de licencia por robo o extravío",
                                 agency_name="Módulo SAT — Año ¿dudas? ¡Pingüino!")

    data = render_ticket(ticket, paper_width_mm=80)

    assert b"Reposici\xf3n de licencia por robo o extrav\xedo\n" in data
    assert b"M\xf3dulo SAT \x97 A\xf1o \xbfdudas? \xa1Ping\xfcino!\n" in data
    assert "Reposición".encode() not in data


def test_decomposed_accents_are_composed_and_control_characters_in_text_are_dropped():
    ticket = dataclasses.replace(TICKET, service_name="Renovacio\u0301n\x1b@ de licencia")

    data = render_ticket(ticket, paper_width_mm=80)

    assert b"Renovaci\xf3n@ de licencia" in data
    assert data.count(INIT) == 1


def test_the_follow_url_is_stored_in_a_native_qr_code_and_then_printed():
    data = render_ticket(TICKET, paper_width_mm=80)

    store = data.index(qr_store(FOLLOW_URL))
    assert data.index(QR_PRINT) > store
    assert b"\x1dv0" not in data  # no QR rendered as a raster image


def test_the_ticket_ends_with_a_feed_and_a_cut():
    data = render_ticket(TICKET, paper_width_mm=80)

    assert data.endswith(b"\x1bd\x06" + CUT)


def test_the_wait_shows_the_people_ahead_and_the_estimate_in_minutes():
    data = render_ticket(TICKET, paper_width_mm=80)

    assert b"Personas antes de usted: 2\n" in data
    assert b"Espera estimada: 25 min\n" in data
    assert b"23/11/2026 10:00\n" in data


def test_a_ticket_without_a_position_or_estimate_leaves_those_lines_out():
    ticket = dataclasses.replace(TICKET, position=None, estimated_wait_minutes=None)

    data = render_ticket(ticket, paper_width_mm=80)

    assert b"Personas antes" not in data
    assert b"Espera estimada" not in data


def test_only_preferential_tickets_carry_the_inverted_preferential_mark():
    mark = b"\x1dB\x01 ATENCI\xd3N PREFERENTE \n"

    assert mark in render_ticket(dataclasses.replace(TICKET, preferential=True),
                                 paper_width_mm=80)
    assert b"PREFERENTE" not in render_ticket(TICKET, paper_width_mm=80)


def test_the_privacy_line_is_printed_in_the_small_font():
    data = render_ticket(TICKET, paper_width_mm=80)

    assert b"\x1bM\x01Este turno no contiene datos personales." in data


def test_the_caller_chooses_the_language_of_the_fixed_words():
    data = render_ticket(dataclasses.replace(TICKET, labels=ENGLISH_LABELS), paper_width_mm=80)

    assert b"People ahead of you: 2\n" in data
    assert b"Personas" not in data
    assert labels_for("en") is ENGLISH_LABELS
    assert labels_for("fr")["ticket"] == "Turno"


def test_58_mm_paper_gets_a_smaller_number_and_qr_code_and_wraps_long_lines_sooner():
    narrow = render_ticket(TICKET, paper_width_mm=58)
    wide = render_ticket(TICKET, paper_width_mm=80)

    assert b"\x1d!\x33" in narrow and b"\x1d!\x55" in wide  # 4x4 against 6x6
    assert b"\x1d(k\x03\x001C\x06" in narrow and b"\x1d(k\x03\x001C\x08" in wide  # module dots
    assert b"Centro de Servicios\nAdministrativos Zona Centro\n" in narrow
    assert b"Centro de Servicios Administrativos Zona Centro\n" in wide


def test_a_long_number_is_scaled_down_to_fit_the_paper():
    data = render_ticket(dataclasses.replace(TICKET, number="AB-100000"), paper_width_mm=58)

    # Nine characters four times as wide would not fit 32 columns: three times it is.
    assert b"\x1d!\x22\x1bE\x01AB-100000\n" in data


def test_other_paper_widths_are_refused():
    with pytest.raises(ValueError, match="58 or 80"):
        render_ticket(TICKET, paper_width_mm=76)


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("1", (width, height), 0).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(("width", "row_bytes"), [(58, 48), (80, 72)])
def test_a_logo_is_printed_as_a_raster_image_no_wider_than_the_paper(width, row_bytes):
    data = render_ticket(TICKET, paper_width_mm=width, logo=_png(1000, 100))

    raster = data.index(b"\x1dv0")
    assert data.index(WPC1252) < raster < data.index(b"R-042")
    assert data[raster + 4:raster + 6] == row_bytes.to_bytes(2, "little")


def test_the_test_page_shows_the_printer_the_accents_a_qr_code_and_is_cut():
    data = render_test_page("pb-1", paper_width_mm=58, csa_name="CSA Zona Centro",
                            printed_at_local="23/11/2026 10:00", qr_url="http://127.0.0.1:8000")

    assert data.startswith(INIT + WPC1252)
    assert b"P\xe1gina de prueba\n" in data
    assert b"Impresora pb-1" in data
    assert b"\xe1 \xe9 \xed \xf3 \xfa \xf1 \xfc \xbf \xa1" in data
    assert qr_store("http://127.0.0.1:8000") in data
    assert data.endswith(CUT)
