"""verify_pdf: the five verdicts on whatever file someone brings back, never an exception."""
# Fixtures imported from core_support are parameters of the tests below.
# ruff: noqa: F811

from __future__ import annotations

import asyncio
import io
import logging
import threading

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko_certvalidator.errors import PathBuildingError

from server.receipts.document import FOLIO_KEY, render_pdf
from server.receipts.verification import TrustRootsError, load_trust_roots, verify_pdf
from tests.receipts.core_support import (  # noqa: F401  (fixtures, used by name)
    other_ca,
    receipt,
    signer,
    test_ca,
)


@pytest.fixture(scope="module")
def signed(signer) -> bytes:
    return signer.sign_receipt(receipt())


def test_an_intact_receipt_from_the_trusted_ca_is_valid_and_says_who_signed_it(signed, test_ca):
    result = verify_pdf(signed, test_ca.trust_roots)

    assert result.status == "valid"
    assert result.signer == "CSA Centro Histórico (pruebas)"
    assert result.level == "B-B"
    assert result.receipt_folio == "CSA-7K3M-9QXD"
    assert result.signed_at is not None and result.signed_at.tzinfo is not None


def test_a_receipt_signed_under_another_ca_is_untrusted(signed, other_ca):
    # Same names, different keys: only the key can make it trusted.
    assert other_ca.keys.ca_cert.subject == other_ca.keys.ca_cert.issuer

    result = verify_pdf(signed, other_ca.trust_roots)

    assert result.status == "untrusted"
    assert result.receipt_folio == "CSA-7K3M-9QXD"


def test_an_untrusted_receipt_leaves_no_traceback_in_the_log(signed, other_ca, caplog):
    with caplog.at_level(logging.INFO):
        assert verify_pdf(signed, other_ca.trust_roots).status == "untrusted"

    assert [r for r in caplog.records if r.exc_info] == []


def test_outside_a_receipt_check_pyhankos_path_errors_are_still_logged(caplog):
    pyhanko_log = logging.getLogger("pyhanko.sign.validation.generic_cms")
    try:
        raise PathBuildingError("no path to a trust root")
    except PathBuildingError:
        with caplog.at_level(logging.WARNING):
            pyhanko_log.warning("Validation error", exc_info=True)

    assert [r.getMessage() for r in caplog.records] == ["Validation error"]


def test_one_flipped_byte_in_the_page_makes_it_tampered(signed, test_ca):
    data = bytearray(signed)
    data[data.index(b"stream", 2000) + 20] ^= 0x01

    assert verify_pdf(bytes(data), test_ca.trust_roots).status == "tampered"


def test_one_changed_byte_of_the_signature_value_makes_it_tampered(signed, test_ca):
    signature = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    value = signature.signer_info["signature"].native.hex().encode()
    position = signed.lower().index(value) + 100
    data = bytearray(signed)
    data[position] = ord("0") if data[position] != ord("0") else ord("1")

    assert verify_pdf(bytes(data), test_ca.trust_roots).status == "tampered"


def test_a_folio_changed_in_a_later_revision_makes_it_tampered(signed, test_ca):
    """pyHanko allows document-information changes after signing; a receipt does not."""
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    info = writer.trailer["/Info"].get_object()
    info[generic.NameObject(FOLIO_KEY)] = generic.TextStringObject("CSA-FAKE-0001")
    writer.update_container(info)
    out = io.BytesIO()
    writer.write(out)

    result = verify_pdf(out.getvalue(), test_ca.trust_roots)

    assert result.status == "tampered"


def test_a_damaged_signed_file_is_tampered_not_a_crash(signed, test_ca):
    damaged = signed.replace(b"startxref", b"startxrof").replace(b"/ByteRange [", b"/ByteRange (")

    assert verify_pdf(damaged, test_ca.trust_roots).status == "tampered"


def test_an_unsigned_receipt_is_unsigned_but_its_folio_is_read(test_ca):
    result = verify_pdf(render_pdf(receipt()), test_ca.trust_roots)

    assert result.status == "unsigned"
    assert result.receipt_folio == "CSA-7K3M-9QXD"


@pytest.mark.parametrize("data", [b"", b"garbage", b"\x89PNG\r\n\x1a\n" + b"0" * 100,
                                  b"%PDF-1.7\n%broken beyond repair"])
def test_anything_that_is_not_a_readable_pdf_is_unreadable(data, test_ca):
    assert verify_pdf(data, test_ca.trust_roots).status == "unreadable"


def test_trust_roots_are_loaded_from_pem_files(test_ca):
    roots = load_trust_roots(test_ca.config())

    assert [root.sha256 for root in roots] == [test_ca.trust_roots[0].sha256]


def test_a_missing_trust_root_file_is_a_clear_error(test_ca, tmp_path):
    with pytest.raises(TrustRootsError, match="turnos keys init"):
        load_trust_roots(test_ca.config(trust_roots=(str(tmp_path / "ca.pem"),)))


def test_a_trust_root_that_is_not_a_certificate_is_a_clear_error(test_ca, tmp_path):
    (tmp_path / "ca.pem").write_text("not a certificate")

    with pytest.raises(TrustRootsError, match="not a certificate"):
        load_trust_roots(test_ca.config(trust_roots=(str(tmp_path / "ca.pem"),)))


def test_receipts_are_signed_and_checked_from_a_thread_that_runs_an_event_loop(signer, test_ca):
    # pyHanko's synchronous calls start an event loop of their own; a host that already runs
    # one (an asyncio server, a browser driver in the same process) must still get receipts.
    async def inside_a_loop() -> str:
        return verify_pdf(signer.sign_receipt(receipt()), test_ca.trust_roots).status

    statuses: list[str] = []
    host = threading.Thread(target=lambda: statuses.append(asyncio.run(inside_a_loop())))
    host.start()
    host.join(timeout=60)

    assert statuses == ["valid"]
