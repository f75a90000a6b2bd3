"""Receipts, for anyone holding a folio or a PDF: read one, or check an uploaded file."""

from __future__ import annotations

from typing import Any

from flask import request, url_for

from server.api import bp
from server.api.errors import ApiError
from server.extensions import ctx
from server.receipts.document import ReceiptContent
from server.services import receipts
from server.services.receipts import ReceiptView
from server.verify.checks import UploadRefused, check_stored, iso, read_upload, trust_roots


@bp.get("/receipts/<folio>")
def get_receipt(folio: str):
    receipt = receipts.by_folio(ctx(), folio)
    if receipt is None:
        raise ApiError(404, "not_found", f"no receipt has the folio '{folio[:64]}'")
    check = check_stored(ctx(), receipt)
    facts = receipts.facts(ctx(), receipt) if receipt.status != "expired" else None
    return {
        **_receipt_json(receipt),
        "status": check.status,
        "contents": _facts_json(facts) if facts else None,
        "signature": _result_json(check.signature) if check.signature else None,
    }


@bp.post("/receipts/verify")
def verify_upload():
    try:
        data = read_upload(request)
    except UploadRefused as refused:
        raise ApiError(refused.status, refused.code, refused.message) from None
    check = receipts.check_upload(ctx(), data, trust_roots())
    return {
        **_result_json(check.result),
        "stored": check.stored,
        "receipt": _receipt_json(check.receipt) if check.receipt else None,
    }


def _receipt_json(receipt: ReceiptView) -> dict[str, Any]:
    signed = receipt.status == "signed"
    return {
        "folio": receipt.folio,
        "stored_status": receipt.status,
        "verify_url": receipts.verify_url(ctx().config, receipt.folio),
        "download_url": url_for("verify.download", folio=receipt.folio, _external=True)
        if signed else None,
        "signed_at": iso(receipt.signed_at),
        "expires_at": iso(receipt.expires_at),
        "sha256": receipt.sha256,
    }


def _facts_json(facts: ReceiptContent) -> dict[str, Any]:
    return {
        "csa_name": facts.csa_name,
        "agency_name": facts.agency_name,
        "service": facts.service_code,
        "service_name": facts.service_name,
        "ticket_number": facts.ticket_number,
        "counter_name": facts.counter_name,
        "staff_name": facts.staff_name,
        "issued_at": iso(facts.issued_at),
        "called_at": iso(facts.called_at),
        "started_at": iso(facts.started_at),
        "completed_at": iso(facts.completed_at),
        "outcome": facts.outcome,
        "procedure_folio": facts.procedure_folio,
        "note": facts.note,
    }


def _result_json(result: Any) -> dict[str, Any]:
    signed_at = getattr(result, "signed_at", None)
    return {
        "status": result.status,
        "message": result.message,
        "signer": result.signer,
        "signed_at": iso(signed_at) if signed_at is not None else None,
        "level": result.level,
        "receipt_folio": result.receipt_folio,
    }
