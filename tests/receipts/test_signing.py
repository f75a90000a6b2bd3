"""PAdES signatures on receipts: valid and trusted for pyHanko's validator and for poppler's
pdfsig, broken by a single flipped byte, timestamped (B-T) and with validation data (B-LT)."""
# Fixtures imported from core_support are parameters of the tests below.
# ruff: noqa: F811

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import DocumentSecurityStore, validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from server.receipts.document import render_pdf
from server.receipts.signing import ReceiptSigner, SigningSetupError
from server.receipts.sync import outside_event_loop
from server.receipts.verification import verify_pdf
from tests.receipts.core_support import (  # noqa: F401  (fixtures, used by name)
    make_test_keys,
    other_ca,
    receipt,
    run,
    signer,
    test_ca,
    tsa_url,
)


def _status(data: bytes, roots):
    signature = PdfFileReader(io.BytesIO(data)).embedded_signatures[0]
    context = ValidationContext(trust_roots=roots)
    return signature, outside_event_loop(lambda: validate_pdf_signature(signature, context))


def _pdfsig(tmp_path, data: bytes) -> str:
    path = tmp_path / "signed.pdf"
    path.write_bytes(data)
    return run("pdfsig", path=path)


def test_a_signed_receipt_is_intact_valid_and_trusted_for_pyhanko(signer, test_ca):
    signature, status = _status(signer.sign_receipt(receipt()), test_ca.trust_roots)

    assert (status.intact, status.valid, status.trusted) == (True, True, True)
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert status.signing_cert.subject.native["common_name"] == "CSA Centro Histórico (pruebas)"


def test_pdfsig_reports_the_signature_valid_and_covering_the_whole_file(signer, tmp_path):
    report = _pdfsig(tmp_path, signer.sign_receipt(receipt()))

    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report
    assert "ETSI.CAdES.detached" in report


def test_every_receipt_gets_its_own_valid_signature_not_a_copy_of_the_first(
        signer, test_ca, tmp_path):
    """The signer reuses the CMS structure of its first signature: the later ones must still
    sign their own bytes."""
    signed = [signer.sign_receipt(receipt(ticket_number=f"A-{n:03d}")) for n in range(4)]

    contents = {PdfFileReader(io.BytesIO(data)).embedded_signatures[0].pkcs7_content
                for data in signed}
    assert len(contents) == 4
    for data in signed:
        _, status = _status(data, test_ca.trust_roots)
        assert status.intact and status.valid and status.trusted
        assert "Signature is Valid." in _pdfsig(tmp_path, data)


def test_one_flipped_byte_in_the_signed_content_breaks_it_for_pyhanko_and_pdfsig(
        signer, test_ca, tmp_path):
    data = bytearray(signer.sign_receipt(receipt()))
    start = data.index(b"stream", 2000) + 20  # inside a compressed stream before the signature
    data[start] ^= 0x01

    _, status = _status(bytes(data), test_ca.trust_roots)
    report = _pdfsig(tmp_path, bytes(data))

    assert not status.intact
    assert "Signature is Valid." not in report
    assert "Digest Mismatch" in report or "Invalid" in report


def test_the_stamp_is_a_visible_widget_on_the_page(signer):
    reader = PdfFileReader(io.BytesIO(signer.sign_receipt(receipt())))

    widget = reader.root["/AcroForm"]["/Fields"][0].get_object()
    x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])

    assert widget["/FT"] == "/Sig"
    assert x2 - x1 > 100 and y2 - y1 > 40
    assert "/AP" in widget


def test_the_stamp_names_the_signer_and_the_folio_in_the_receipt_font(signer, tmp_path):
    path = tmp_path / "signed.pdf"
    path.write_bytes(signer.sign_receipt(receipt()))

    text = run("pdftotext", str(path), "-")

    assert "Firmado electrónicamente por:" in text
    assert "Folio: CSA-7K3M-9QXD" in text
    assert all(" yes " in line for line in run("pdffonts", path=path).splitlines()[2:])


def test_an_existing_unsigned_pdf_can_be_signed_too(signer, test_ca):
    signed = signer.sign(render_pdf(receipt()))

    result = verify_pdf(signed, test_ca.trust_roots)

    assert result.status == "valid"
    assert result.receipt_folio == "CSA-7K3M-9QXD"


def test_pem_key_and_certificate_chain_work_like_pkcs12(test_ca, tmp_path):
    keys = test_ca.keys
    (tmp_path / "key.pem").write_bytes(keys.signing_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"s3cret")))
    (tmp_path / "cert.pem").write_bytes(keys.signing_cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "ca.pem").write_bytes(keys.ca_cert.public_bytes(serialization.Encoding.PEM))
    config = test_ca.config(pkcs12=None, key=str(tmp_path / "key.pem"),
                            certificates=(str(tmp_path / "cert.pem"), str(tmp_path / "ca.pem")))

    signer = ReceiptSigner.from_config(config, {config.passphrase_env: "s3cret"})

    assert verify_pdf(signer.sign_receipt(receipt()), test_ca.trust_roots).status == "valid"


