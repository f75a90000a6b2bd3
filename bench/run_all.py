"""Run bench/throughput.py on SQLite and on PostgreSQL, then print one table of both.

    python bench/run_all.py [--duration 20] [--out DIR]

Each database runs in its own process, one after the other, so that they never compete.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--release", choices=("cancel", "serve"), default="cancel")
    parser.add_argument("--out", type=Path, default=None,
                        help="directory for the JSON results (default: a temporary one)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="turnos-bench-results-"))
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for db in ("sqlite", "postgres"):
        path = out / f"{db}.json"
        subprocess.run([sys.executable, str(BENCH / "throughput.py"), "--db", db,
                        "--duration", str(args.duration), "--warmup", str(args.warmup),
                        "--release", args.release, "--json", str(path)], check=True)
        results[db] = json.loads(path.read_text())
    print()
    print(table(results))
    print(f"\nJSON results in {out}")


def table(results: dict) -> str:
    """The Markdown table docs/performance.md shows."""
    lines = [
        "| database | issued/s | issue p50 | issue p99 | call-next/s | call-next p50 "
        "| call-next p99 | pairs/s | server CPU per request (issue / call-next phase) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for db, result in results.items():
        issue, call = result["issue"], result["call_next"]
        lines.append(
            f"| {db} | {issue['issue']['per_second']:.0f} | {issue['issue']['p50_ms']:.1f} ms "
            f"| {issue['issue']['p99_ms']:.1f} ms | {call['call']['per_second']:.0f} "
            f"| {call['call']['p50_ms']:.1f} ms | {call['call']['p99_ms']:.1f} ms "
            f"| {call['cycles_per_second']:.0f} "
            f"| {issue['server_cpu_ms_per_request']:.2f} ms / "
            f"{call['server_cpu_ms_per_request']:.2f} ms |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
