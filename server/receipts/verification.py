"""Checking a receipt someone brings back: is it signed, intact, and signed by a trusted CA?

`verify_pdf` never raises for bad input: any file gets one of five verdicts.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import pem, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import DocumentSecurityStore, validate_pdf_signature
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

from server.config_types import ReceiptsConfig
from server.receipts.document import FOLIO_KEY
from server.receipts.sync import outside_event_loop

__all__ = ["TrustRootsError", "VerificationResult", "load_trust_roots", "verify_pdf"]

log = logging.getLogger(__name__)

VALID, TAMPERED, UNTRUSTED, UNSIGNED, UNREADABLE = (
    "valid", "tampered", "untrusted", "unsigned", "unreadable")


class TrustRootsError(RuntimeError):
    """A trust root named in [receipts] cannot be read."""


@dataclass(frozen=True, slots=True)
class VerificationResult:
    status: str  # "valid" | "tampered" | "untrusted" | "unsigned" | "unreadable"
    message: str  # English; the verify page translates
    signer: str | None = None  # subject of the signing certificate: "CN, O"
    signed_at: dt.datetime | None = None
    level: str | None = None  # "B-B" | "B-T" | "B-LT"
    receipt_folio: str | None = None


def load_trust_roots(config: ReceiptsConfig) -> list[x509.Certificate]:
    """The CA certificates of [receipts] trust_roots (PEM, several per file allowed, or DER)."""
    roots: list[x509.Certificate] = []
    for path in config.trust_roots:
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise TrustRootsError(
                f"[receipts] trust_roots: cannot read {path}: {error.strerror or error} "
                "(run `turnos keys init` for the development CA)") from error
        try:
            if pem.detect(data):
                roots.extend(x509.Certificate.load(der) for _, _, der in pem.unarmor(data, True))
            else:
                roots.append(x509.Certificate.load(data))
            for root in roots:
                root.native  # noqa: B018 - parse now, so a broken file fails here
        except ValueError as error:
            raise TrustRootsError(
                f"[receipts] trust_roots: {path} is not a certificate: {error}") from error
    return roots


def verify_pdf(data: bytes, trust_roots: Sequence[x509.Certificate]) -> VerificationResult:
    """The verdict on one file, with what the signature says when there is one."""
    if not data.lstrip()[:1024].startswith(b"%PDF-") and b"%PDF-" not in data[:1024]:
        return VerificationResult(UNREADABLE, "This file is not a PDF document.")
    has_signature_marks = b"/ByteRange" in data
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception as error:  # pyHanko raises many kinds for damaged files
        log.info("receipt unreadable: %s", error)
        if has_signature_marks:
            return VerificationResult(
                TAMPERED, "The file is damaged: it was changed after it was signed.")
        return VerificationResult(UNREADABLE, "The PDF document cannot be read.")
    if not signatures:
        return VerificationResult(UNSIGNED, "This PDF document carries no signature.",
                                  receipt_folio=_folio(reader))
    signature = signatures[-1]
    # The folio as signed; pyHanko tolerates document-information edits in later revisions,
    # a receipt does not.
    folio = _folio(reader, _signed_revision(reader, signature))
    if folio != _folio(reader):
        return VerificationResult(
            TAMPERED, "The receipt folio was changed after the file was signed.",
            receipt_folio=folio)
    try:
        context = _context(reader, trust_roots)
        status = outside_event_loop(lambda: _validate_quietly(signature, context))
    except Exception as error:  # a mangled signature container, certificate or digest
        log.info("receipt signature unusable: %s", error)
        return VerificationResult(
            TAMPERED, "The signature is broken: the file was changed after it was signed.",
            receipt_folio=folio)
    return _verdict(reader, signature, status, folio)


class _UntrustedIsAnAnswer(logging.Filter):
    """pyHanko logs every signer it cannot trust as a warning with a traceback. Checking a
    receipt brought from elsewhere, an untrusted signer is one of the verdicts, reported by
    `verify_pdf`, not a fault of this server; so those records are dropped, and only in the
    thread that is checking a receipt, so that signing keeps pyHanko's diagnostics."""

    def __init__(self) -> None:
        super().__init__()
        self.checking = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        failure = record.exc_info[1] if record.exc_info else None
        return not (getattr(self.checking, "active", False)
                    and isinstance(failure, (PathValidationError, PathBuildingError)))


_UNTRUSTED_IS_AN_ANSWER = _UntrustedIsAnAnswer()
logging.getLogger("pyhanko.sign.validation.generic_cms").addFilter(_UNTRUSTED_IS_AN_ANSWER)


def _validate_quietly(signature, context: ValidationContext) -> PdfSignatureStatus:
    checking = _UNTRUSTED_IS_AN_ANSWER.checking
    checking.active = True
    try:
        return validate_pdf_signature(signature, context)
    finally:
        checking.active = False


def _context(reader: PdfFileReader, trust_roots: Sequence) -> ValidationContext:
    """Trust only `trust_roots`; use the certificates and CRLs embedded in the file (B-LT),
    fetch nothing, and accept a missing revocation source (the development CA has none)."""
    settings = {"trust_roots": list(trust_roots), "allow_fetching": False,
                "revocation_mode": "soft-fail"}
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:  # a B-B or B-T receipt
        return ValidationContext(**settings)
    return dss.as_validation_context(settings)


def _verdict(reader: PdfFileReader, signature, status: PdfSignatureStatus,
             folio: str | None) -> VerificationResult:
    signer = _subject(status.signing_cert)
    timestamp = status.timestamp_validity
    signed_at = (timestamp.timestamp if timestamp is not None
                 else status.signer_reported_dt)
    level = _level(reader, status)
    facts = {"signer": signer, "signed_at": signed_at, "level": level, "receipt_folio": folio}
    if not (status.intact and status.valid):
        return VerificationResult(
            TAMPERED, "The signature does not match the file: it was changed after signing.",
            **facts)
    if not _covers_document(status):
        return VerificationResult(
            TAMPERED, "The file was changed after it was signed (content added afterwards).",
            **facts)
    if not status.trusted:
        return VerificationResult(
            UNTRUSTED, "The file is intact, but its signer is not one this service trusts.",
            **facts)
    return VerificationResult(VALID, "The signature is valid and the file is intact.", **facts)


def _covers_document(status: PdfSignatureStatus) -> bool:
    """The whole file, or later revisions that only add validation data (DSS, timestamps)."""
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return True
    return (status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
            and status.modification_level is not None
            and status.modification_level <= ModificationLevel.LTA_UPDATES)


def _level(reader: PdfFileReader, status: PdfSignatureStatus) -> str:
    if status.timestamp_validity is None:
        return "B-B"
    return "B-LT" if "/DSS" in reader.root else "B-T"


def _subject(cert) -> str | None:
    if cert is None:
        return None
    subject = cert.subject.native
    parts = [subject.get("common_name"), subject.get("organization_name")]
    parts = [p for p in parts if p]
    unique = list(dict.fromkeys(parts))
    return ", ".join(unique) or cert.subject.human_friendly


def _signed_revision(reader: PdfFileReader, signature):
    try:
        return reader.get_historical_resolver(signature.signed_revision)
    except Exception:  # no usable history: compare against the latest revision
        return reader


def _folio(reader: PdfFileReader, handler=None) -> str | None:
    """The folio in the document information of `handler` (a revision), else the latest."""
    handler = handler or reader
    try:
        info = handler.trailer_view.raw_get("/Info")
        value = handler.get_object(info.reference).get(FOLIO_KEY) if info is not None else None
    except Exception:  # a damaged info dictionary only costs the folio
        return None
    return str(value) if value is not None else None
