"""Signed receipts: the PDF a served citizen keeps, its PAdES signature and its verification.

`document.render_pdf` draws the receipt, `signing.ReceiptSigner` signs it (keys loaded once),
`verification.verify_pdf` checks a receipt anyone brings back, and `keys` makes the
development CA and signing certificate behind `turnos keys init`.
"""
