"""Make docs/sample-receipt.pdf: a receipt of the demo CSA, signed with a freshly made
development certificate (the key is thrown away; only the public PDF is kept).

    python scripts/make_sample_receipt.py [--out docs/sample-receipt.pdf] [--config config.toml]

The times, ticket and folio are fixed so the sample reads the same each time it is remade;
the signature (and its time) is new each run. Its verify URL uses the config's base_url.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.config import load_config  # noqa: E402
from server.config_types import ReceiptsConfig  # noqa: E402
from server.receipts.document import ReceiptContent  # noqa: E402
from server.receipts.keys import make_dev_keys, write_dev_keys  # noqa: E402
from server.receipts.signing import ReceiptSigner  # noqa: E402
from server.receipts.verification import load_trust_roots, verify_pdf  # noqa: E402

FOLIO = "R7K2-9QXM-4TPD-H3WN"
PASSPHRASE_ENV = "TURNOS_SAMPLE_SIGNING_PASSPHRASE"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "sample-receipt.pdf")
    parser.add_argument("--config", type=Path, default=ROOT / "config.toml")
    args = parser.parse_args()
    config = load_config(args.config)
    agency, service = config.agency("rc"), config.service("ACTA")
    issued = dt.datetime(2026, 11, 23, 16, 4, 12, tzinfo=dt.UTC)  # 10:04 in Mexico City
    content = ReceiptContent(
        receipt_folio=FOLIO,
        csa_name=config.name,
        agency_name=agency.name,
        service_code=service.code,
        service_name=service.name,
        ticket_number="A-042",
        counter_name=config.counter("V17").name,
        staff_name=None,
        issued_at=issued,
        called_at=issued + dt.timedelta(minutes=14, seconds=3),
        started_at=issued + dt.timedelta(minutes=14, seconds=41),
        completed_at=issued + dt.timedelta(minutes=23, seconds=9),
        outcome="follow_up",
        procedure_folio="RC-2026-118833",
        note="Acudir con identificación oficial y CURP para recoger el acta el próximo lunes.",
        verify_url=f"{config.base_url}/verify/{FOLIO}",
        timezone=config.timezone,
        locale=config.default_locale,
    )
    with tempfile.TemporaryDirectory(prefix="turnos-sample-keys-") as folder:
        written = write_dev_keys(make_dev_keys(config.name), Path(folder))
        receipts = ReceiptsConfig(enabled=True, pkcs12=str(written["signing"]),
                                  passphrase_env=PASSPHRASE_ENV,
                                  trust_roots=(str(written["ca_cert"]),),
                                  page_size=config.receipts.page_size)
        environ = {PASSPHRASE_ENV: written["passphrase"].read_text().strip()}
        pdf = ReceiptSigner.from_config(receipts, environ).sign_receipt(content)
        result = verify_pdf(pdf, load_trust_roots(receipts))
    if result.status != "valid":
        raise SystemExit(f"the sample did not verify: {result}")
    args.out.write_bytes(pdf)
    print(f"{args.out}: {len(pdf)} bytes, {result.level} signature by {result.signer}")


if __name__ == "__main__":
    main()
