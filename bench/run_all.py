"""Run bench/throughput.py on SQLite and on PostgreSQL, then print one table of both.

    python bench/run_all.py [--duration 20] [--out DIR] [--sqlite-only] [--workers 1,2]
                            [--write-docs]

Each database (and number of server worker processes) runs in its own process, one after the
other, so that they never compete. Without --workers the server runs as in production, one
worker per core.
With --write-docs the table, the machine, the load and the in-process CPU per request
(bench/request_cpu.py) replace the "Throughput: latest run" section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from report import write_section  # noqa: E402

DOCS = BENCH.parent / "docs" / "performance.md"
SECTION = "Throughput: latest run"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--release", choices=("cancel", "serve"), default="cancel")
    parser.add_argument("--out", type=Path, default=None,
                        help="directory for the JSON results (default: a temporary one)")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--workers", default="",
                        help="comma-separated numbers of server worker processes to run each "
                             "database with (default: one run, one worker per core)")
    parser.add_argument("--write-docs", action="store_true",
                        help=f"write the figures into the '{SECTION}' section of {DOCS.name}")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="turnos-bench-results-"))
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    loads = [os.getloadavg()[0]]
    worker_counts = [int(n) for n in args.workers.split(",") if n.strip()] or [None]
    for db in ("sqlite",) if args.sqlite_only else ("sqlite", "postgres"):
        for workers in worker_counts:
            path = out / f"{db}-{workers or 'default'}.json"
            extra = ["--workers", str(workers)] if workers else []
            subprocess.run([sys.executable, str(BENCH / "throughput.py"), "--db", db,
                            "--duration", str(args.duration), "--warmup", str(args.warmup),
                            "--release", args.release, "--json", str(path), *extra],
                           check=True)
            results[path.stem] = json.loads(path.read_text())
            loads.append(os.getloadavg()[0])
    print()
    print(table(results))
    print(f"\nJSON results in {out}")
    if args.write_docs:
        cpu = subprocess.run([sys.executable, str(BENCH / "request_cpu.py")], check=True,
                             capture_output=True, text=True).stdout.strip()
        loads.append(os.getloadavg()[0])
        write_section(DOCS, SECTION, docs_section(results, cpu, loads, _shown(sys.argv[1:])))
        print(f"wrote the '{SECTION}' section of {DOCS}")


def table(results: dict) -> str:
    """The Markdown table docs/performance.md shows."""
    lines = [
        "| database | workers | issued/s | issue p50 | issue p99 | call-next/s | call-next p50 "
        "| call-next p99 | pairs/s | server CPU per request (issue / call-next phase) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results.values():
        issue, call = result["issue"], result["call_next"]
        lines.append(
            f"| {result['machine']['database']} | {result['workers']} "
            f"| {issue['issue']['per_second']:.0f} | {issue['issue']['p50_ms']:.1f} ms "
            f"| {issue['issue']['p99_ms']:.1f} ms | {call['call']['per_second']:.0f} "
            f"| {call['call']['p50_ms']:.1f} ms | {call['call']['p99_ms']:.1f} ms "
            f"| {call['cycles_per_second']:.0f} "
            f"| {issue['server_cpu_ms_per_request']:.2f} ms / "
            f"{call['server_cpu_ms_per_request']:.2f} ms |"
        )
    return "\n".join(lines)


def _shown(argv: list[str]) -> list[str]:
    """The options worth repeating in the docs: not --out, whose directory is this machine's."""
    shown, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--out":
            skip = True
        elif not arg.startswith("--out="):
            shown.append(arg)
    return shown


def docs_section(results: dict, cpu: str, loads: list[float], argv: list[str]) -> str:
    """Markdown for docs/performance.md: command, machine, table, load, CPU per request."""
    machine = next(iter(results.values()))["machine"]
    packages = ", ".join(f"{name} {version}" for name, version in machine["packages"].items())
    cpu_lines = "\n".join(f"    {line}" for line in cpu.splitlines()
                          if re.match(r"^(issue|call-next)", line))
    return f"""## {SECTION}

Written by `python bench/run_all.py {' '.join(argv)}` on {dt.date.today().isoformat()};
rerun it on a quiet machine to replace these figures (`--sqlite-only` skips PostgreSQL).

- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['ram_gib']} GiB RAM, Linux
  {machine['kernel']}; disk {machine['disk']}, {machine['fsync_per_second']} write + fdatasync
  per second when measured.
- Python {machine['python']}, SQLite {machine['sqlite']}, {machine['wrk']}; {packages}.
- 1-minute load average before, between and after the runs: {', '.join(f'{x:.1f}' for x in loads)}
  (above about 1, other work shared the two cores and the requests per second are low).

{table(results)}

Server CPU per request is the gunicorn workers' (and PostgreSQL's) user + system time divided by
the requests answered; it moves much less with the machine's load than requests per second do.
The application's own share, measured in one process without HTTP (`python
bench/request_cpu.py`: the WSGI app called directly on a real SQLite file, one request after
the other, so each request commits alone):

```
{cpu_lines}
```
"""


if __name__ == "__main__":
    main()
