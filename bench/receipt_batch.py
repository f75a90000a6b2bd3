"""How long `turnos receipts sign --day` takes for a busy day's receipts (1,000 by default).

    python bench/receipt_batch.py [--receipts 1000] [--processes 2] [--write-docs]

Makes a throw-away development CA and signing certificate, a copy of the demo config.toml
whose [receipts] point at them, and an SQLite database holding `--receipts` completed tickets
of one day with their pending receipts (inserted directly: this measures the batch, not the
counters). Then it runs the real CLI, `python -m server receipts sign --day ...`, in a
subprocess, and reports its wall time (process start, key loading, the pool of signing
processes, the file store and the database updates all included), then checks every receipt
is signed. With --write-docs the figures replace the "Receipt batch" section of
docs/performance.md. Target (issue 6): 1,000 receipts under 20 s on a 2-core machine.
This is a benchmark, not a test: nothing here fails on a slow machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from bench.report import write_section  # noqa: E402
from server.config import load_config  # noqa: E402
from server.db import Database  # noqa: E402
from server.domain.receipt_folio import new_folio  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.models import Receipt, Ticket  # noqa: E402
from server.receipts.keys import PASSPHRASE_FILE, make_dev_keys, write_dev_keys  # noqa: E402
from server.services.catalog import sync_catalog  # noqa: E402

SECTION = "Receipt batch"
DAY = dt.date(2026, 11, 23)
TARGET_SECONDS = 20.0
PASSPHRASE_ENV = "TURNOS_BENCH_RECEIPTS_PASSPHRASE"


def prepare(directory: Path, count: int) -> tuple[Path, str, dict[str, str]]:
    keys = directory / "keys"
    write_dev_keys(make_dev_keys("Centro de Servicios Administrativos Zona Centro"), keys)
    text = re.sub(r"(?ms)^\[receipts\]\n.*?(?=^\[|\Z)", "",
                  (ROOT / "config.toml").read_text(encoding="utf-8"))
    text += (f'\n[receipts]\nenabled = true\npkcs12 = "{keys / "signing.p12"}"\n'
             f'passphrase_env = "{PASSPHRASE_ENV}"\ntrust_roots = ["{keys / "ca.pem"}"]\n'
             f'storage_dir = "{directory / "receipts"}"\n')
    config_path = directory / "config.toml"
    config_path.write_text(text, encoding="utf-8")
    url = f"sqlite:///{directory / 'turnos.sqlite'}"
    config = load_config(config_path)
    db = Database(url)
    upgrade(db.engine)
    sync_catalog(db, config)
    fill(db, config, count)
    db.dispose()
    env = {**os.environ, "TURNOS_CONFIG": str(config_path), "TURNOS_DATABASE_URL": url,
           "PYTHONPATH": str(ROOT),
           PASSPHRASE_ENV: (keys / PASSPHRASE_FILE).read_text().strip()}
    return config_path, url, env


def fill(db: Database, config, count: int) -> None:
    """`count` tickets completed at the counters of the day, each with a pending receipt."""
    opened = dt.datetime.combine(DAY, config.hours.opens, tzinfo=config.timezone)
    counters = [c for c in config.counters]
    tickets, receipts = [], []
    sequences: dict[str, int] = {}
    for n in range(count):
        counter = counters[n % len(counters)]
        service = config.service(counter.services[n % len(counter.services)])
        sequence = sequences[service.code] = sequences.get(service.code, 0) + 1
        issued = (opened + dt.timedelta(seconds=20 * n)).astimezone(dt.UTC)
        called = issued + dt.timedelta(minutes=12)
        finished = called + dt.timedelta(minutes=7)
        tickets.append({
            "id": n + 1, "follow_token": secrets.token_urlsafe(16),
            "service_code": service.code, "issued_service_code": service.code, "day": DAY,
            "sequence": sequence, "number": f"{service.prefix}-{sequence:03d}",
            "preferential": False, "status": "completed", "issued_at": issued,
            "queued_at": issued, "front": False, "counter_id": counter.id,
            "first_called_at": called, "called_at": called, "recall_count": 0,
            "started_at": called + dt.timedelta(minutes=1), "finished_at": finished,
            "outcome": ("resolved", "follow_up", "rejected")[n % 3],
            "folio": f"EXP-{n:05d}" if n % 2 else None,
            "note": "Se entregó el trámite con observaciones menores." if n % 5 == 0 else None,
            "transfer_count": 0,
        })
        receipts.append({
            "folio": new_folio(), "ticket_id": n + 1, "day": DAY, "counter_id": counter.id,
            "actor": None, "locale": "es_MX", "status": "pending", "attempts": 0,
            "created_at": finished, "next_attempt_at": finished,
        })
    with db.write() as conn:
        conn.execute(insert(Ticket.__table__), tickets)
        conn.execute(insert(Receipt.__table__), receipts)


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text()) if cpuinfo.exists() else None
    cpu = model.group(1) if model else platform.processor()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu}, {os.cpu_count()} CPUs; {platform.platform()}; Python "
            f"{platform.python_version()}; 1-minute load average before the run {load:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--receipts", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="turnos-receipt-batch-") as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        _, url, env = prepare(directory, args.receipts)
        print(f"prepared {args.receipts} pending receipts in "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
        where = machine()
        command = [sys.executable, "-m", "server", "receipts", "sign", "--day", DAY.isoformat(),
                   "--processes", str(args.processes)]
        started = time.perf_counter()
        result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if result.returncode != 0:
            sys.exit(f"the batch failed:\n{result.stderr}")
        db = Database(url)
        with db.read() as conn:
            signed = conn.execute(select(func.count()).where(Receipt.status == "signed")).scalar()
            size = conn.execute(select(func.avg(Receipt.size_bytes))).scalar()
        db.dispose()
    per = wall / args.receipts * 1000
    verdict = "meets" if wall <= TARGET_SECONDS * args.receipts / 1000 else "misses"
    print(f"{signed}/{args.receipts} signed in {wall:.1f} s ({per:.1f} ms per receipt)")
    report = "\n".join([
        f"## {SECTION}",
        "",
        "`turnos receipts sign --day` producing a whole day's receipts: render each one-page "
        "PDF, sign it (PAdES B-B), store the file and record its hash. Measured end to end "
        "on the real CLI in a subprocess (start-up, key loading, the process pool, the file "
        "store and the database updates included).",
        "",
        "```",
        f"python bench/receipt_batch.py --receipts {args.receipts} "
        f"--processes {args.processes} --write-docs",
        "```",
        "",
        f"- Machine: {where}.",
        f"- {signed} of {args.receipts} receipts signed in **{wall:.1f} s** "
        f"({per:.1f} ms per receipt, {args.processes} signing processes); "
        f"average PDF {size / 1024:.0f} KiB.",
        f"- Target: 1,000 receipts under {TARGET_SECONDS:.0f} s on 2 cores: {verdict} it. "
        "Other work on the machine during the run (the figure is noisy when the load "
        "average above is high) slows it; rerun on a quiet machine for a clean figure.",
        "",
    ])
    print(report)
    if args.write_docs:
        write_section(ROOT / "docs" / "performance.md", SECTION, report)


if __name__ == "__main__":
    main()
