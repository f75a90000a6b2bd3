"""Checking receipts: /verify/<folio>, uploads on the page, and the JSON API (against the
OpenAPI document)."""
# Fixtures imported from delivery_support are parameters of the tests below.
# ruff: noqa: F811

from __future__ import annotations

import io

import pytest

from server.receipts.keys import make_dev_keys, write_dev_keys
from server.services import receipts
from server.services.receipt_worker import ReceiptWorker, worker_of
from tests.receipts.delivery_support import (  # noqa: F401  (fixtures, used by name)
    app,
    complete,
    receipts_setup,
    serve_ticket,
    test_keys,
)
from tests.support.openapi_contract import API, Contract


@pytest.fixture
def signed(app, ctx, client, auth):
    """A completed ticket's receipt, signed by the worker: (folio, the PDF bytes)."""
    ticket_id = serve_ticket(client, auth)
    complete(client, auth, ticket_id)
    worker_of(app).pump()
    folio = receipts.for_ticket(ctx, ticket_id).folio
    return folio, client.get(f"/verify/{folio}/receipt.pdf").data


@pytest.fixture
def contract(app, client):
    return Contract(app, client.get(f"{API}/openapi.json").get_json())


def _flip_one_byte(pdf: bytes) -> bytes:
    """Change one digit inside the signed content (the ticket number's drawing)."""
    index = pdf.index(b"stream") + 200
    return pdf[:index] + bytes([pdf[index] ^ 0x01]) + pdf[index + 1:]


def _upload(client, data: bytes, path: str = f"{API}/receipts/verify", **form):
    return client.post(path, data={"file": (io.BytesIO(data), "comprobante.pdf"), **form},
                       content_type="multipart/form-data")


# --- the JSON API ---------------------------------------------------------------------------

def test_the_api_says_a_signed_receipt_is_valid_with_what_it_says_and_who_signed(
        client, signed, contract):
    folio, _ = signed
    body = contract(client.get(f"{API}/receipts/{folio.lower()}"), 200)
    assert body["status"] == "valid" and body["stored_status"] == "signed"
    assert body["folio"] == folio
    assert body["contents"]["ticket_number"] == "A-001"
    assert body["contents"]["outcome"] == "follow_up"
    assert body["contents"]["procedure_folio"] == "RC-2026-117"
    assert "CSA Centro Histórico" in body["signature"]["signer"]
    assert body["signature"]["receipt_folio"] == folio
    assert body["download_url"].endswith(f"/verify/{folio}/receipt.pdf")


def test_the_api_says_a_receipt_being_signed_is_pending(ctx, client, auth, contract):
    ticket_id = serve_ticket(client, auth)
    complete(client, auth, ticket_id)
    folio = receipts.for_ticket(ctx, ticket_id).folio
    body = contract(client.get(f"{API}/receipts/{folio}"), 200)
    assert (body["status"], body["signature"], body["download_url"]) == ("pending", None, None)


def test_an_unknown_folio_is_a_404_in_json(client, contract):
    body = contract(client.get(f"{API}/receipts/R7K2-9QXM-4TPD-H3WN"), 404)
    assert body["error"]["code"] == "not_found"
    assert client.get(f"{API}/receipts/not-a-folio").status_code == 404


def test_an_uploaded_receipt_verifies_and_matches_the_stored_copy(client, signed, contract):
    folio, pdf = signed
    body = contract(_upload(client, pdf), 200)
    assert (body["status"], body["stored"], body["receipt_folio"]) == ("valid", "identical", folio)
    assert body["receipt"]["folio"] == folio
    raw = client.post(f"{API}/receipts/verify", data=pdf, content_type="application/pdf")
    assert contract(raw, 200)["status"] == "valid"


def test_an_uploaded_receipt_with_one_byte_changed_is_tampered(client, signed, contract):
    _, pdf = signed
    body = contract(_upload(client, _flip_one_byte(pdf)), 200)
    assert body["status"] == "tampered"


def test_a_valid_receipt_that_is_not_the_stored_one_is_reported_as_different(
        app, ctx, client, signed, contract):
    """Re-signing (the batch with --force) replaces the stored file; an old copy still has a
    valid signature, but it is no longer what the CSA keeps under that folio."""
    folio, old = signed
    with ctx.db.read() as conn:
        from sqlalchemy import select

        from server.models import Receipt
        row = conn.execute(select(Receipt.__table__).where(Receipt.folio == folio)).one()
    assert ReceiptWorker(ctx).sign(row, force=True).status == "signed"
    body = contract(_upload(client, old), 200)
    assert (body["status"], body["stored"]) == ("valid", "different")
    page = _upload(client, old, path="/verify/").get_data(as_text=True)
    assert "Firma válida, pero no es el comprobante guardado" in page


