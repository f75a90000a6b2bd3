"""The verify pages: a folio typed or scanned, or a PDF uploaded; and the PDF download."""

from __future__ import annotations

import io

import segno
from flask import Response, redirect, render_template, request, url_for
from flask_babel import get_locale

from server.domain.receipt_folio import normalize_folio
from server.extensions import ctx
from server.i18n import short_language
from server.services import receipts
from server.verify import bp
from server.verify.checks import UploadRefused, check_stored, read_upload, trust_roots

# Receipts are immutable once signed, but re-signing a day (`--force`) replaces the file:
# caches may keep it an hour, and revalidate with its ETag (the file's hash).
PDF_MAX_AGE = 3600


@bp.get("/")
def form():
    """The form; with ?folio= (the form's GET) it goes to that folio's page."""
    typed = request.args.get("folio")
    if typed is None:
        return render_template("verify/form.html", lang=_lang())
    folio = normalize_folio(typed)
    if folio is None:
        return render_template("verify/form.html", lang=_lang(), typed=typed[:64],
                               problem="bad_folio"), 422
    return redirect(url_for("verify.receipt_page", folio=folio))


@bp.post("/")
def upload():
    """A PDF uploaded from the form: check its signature and compare it with our copy."""
    try:
        data = read_upload(request)
    except UploadRefused as refused:
        return render_template("verify/form.html", lang=_lang(), problem=refused.code,
                               max_mb=receipts.MAX_UPLOAD_BYTES // (1024 * 1024)), refused.status
    check = receipts.check_upload(ctx(), data, trust_roots())
    details = receipts.facts(ctx(), check.receipt) if (
        check.receipt is not None and check.result.status == "valid"
        and check.receipt.status != "expired") else None
    return render_template("verify/upload.html", lang=_lang(), check=check, result=check.result,
                           facts=details)


@bp.get("/<folio>")
def receipt_page(folio: str):
    canonical = normalize_folio(folio)
    if canonical is not None and canonical != folio:
        return redirect(url_for("verify.receipt_page", folio=canonical))
    receipt = receipts.by_folio(ctx(), folio) if canonical else None
    if receipt is None:
        return render_template("verify/missing.html", lang=_lang(), folio=folio[:64]), 404
    check = check_stored(ctx(), receipt)
    details = receipts.facts(ctx(), receipt) if receipt.status != "expired" else None
    response = Response(render_template(
        "verify/receipt.html", lang=_lang(), check=check, receipt=receipt, facts=details,
        verify_url=receipts.verify_url(ctx().config, receipt.folio)))
    response.headers["Cache-Control"] = "no-cache"
    return response, 200


@bp.get("/<folio>/receipt.pdf")
def download(folio: str):
    receipt = receipts.by_folio(ctx(), folio)
    stored = receipts.read_pdf(ctx().config, receipt) if receipt else None
    if receipt is None or stored is None or not stored.intact:
        return render_template("verify/missing.html", lang=_lang(), folio=folio[:64],
                               receipt=receipt), 404
    response = Response(stored.data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="comprobante-{receipt.folio}.pdf"')
    response.headers["Cache-Control"] = f"public, max-age={PDF_MAX_AGE}"
    response.set_etag(receipt.sha256 or "")
    return response.make_conditional(request)


@bp.get("/<folio>/qr.svg")
def qr_code(folio: str):
    """The QR of the receipt's verify address, for the counter screen."""
    receipt = receipts.by_folio(ctx(), folio)
    if receipt is None:
        return Response("not found", status=404, mimetype="text/plain")
    out = io.BytesIO()
    segno.make(receipts.verify_url(ctx().config, receipt.folio), error="m").save(
        out, kind="svg", scale=6, border=2, xmldecl=False, title="QR")
    response = Response(out.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _lang() -> str:
    return short_language(str(get_locale()))
