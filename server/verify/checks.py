"""What the verify page and the receipts API share: reading an upload and checking receipts."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from flask import Flask, Request, current_app

from server.context import Turnos
from server.services import receipts
from server.services.receipts import MAX_UPLOAD_BYTES, ReceiptView


class UploadRefused(Exception):
    """An upload that cannot be checked: missing, too large, or not a PDF."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def read_upload(request: Request, field: str = "file") -> bytes:
    """The PDF of a multipart form field `field`, or of a raw application/pdf body."""
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES + 4096:
        raise UploadRefused(413, "too_large", _too_large())
    if request.mimetype == "application/pdf":
        data = request.stream.read(MAX_UPLOAD_BYTES + 1)
    elif request.mimetype == "multipart/form-data":
        upload = request.files.get(field)
        if upload is None or not upload.filename:
            raise UploadRefused(422, "missing_file", "choose the receipt's PDF file to upload")
        data = upload.stream.read(MAX_UPLOAD_BYTES + 1)
    else:
        raise UploadRefused(415, "unsupported_media_type",
                            "send the PDF as multipart/form-data (field 'file') or as "
                            "application/pdf")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused(413, "too_large", _too_large())
    if not data:
        raise UploadRefused(422, "empty_file", "the uploaded file is empty")
    return data


def _too_large() -> str:
    return f"a receipt PDF is never larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB"


def trust_roots(app: Flask | None = None) -> Any:
    """The certificates receipts must chain to, loaded once per app."""
    app = app or current_app
    roots = app.extensions.get("turnos.trust_roots")
    if roots is None:
        from server.extensions import ext
        from server.receipts.verification import load_trust_roots

        roots = load_trust_roots(ext(app).ctx.config.receipts)
        app.extensions["turnos.trust_roots"] = roots
    return roots


@dataclass(frozen=True, slots=True)
class StoredCheck:
    """A stored receipt as the verify page reports it."""

    # valid; tampered (the stored file lost its recorded hash or its signature is broken),
    # untrusted, unsigned or unreadable (the verifier's verdicts); pending, failed, expired.
    status: str
    receipt: ReceiptView
    signature: Any | None  # VerificationResult of the stored PDF


_cache: OrderedDict[str, Any] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 256


def check_stored(ctx: Turnos, receipt: ReceiptView) -> StoredCheck:
    """Verify the stored PDF of `receipt` (a signature's verdict is cached by file hash)."""
    if receipt.status != "signed":
        return StoredCheck(receipt.status, receipt, None)
    stored = receipts.read_pdf(ctx.config, receipt)
    if stored is None or not stored.intact:
        return StoredCheck("tampered", receipt, None)
    assert receipt.sha256 is not None
    with _cache_lock:
        result = _cache.get(receipt.sha256)
    if result is None:
        from server.receipts.verification import verify_pdf

        result = verify_pdf(stored.data, trust_roots())
        with _cache_lock:
            _cache[receipt.sha256] = result
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    return StoredCheck(result.status, receipt, result)


def iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