def test_a_wrong_or_missing_passphrase_is_a_clear_error(test_ca):
    config = test_ca.config()

    with pytest.raises(SigningSetupError, match="wrong passphrase"):
        ReceiptSigner.from_config(config, {config.passphrase_env: "not it"})
    with pytest.raises(SigningSetupError, match=config.passphrase_env):
        ReceiptSigner.from_config(config, {})


def test_a_missing_key_file_says_how_to_make_one(test_ca, tmp_path):
    config = test_ca.config(pkcs12=str(tmp_path / "nowhere.p12"))

    with pytest.raises(SigningSetupError, match="turnos keys init"):
        ReceiptSigner.from_config(config, test_ca.environ)


def test_a_certificate_without_non_repudiation_is_refused(test_ca, tmp_path):
    keys = test_ca.keys
    cert = (
        x509.CertificateBuilder()
        .subject_name(keys.signing_cert.subject).issuer_name(keys.ca_cert.subject)
        .public_key(keys.signing_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
        .not_valid_after(dt.datetime.now(dt.UTC) + dt.timedelta(days=30))
        .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False,
                                     False), critical=True)
        .sign(keys.ca_key, hashes.SHA256())
    )
    (tmp_path / "bad.p12").write_bytes(pkcs12.serialize_key_and_certificates(
        b"bad", keys.signing_key, cert, [keys.ca_cert], serialization.NoEncryption()))

    with pytest.raises(SigningSetupError, match="non-repudiation"):
        ReceiptSigner.from_config(test_ca.config(pkcs12=str(tmp_path / "bad.p12")), {})


def test_with_a_timestamp_authority_receipts_are_b_t(test_ca, tsa_url, tmp_path):
    signer = ReceiptSigner.from_config(test_ca.config(tsa_url=tsa_url), test_ca.environ)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)

    data = signer.sign_receipt(receipt())
    _, status = _status(data, test_ca.trust_roots)
    result = verify_pdf(data, test_ca.trust_roots)

    assert signer.level == "B-T"
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    assert (result.status, result.level) == ("valid", "B-T")
    assert before <= result.signed_at <= dt.datetime.now(dt.UTC)
    assert "Signature is Valid." in _pdfsig(tmp_path, data)


def test_with_validation_data_embedded_receipts_are_b_lt_and_validate_offline(
        test_ca, tsa_url, tmp_path):
    config = test_ca.config(tsa_url=tsa_url, embed_validation_data=True)
    signer = ReceiptSigner.from_config(config, test_ca.environ)

    data = signer.sign_receipt(receipt())
    reader = PdfFileReader(io.BytesIO(data))
    dss = DocumentSecurityStore.read_dss(reader)

    def offline(*, with_crls: bool):
        # Revocation data is required ("require") and nothing may be fetched: only what the
        # file carries can satisfy them. The development CA names no CRL address, so the
        # embedded CRL is its revocation data.
        settings = {"trust_roots": test_ca.trust_roots, "revocation_mode": "require",
                    "allow_fetching": False}
        context = (dss.as_validation_context(settings) if with_crls else
                   ValidationContext(other_certs=list(dss.load_certs()), crls=[], **settings))
        return outside_event_loop(
            lambda: validate_pdf_signature(reader.embedded_signatures[0], context))

    status = offline(with_crls=True)

    assert signer.level == "B-LT"
    assert dss.crls and dss.certs
    assert (status.intact, status.valid, status.trusted) == (True, True, True)
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    assert not offline(with_crls=False).trusted  # the embedded CRL is what made it pass
    assert verify_pdf(data, test_ca.trust_roots).level == "B-LT"
    assert "Signature is Valid." in _pdfsig(tmp_path, data)


def test_b_lt_without_a_timestamp_authority_is_refused(signer):
    with pytest.raises(SigningSetupError, match="tsa_url"):
        ReceiptSigner(signer.signer, validation_context=ValidationContext(trust_roots=[]))


def test_a4_receipts_are_signed_the_same_way(test_ca):
    signer = ReceiptSigner.from_config(test_ca.config(page_size="a4"), test_ca.environ)

    data = signer.sign_receipt(dataclasses.replace(receipt(), locale="en"))

    assert verify_pdf(data, test_ca.trust_roots).status == "valid"
    assert b"/MediaBox [0 0 595.28 841.89]" in data or b"595.28" in data
