"""The receipt PDF itself: one page, readable words in an embedded font, a QR that leads to
the verify page, local times, and a layout that keeps its foot on the page."""

from __future__ import annotations

import dataclasses

import pytest
from PIL import Image

from server.receipts.document import render_pdf
from tests.receipts.core_support import receipt, run


def _write(tmp_path, content, page_size="letter"):
    path = tmp_path / "receipt.pdf"
    path.write_bytes(render_pdf(content, page_size))
    return path


@pytest.mark.parametrize(("page_size", "points"), [("letter", "612 x 792"),
                                                   ("a4", "595.28 x 841.89")])
def test_a_receipt_is_one_page_of_the_configured_size(tmp_path, page_size, points):
    info = run("pdfinfo", path=_write(tmp_path, receipt(), page_size))

    assert "Pages:           1" in info
    assert f"Page size:       {points} pts" in info


def test_accented_spanish_text_is_extractable_and_every_font_is_embedded(tmp_path):
    path = _write(tmp_path, receipt())

    text = run("pdftotext", "-layout", str(path), "-")
    fonts = run("pdffonts", path=path).splitlines()[2:]

    for words in ("Comprobante de atención", "Dirección del Registro Civil",
                  "Inicio de la atención", "identificación oficial", "¿Dudas? ¡Llame!"):
        assert words in text
    assert len(fonts) == 2
    assert all(" yes yes " in line for line in fonts), fonts


def test_the_rendered_page_is_not_blank(tmp_path):
    path = _write(tmp_path, receipt())

    run("pdftoppm", "-r", "40", "-png", "-singlefile", str(path), str(tmp_path / "page"))
    image = Image.open(tmp_path / "page.png").convert("L")
    dark = sum(image.histogram()[:128])

    assert dark > image.width * image.height * 0.03


def test_the_qr_code_decodes_to_the_verify_url(tmp_path):
    path = _write(tmp_path, receipt())

    run("pdftoppm", "-r", "100", "-png", "-singlefile", str(path), str(tmp_path / "page"))
    decoded = run("zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable",
                  path=tmp_path / "page.png")

    assert decoded.strip().splitlines()[0] == "https://turnos.csa-centro.gob.mx/verify/CSA-7K3M-9QXD"


def test_times_are_printed_in_the_csa_local_time(tmp_path):
    text = run("pdftotext", str(_write(tmp_path, receipt())), "-")

    # 16:00 UTC is 10:00 in Mexico City; completed 21 min 30 s later.
    assert "23/11/2026 10:00:00" in text
    assert "23/11/2026 10:21:30" in text
    assert "America/Mexico_City" in text


def test_an_english_receipt_speaks_english(tmp_path):
    text = run("pdftotext", str(_write(tmp_path, receipt(locale="en", outcome="rejected"))), "-")

    assert "Service receipt" in text and "Rejected" in text
    assert "Comprobante" not in text


def test_the_staff_member_is_named_only_when_given(tmp_path):
    anonymous = run("pdftotext", str(_write(tmp_path, receipt())), "-")
    named = run("pdftotext", str(_write(tmp_path, receipt(staff_name="María Núñez"))), "-")

    assert "Atendió" not in anonymous
    assert "María Núñez" in named


def test_missing_optional_facts_leave_no_empty_rows(tmp_path):
    content = receipt(called_at=None, started_at=None, procedure_folio=None, note=None,
                      outcome="resolved")

    text = run("pdftotext", str(_write(tmp_path, content)), "-")

    assert "Resuelto" in text
    for label in ("Llamado a ventanilla", "Folio del trámite", "Observaciones"):
        assert label not in text


def test_a_very_long_note_is_cut_so_the_receipt_stays_on_one_page(tmp_path):
    content = receipt(staff_name="María Núñez", note="palabra " * 500)
    path = _write(tmp_path, content)

    text = run("pdftotext", str(path), "-")

    assert "Pages:           1" in run("pdfinfo", path=path)
    assert "…" in text
    # The foot is still there, below the note.
    assert text.index("Folio del comprobante") > text.index("Observaciones")
    assert "Aviso de privacidad" in text


def test_characters_outside_the_font_become_question_marks_instead_of_failing(tmp_path):
    text = run("pdftotext", str(_write(tmp_path, receipt(note="Listo ✓ 好"))), "-")

    assert "Listo ? ?" in text


def test_an_unknown_outcome_is_refused():
    with pytest.raises(ValueError, match="outcome"):
        render_pdf(dataclasses.replace(receipt(), outcome="done"))


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        render_pdf(receipt(issued_at=receipt().issued_at.replace(tzinfo=None)))