def test_a_receipt_signed_by_another_ca_is_untrusted(tmp_path, client, auth, signed, ctx,
                                                     contract):
    from server.receipts.signing import ReceiptSigner
    from server.services.receipt_worker import receipt_content

    other = tmp_path / "other-ca"
    write_dev_keys(make_dev_keys("Impostor", ca_bits=2048), other)
    passphrase = (other / "signing.passphrase").read_text().strip()
    config = ctx.config.receipts.__class__(
        enabled=True, pkcs12=str(other / "signing.p12"), passphrase_env="P",
        trust_roots=(str(other / "ca.pem"),))
    folio, _ = signed
    with ctx.db.read() as conn:
        from sqlalchemy import select

        from server.models import Receipt
        row = conn.execute(select(Receipt.__table__).where(Receipt.folio == folio)).one()
        content = receipt_content(ctx.config, conn, row)
    forged = ReceiptSigner.from_config(config, {"P": passphrase}).sign_receipt(content)
    body = contract(_upload(client, forged), 200)
    assert body["status"] == "untrusted"


@pytest.mark.parametrize(("data", "content_type", "status", "code"), [
    (b"not a pdf", "text/plain", 415, "unsupported_media_type"),
    (b"", "application/pdf", 422, "empty_file"),
    (b"%PDF-1.7" + b"0" * (3 * 1024 * 1024), "application/pdf", 413, "too_large"),
])
def test_bad_uploads_are_json_errors(client, contract, data, content_type, status, code):
    response = client.post(f"{API}/receipts/verify", data=data, content_type=content_type)
    assert contract(response, status)["error"]["code"] == code


def test_a_file_that_is_not_a_pdf_is_unreadable_not_an_error(client, contract):
    body = contract(_upload(client, b"hello, this is not a PDF"), 200)
    assert body["status"] == "unreadable" and body["stored"] is None


def test_a_multipart_upload_without_a_file_is_refused(client, contract):
    response = client.post(f"{API}/receipts/verify", data={"x": "1"},
                           content_type="multipart/form-data")
    assert contract(response, 422)["error"]["code"] == "missing_file"


# --- the pages ------------------------------------------------------------------------------

def test_the_verify_page_of_a_signed_receipt_says_valid_what_and_who(client, signed):
    folio, _ = signed
    response = client.get(f"/verify/{folio}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-verdict="valid"' in page and "Comprobante válido" in page
    assert "A-001" in page and "Requiere seguimiento" in page and "RC-2026-117" in page
    assert "CSA Centro Histórico (pruebas)" in page
    assert f'href="/verify/{folio}/receipt.pdf"' in page
    assert "<script" not in page  # nothing inline for the CSP to refuse


def test_the_verify_page_speaks_english_on_request(client, signed):
    folio, _ = signed
    page = client.get(f"/verify/{folio}?lang=en").get_data(as_text=True)
    assert "Valid receipt" in page and "Needs follow-up" in page


def test_a_folio_typed_loosely_leads_to_its_page(client, signed):
    folio, _ = signed
    response = client.get("/verify/", query_string={"folio": folio.lower().replace("-", " ")})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/verify/{folio}")


def test_something_that_is_not_a_folio_is_explained_on_the_form(client):
    response = client.get("/verify/", query_string={"folio": "hola"})
    assert response.status_code == 422
    assert "no es un folio de comprobante" in response.get_data(as_text=True)


def test_an_unknown_folio_is_a_readable_404_page(client):
    response = client.get("/verify/R7K2-9QXM-4TPD-H3WN")
    assert response.status_code == 404
    assert "Comprobante no encontrado" in response.get_data(as_text=True)


def test_the_upload_form_reports_a_tampered_file(client, signed):
    _, pdf = signed
    response = _upload(client, _flip_one_byte(pdf), path="/verify/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-verdict="tampered"' in page and "Comprobante alterado" in page


def test_the_upload_form_reports_a_valid_file_with_its_contents(client, signed):
    folio, pdf = signed
    page = _upload(client, pdf, path="/verify/").get_data(as_text=True)
    assert 'data-verdict="valid"' in page
    assert "Es idéntico a la copia que conserva el centro de servicios." in page
    assert folio in page and "RC-2026-117" in page


def test_the_upload_form_without_a_file_asks_for_one(client):
    response = client.post("/verify/", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Elija el archivo PDF del comprobante" in response.get_data(as_text=True)
