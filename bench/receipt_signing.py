"""How long one signed receipt takes: draw the PDF and sign it PAdES B-B (the library alone).

    python bench/receipt_signing.py [--receipts 300] [--batch 1000] [--processes 2] [--docs PATH]

A development CA and signing key are made in a temporary folder first (not timed). Then:
- one process signs `--receipts` receipts one after another, after a warm-up, and reports
  the median and p95 of build + B-B signature per receipt;
- a pool of `--processes` processes, each loading the key once, signs `--batch` receipts;
  the wall time counts from before the pool starts to the last PDF back in the parent.
Every receipt has its own folio, ticket number and verify URL. A few are checked with
`verify_pdf` afterwards. With --docs the figures replace the "Signed receipts" section of
that Markdown file (docs/performance.md). A benchmark, not a test: nothing fails when slow.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.render_ticket import machine  # noqa: E402
from bench.report import write_section  # noqa: E402
from server.config_types import ReceiptsConfig  # noqa: E402
from server.receipts.document import ReceiptContent  # noqa: E402
from server.receipts.keys import make_dev_keys, write_dev_keys  # noqa: E402
from server.receipts.signing import ReceiptSigner  # noqa: E402
from server.receipts.verification import load_trust_roots, verify_pdf  # noqa: E402

SECTION = "Signed receipts"
TARGET_MEDIAN_MS = 15.0
TARGET_BATCH_S = 20.0
PASSPHRASE_ENV = "TURNOS_BENCH_SIGNING_PASSPHRASE"
STARTED = dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC)


def content(n: int) -> ReceiptContent:
    """Receipt number n of a realistic day: accented names, a folio and note on some."""
    folio = f"CSA-{n // 10000:04d}-{n % 10000:04d}"
    issued = STARTED + dt.timedelta(seconds=37 * n)
    return ReceiptContent(
        receipt_folio=folio,
        csa_name="Centro de Servicios Administrativos Zona Centro",
        agency_name="Dirección del Registro Civil",
        service_code="ACTA",
        service_name="Copia certificada de acta de nacimiento",
        ticket_number=f"A-{n % 999 + 1:03d}",
        counter_name=f"Ventanilla {17 + n % 6}",
        staff_name=None,
        issued_at=issued,
        called_at=issued + dt.timedelta(minutes=12),
        started_at=issued + dt.timedelta(minutes=13),
        completed_at=issued + dt.timedelta(minutes=21),
        outcome=("resolved", "follow_up", "rejected")[n % 3],
        procedure_folio=f"RC-2026-{n:06d}" if n % 2 else None,
        note="Traer identificación oficial y CURP; pagar derechos en caja." if n % 4 == 1
        else None,
        verify_url=f"https://turnos.csa-centro.gob.mx/verify/{folio}",
        timezone=ZoneInfo("America/Mexico_City"),
    )


_signer: ReceiptSigner | None = None


def _load(config: ReceiptsConfig, environ: dict[str, str]) -> None:
    global _signer
    _signer = ReceiptSigner.from_config(config, environ)
    _signer.sign_receipt(content(0))  # warm-up: fonts, the CMS structure


def _sign_range(bounds: tuple[int, int]) -> list[bytes]:
    assert _signer is not None
    return [_signer.sign_receipt(content(n)) for n in range(*bounds)]


def sequential(config: ReceiptsConfig, environ: dict[str, str],
               count: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds per receipt (CPU time is what a busy machine distorts least)."""
    signer = ReceiptSigner.from_config(config, environ)
    for n in range(30):
        signer.sign_receipt(content(n))
    wall, cpu = [], []
    for n in range(count):
        started, started_cpu = time.perf_counter_ns(), time.process_time_ns()
        signer.sign_receipt(content(100_000 + n))
        cpu.append((time.process_time_ns() - started_cpu) / 1e6)
        wall.append((time.perf_counter_ns() - started) / 1e6)
    return wall, cpu


