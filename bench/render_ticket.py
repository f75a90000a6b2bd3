"""How long rendering one ticket to ESC/POS bytes takes (printers.layout.render_ticket).

    python bench/render_ticket.py [--tickets 20000] [--markdown]

Renders a realistic ticket (long CSA name, accented service name, preferential mark, position,
wait and the follow URL's native QR code) on 58 mm and 80 mm paper, without and with a logo,
in one process after a warm-up, and prints per-ticket times (mean, p50, p99) and the machine.
Every ticket gets its own number and follow URL, so no cache can hand back a whole ticket.
This is a benchmark, not a test: nothing here fails on a slow machine.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from printers.layout import TicketPrint, render_ticket  # noqa: E402

TARGET_MS = 2.0


def tickets(count: int) -> list[TicketPrint]:
    return [
        TicketPrint(
            csa_name="Centro de Servicios Administrativos Zona Centro",
            agency_name="Licencias de Conducir",
            service_name="Reposición de licencia por robo o extravío",
            number=f"Y-{n % 999 + 1:03d}",
            preferential=n % 3 == 0,
            issued_at_local="23/11/2026 10:00",
            position=n % 40 + 1,
            estimated_wait_minutes=n % 60,
            follow_url=f"https://turnos.csa-centro.gob.mx/t/{n:022d}",
        )
        for n in range(count)
    ]


def logo() -> bytes:
    out = io.BytesIO()
    Image.new("1", (576, 120), 1).save(out, "PNG")
    return out.getvalue()


def measure(batch: list[TicketPrint], width: int, image: bytes | None) -> list[float]:
    for ticket in batch[:200]:  # warm-up: profiles, code page tables, the logo's raster
        render_ticket(ticket, paper_width_mm=width, logo=image)
    times = []
    clock = time.perf_counter_ns
    for ticket in batch:
        started = clock()
        render_ticket(ticket, paper_width_mm=width, logo=image)
        times.append((clock() - started) / 1e6)
    return times


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.MULTILINE)
    cpu = model.group(1) if model else platform.processor()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu}, {os.cpu_count()} CPUs; {platform.platform()}; Python "
            f"{platform.python_version()}; 1-minute load average {load:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--markdown", action="store_true", help="print the docs table")
    args = parser.parse_args()
    batch = tickets(args.tickets)
    rows = []
    for width in (58, 80):
        for image in (None, logo()):
            times = sorted(measure(batch, width, image))
            rows.append((width, "yes" if image else "no", statistics.fmean(times),
                         times[len(times) // 2], times[int(len(times) * 0.99)],
                         len(render_ticket(batch[0], paper_width_mm=width, logo=image))))
    if args.markdown:
        print("| paper | logo | mean | p50 | p99 | bytes |")
        print("|---|---|---:|---:|---:|---:|")
        for width, with_logo, mean, p50, p99, size in rows:
            print(f"| {width} mm | {with_logo} | {mean:.3f} ms | {p50:.3f} ms | {p99:.3f} ms "
                  f"| {size} |")
    else:
        for width, with_logo, mean, p50, p99, size in rows:
            verdict = "ok" if p99 < TARGET_MS else f"OVER {TARGET_MS} ms"
            print(f"{width} mm, logo {with_logo:3}: mean {mean:.3f} ms  p50 {p50:.3f} ms  "
                  f"p99 {p99:.3f} ms  ({size} bytes)  {verdict}")
    print(f"\n{args.tickets} tickets per row. Machine: {machine()}")


if __name__ == "__main__":
    main()