def batch(config: ReceiptsConfig, environ: dict[str, str], count: int,
          processes: int) -> tuple[float, list[bytes]]:
    chunk = 50
    ranges = [(start, min(start + chunk, count)) for start in range(0, count, chunk)]
    started = time.perf_counter()
    with ProcessPoolExecutor(processes, initializer=_load, initargs=(config, environ)) as pool:
        pdfs = [pdf for part in pool.map(_sign_range, ranges) for pdf in part]
    return time.perf_counter() - started, pdfs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--receipts", type=int, default=300, help="sequential receipts timed")
    parser.add_argument("--batch", type=int, default=1000, help="receipts in the pool batch")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--docs", type=Path, default=None,
                        help="Markdown file whose 'Signed receipts' section gets the figures")
    args = parser.parse_args()

    keys = Path(tempfile.mkdtemp(prefix="turnos-bench-keys-"))
    written = write_dev_keys(make_dev_keys("Centro de Servicios Administrativos Zona Centro"),
                             keys)
    environ = {PASSPHRASE_ENV: written["passphrase"].read_text().strip()}
    config = ReceiptsConfig(enabled=True, pkcs12=str(written["signing"]),
                            passphrase_env=PASSPHRASE_ENV,
                            trust_roots=(str(written["ca_cert"]),))
    load_before = os.getloadavg()[0]

    times, cpu = (sorted(series) for series in sequential(config, environ, args.receipts))
    median, p95 = statistics.median(times), times[int(len(times) * 0.95)]
    cpu_median = statistics.median(cpu)
    wall, pdfs = batch(config, environ, args.batch, args.processes)

    roots = load_trust_roots(config)
    checked = [verify_pdf(pdf, roots).status for pdf in (pdfs[0], pdfs[len(pdfs) // 2], pdfs[-1])]
    size = statistics.fmean(len(pdf) for pdf in pdfs) / 1024
    print(f"build + B-B signature, one process: median {median:.2f} ms, p95 {p95:.2f} ms, "
          f"mean {statistics.fmean(times):.2f} ms over {len(times)} receipts; CPU time median "
          f"{cpu_median:.2f} ms")
    print(f"batch: {len(pdfs)} receipts in {wall:.2f} s with {args.processes} processes "
          f"({wall / len(pdfs) * 1000:.2f} ms per receipt); average PDF {size:.0f} KiB; "
          f"spot checks {checked}")
    print(f"machine: {machine()}")
    if args.docs:
        write_section(args.docs, SECTION, report(args, median, p95, cpu_median, wall,
                                                 len(pdfs), size, checked, load_before))
        print(f"figures written to {args.docs}")


def report(args, median: float, p95: float, cpu_median: float, wall: float, count: int,
           size: float, checked: list[str], load_before: float) -> str:
    def verdict(ok: bool) -> str:
        return "meets it" if ok else "misses it"

    command = (f"python bench/receipt_signing.py --receipts {args.receipts} --batch {args.batch}"
               f" --processes {args.processes} --docs docs/performance.md")
    median_row = (f"| build + B-B signature, median (one process, {args.receipts} receipts) "
                  f"| **{median:.2f} ms** | ≤ {TARGET_MEDIAN_MS:.0f} ms: "
                  f"{verdict(median <= TARGET_MEDIAN_MS)} |")
    batch_row = (f"| {count} receipts, pool of {args.processes} processes, wall time "
                 f"| **{wall:.2f} s** | < {TARGET_BATCH_S:.0f} s: "
                 f"{verdict(wall < TARGET_BATCH_S)} |")

    return f"""## {SECTION}

The receipt library alone (`server.receipts`): draw the one-page PDF and sign it PAdES B-B with
the CSA's key, in memory. The key is parsed once per process; the PDF is written once and
signed without being read back; B-B signatures after the first reuse the CMS structure pyHanko
built (only the message digest and the signature value change between receipts).

```
{command}
```

| measure | result | target |
|---|---:|---|
{median_row}
| build + B-B signature, p95 | {p95:.2f} ms | |
| build + B-B signature, CPU time of the process, median | {cpu_median:.2f} ms | |
{batch_row}
| average signed PDF | {size:.0f} KiB | |

- The batch's wall time includes starting the processes and loading the key in each; every
  receipt has its own folio, ticket number and verify URL. Spot checks with `verify_pdf`:
  {", ".join(checked)}.
- The end-to-end figure with the database and the file store is in "Receipt batch".
- Machine: {machine()} (at the end of the run; {load_before:.1f} before it). Other work
  shared the 2 CPUs, so these figures are pessimistic; rerun the command above on a quiet
  machine for clean ones. The CPU time is the least disturbed figure.
- Date: {dt.date.today().isoformat()}.
"""


if __name__ == "__main__":
    main()
