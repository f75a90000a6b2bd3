"""Tickets issued and call-next per second over HTTP, against the production server set-up.

    python bench/throughput.py --db sqlite
    python bench/throughput.py --db postgres

Each run builds a fresh database (an SQLite file in a temporary directory on the real disk, or
a PostgreSQL server started with fsync=on and synchronous_commit=on), creates a kiosk and a
staff token, starts `gunicorn --config python:server.gunicorn_settings server.wsgi:app` as in
production (gevent, one worker process per core), and drives it with wrk in a separate process
(bench/issue.lua, bench/call_next.lua):

1. issue: POST /api/v1/tickets at 16 connections, a fresh Idempotency-Key per request, cycling
   through every service of config.toml; after a warm-up, one measured run.
2. call-next: 16 connections, each one counter, call-next and then release the ticket
   (cancel by default; --release serve sends start + complete as staff do). The waiting
   tickets it calls are issued beforehand over HTTP as well (not measured).

It prints the machine, the versions and the figures, and with --json writes them to a file.
This is a benchmark, not a test: nothing here fails on a slow machine.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import platform
import re
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.report import child_pids, start_gunicorn  # noqa: E402
from server.clock import Clock  # noqa: E402
from server.config import load_config  # noqa: E402
from server.context import NoPush, Turnos  # noqa: E402
from server.db import Database  # noqa: E402
from server.domain.errors import DomainError  # noqa: E402
from server.domain.tickets import TicketStatus  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.models import Ticket  # noqa: E402
from server.services import calling, tokens  # noqa: E402
from server.services.catalog import sync_catalog  # noqa: E402

CONFIG = ROOT / "config.toml"


@dataclass
class Target:
    """The server under test and what the load generator needs to talk to it."""

    url: str
    ctx: Turnos
    kiosk_token: str
    staff_token: str
    # Processes whose CPU time counts as the server's: the gunicorn worker, and on PostgreSQL
    # the database server's processes too.
    server_pids: Callable[[], list[int]]


def main() -> None:
    args = _arguments()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: run scripts/install-system-deps.sh")
    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="turnos-bench-", dir=args.workdir))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        results: dict = {"machine": machine(args.db, workdir), "settings": vars(args).copy()}
        url, database_pids = _database(args.db, workdir, stack)
        ctx = _prepare(url)
        stack.callback(ctx.db.dispose)
        kiosk_token = tokens.create_token(ctx, "bench-kiosk", "kiosk")
        staff_token = tokens.create_token(ctx, "bench-staff", "staff")
        base, gunicorn = _serve(url, workdir, stack, args.port, args.worker_class, args.workers)
        target = Target(url=base, ctx=ctx, kiosk_token=kiosk_token, staff_token=staff_token,
                        server_pids=lambda: child_pids(gunicorn) + database_pids())
        results["workers"] = len(child_pids(gunicorn))
        results["issue"] = bench_issue(target, args)
        results["call_next"] = bench_call_next(target, args,
                                               results["issue"]["issue"]["per_second"])
    _print(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), required=True)
    parser.add_argument("--duration", type=int, default=20, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up per phase")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--issue-threads", type=int, default=2,
                        help="wrk threads for the issue phase (call-next uses one per "
                             "connection)")
    parser.add_argument("--release", choices=("cancel", "serve"), default="cancel",
                        help="how a counter frees itself after call-next")
    parser.add_argument("--stock", type=int, default=None,
                        help="waiting tickets to have before call-next (default: twice what "
                             "the issue phase managed in as many seconds)")
    parser.add_argument("--worker-class", default=None,
                        help="gunicorn worker class (default as in production: gevent)")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn worker processes (default as in production: one per "
                             "core)")
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument("--workdir", default=None,
                        help="where the SQLite file and logs go; must be on the disk being "
                             "measured, not tmpfs (default: the system temporary directory)")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    return parser.parse_args()


# --- set-up ---------------------------------------------------------------------------------

def _database(kind: str, workdir: Path, stack: ExitStack
              ) -> tuple[str, Callable[[], list[int]]]:
    """The database URL, and how to find the database server's processes (if any)."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'turnos.sqlite'}", list
    from tests.support.postgres import PostgresServer

    # fsync and synchronous_commit on: every acknowledged ticket is on disk, as in production.
    server = PostgresServer.start(fsync=True)
    stack.callback(server.stop)
    postmaster = int((server.root / "data" / "postmaster.pid").read_text().split()[0])
    return server.create_database(), lambda: [postmaster, *child_pids(postmaster)]


def _prepare(url: str) -> Turnos:
    """Schema and catalogue, as `turnos db upgrade` leaves them; the server finds them ready."""
    config = load_config(CONFIG)
    db = Database(url)
    upgrade(db.engine)
    sync_catalog(db, config)
    return Turnos(config=config, db=db, clock=Clock(), sink=NoPush())


def _serve(url: str, workdir: Path, stack: ExitStack, port: int, worker_class: str | None,
           workers: int | None) -> tuple[str, int]:
    """Start gunicorn as in production; its URL and the master's pid."""
    port = port or _free_port()
    server = start_gunicorn(stack, port=port, database_url=url, config=CONFIG,
                            log_path=workdir / "gunicorn.log", worker_class=worker_class,
                            workers=workers)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited:\n{(workdir / 'gunicorn.log').read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return base, server.pid
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not answer /healthz within 60 s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the two benchmarks ---------------------------------------------------------------------

def bench_issue(target: Target, args: argparse.Namespace) -> dict:
    """POST /api/v1/tickets at `--connections`, every service of the demo in turn."""
    services = ",".join(s.code for s in target.ctx.config.services)
    before = _ticket_count(target.ctx)
    _wrk(target, "issue.lua", args.warmup, args.connections, args.issue_threads,
         [target.kiosk_token, "warmup", services])
    warm = _settled_ticket_count(target.ctx)
    result = _wrk(target, "issue.lua", args.duration, args.connections, args.issue_threads,
                  [target.kiosk_token, "measured", services])
    created = _settled_ticket_count(target.ctx) - warm
    answered = result["issue"]["statuses"].get("201", 0)
    result["tickets_created"] = created
    result["warmup_tickets"] = warm - before
    result["waiting_after"] = _waiting(target.ctx, target.ctx.config.counters)
    # Every request got a 201, and every 201 is a ticket in the database. A few more tickets
    # may exist: requests still in flight when wrk stopped, at most one per connection.
    result["consistent"] = (
        answered == result["requests"] and result["socket_errors"] == 0
        and answered <= created <= answered + args.connections
    )
    # All requests are issues, so wrk's own histogram is the latency of issuing.
    result["issue"].update(result["all"])
    result["issue"]["per_second"] = answered / result["seconds"]
    return result


def bench_call_next(target: Target, args: argparse.Namespace, issue_rate: float) -> dict:
    """Each connection is one counter: call-next, release, call-next..."""
    counters = _spread(target.ctx, args.connections)
    counter_ids = ",".join(c.id for c in counters)
    # Stock the queues these counters serve, in proportion to how many of them serve each.
    # If call-next outruns the stock, some queue runs dry: that shows as 204s and the run is
    # marked inconsistent (then raise --stock).
    stock_services = ",".join(s for c in counters for s in c.services)
    needed = args.stock or int(2 * issue_rate * (args.duration + args.warmup))
    stocked = _waiting(target.ctx, counters)
    while stocked < needed:
        _wrk(target, "issue.lua", 5, args.connections, args.issue_threads,
             [target.kiosk_token, f"stock{stocked}", stock_services])
        _settled_ticket_count(target.ctx)
        stocked = _waiting(target.ctx, counters)
    wrk_args = [target.staff_token, counter_ids, args.release]
    _wrk(target, "call_next.lua", args.warmup, args.connections, args.connections, wrk_args)
    _release_all(target.ctx)
    result = _wrk(target, "call_next.lua", args.duration, args.connections, args.connections,
                  wrk_args)
    _release_all(target.ctx)
    result["counters"] = [c.id for c in counters]
    result["waiting_before"] = stocked
    result["waiting_after"] = _waiting(target.ctx, counters)
    release_kinds = ("cancel",) if args.release == "cancel" else ("start", "complete")
    cycles = result[release_kinds[-1]]["statuses"].get("200", 0)
    result["cycles_per_second"] = cycles / result["seconds"]
    # 204 would mean a queue ran dry and call-next measured an empty queue.
    result["consistent"] = (
        result["non_2xx"] == 0 and result["socket_errors"] == 0
        and set(result["call"]["statuses"]) == {"200"}
    )
    return result


def _spread(ctx: Turnos, count: int):
    """`count` counters spread evenly over config.toml, so every agency takes part."""
    counters = ctx.config.counters
    count = min(count, len(counters))
    return [counters[i * len(counters) // count] for i in range(count)]


def _wrk(target: Target, script: str, seconds: int, connections: int, threads: int,
         script_args: list[str]) -> dict:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
               "-s", str(BENCH / script), target.url, "--", *script_args]
    pids = target.server_pids()
    each_before = [_cpu_seconds([pid]) for pid in pids]
    stolen_before = _stolen_seconds()
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    finished = subprocess.run(command, capture_output=True, text=True, check=True)
    stolen = _stolen_seconds() - stolen_before
    # How the work fell on the server's processes: with few connections, the kernel may hand
    # one worker many more of them than the other (see docs/performance.md).
    each = [_cpu_seconds([pid]) - before for pid, before in zip(pids, each_before, strict=True)]
    cpu = sum(each)
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (wrk_after.ru_utime + wrk_after.ru_stime
               - wrk_before.ru_utime - wrk_before.ru_stime)
    match = re.search(r"^BENCH_JSON (.*)$", finished.stdout, re.MULTILINE)
    if match is None:
        sys.exit(f"wrk printed no result:\n{finished.stdout}\n{finished.stderr}")
    result = json.loads(match.group(1))
    # CPU per request does not depend on what else the machine runs, unlike req/s.
    result["server_cpu_ms_per_request"] = 1000 * cpu / max(1.0, result["requests"])
    result["cpu_share_by_process"] = [round(part / max(cpu, 1e-9), 2) for part in each]
    # On a virtual machine the host may run other guests on our cores: that time is lost.
    result["stolen_cpu_percent"] = round(
        100 * stolen / (result["seconds"] * (os.cpu_count() or 1)), 1)
    # The load generator shares the machine's cores with the server.
    result["wrk_cpu_ms_per_request"] = 1000 * wrk_cpu / max(1.0, result["requests"])
    result["load_average_after"] = os.getloadavg()[0]
    return result


def _stolen_seconds() -> float:
    """CPU time the hypervisor gave to others, all cores together, from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of `pids`, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def _ticket_count(ctx: Turnos) -> int:
    with ctx.db.read() as conn:
        return conn.execute(select(func.count()).select_from(Ticket)).scalar_one()


def _settled_ticket_count(ctx: Turnos) -> int:
    """The count once the requests wrk left in flight have finished."""
    count = _ticket_count(ctx)
    while True:
        time.sleep(0.5)
        again = _ticket_count(ctx)
        if again == count:
            return count
        count = again


def _waiting(ctx: Turnos, counters) -> int:
    services = {s for c in counters for s in c.services}
    with ctx.db.read() as conn:
        return conn.execute(
            select(func.count()).select_from(Ticket).where(
                Ticket.status == TicketStatus.WAITING.value, Ticket.service_code.in_(services)
            )
        ).scalar_one()


def _release_all(ctx: Turnos) -> None:
    """wrk stops mid-cycle: cancel what counters still hold so the next run starts clean."""
    time.sleep(1)  # let the requests wrk left in flight finish
    with ctx.db.read() as conn:
        held = conn.execute(select(Ticket.id).where(
            Ticket.status.in_((TicketStatus.CALLED.value, TicketStatus.SERVING.value))
        )).scalars().all()
    for ticket_id in held:
        # DomainError: its own request released it after all.
        with contextlib.suppress(DomainError):
            calling.cancel(ctx, ticket_id, actor="bench")


# --- reporting ------------------------------------------------------------------------------

def machine(db: str, workdir: Path) -> dict:
    """What the figures were measured on."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.MULTILINE)
    meminfo = Path("/proc/meminfo").read_text()
    mem_kb = int(re.search(r"^MemTotal:\s*(\d+)", meminfo, re.MULTILINE).group(1))
    info = {
        "cpu": model.group(1) if model else platform.processor(),
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "wrk": _version(["wrk", "-v"]).split(" Copyright")[0],
        "packages": {name: importlib.metadata.version(name) for name in
                     ("gunicorn", "gevent", "flask", "sqlalchemy", "psycopg")},
        "database": db,
        "disk": _filesystem(workdir),
        "fsync_per_second": _fsync_rate(workdir),
    }
    if db == "postgres":
        from tests.support.postgres import _bindir

        info["postgresql"] = _version([str(_bindir() / "postgres"), "--version"])
    return info


def _version(command: list[str]) -> str:
    finished = subprocess.run(command, capture_output=True, text=True)
    return (finished.stdout or finished.stderr).splitlines()[0].strip()


def _filesystem(path: Path) -> str:
    """The mount under `path` and whether its block device is rotational, from /proc."""
    best = ("", "?", "?")
    for line in Path("/proc/mounts").read_text().splitlines():
        device, mount, fstype, *_ = line.split()
        if str(path.resolve()).startswith(mount) and len(mount) >= len(best[1]):
            best = (device, mount, fstype)
    device, mount, fstype = best
    rotational = Path(f"/sys/block/{Path(device).name}/queue/rotational")
    kind = ""
    if rotational.exists():
        kind = ", rotational" if rotational.read_text().strip() == "1" else ", non-rotational"
    return f"{device} on {mount} ({fstype}{kind})"


def _fsync_rate(workdir: Path, seconds: float = 2.0) -> float:
    """How many 4 KiB write + fdatasync pairs the disk does per second: the commit ceiling."""
    with tempfile.NamedTemporaryFile(dir=workdir) as handle:
        fd = handle.fileno()
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            os.write(fd, b"\0" * 4096)
            os.fdatasync(fd)
            done += 1
        return round(done / (time.perf_counter() - start))


def _print(results: dict) -> None:
    machine, issue, call = results["machine"], results["issue"], results["call_next"]
    print(json.dumps(machine, indent=2))
    print(f"issue      {issue['issue']['per_second']:8.0f} req/s  "
          f"p50 {issue['issue']['p50_ms']:6.2f} ms  p99 {issue['issue']['p99_ms']:6.2f} ms  "
          f"server CPU {issue['server_cpu_ms_per_request']:.2f} ms/req  "
          f"wrk CPU {issue['wrk_cpu_ms_per_request']:.2f} ms/req  "
          f"split {issue['cpu_share_by_process']}  steal {issue['stolen_cpu_percent']}%  "
          f"({issue['tickets_created']} tickets, consistent={issue['consistent']})")
    print(f"call-next  {call['call']['per_second']:8.0f} req/s  "
          f"p50 {call['call']['p50_ms']:6.2f} ms  p99 {call['call']['p99_ms']:6.2f} ms  "
          f"server CPU {call['server_cpu_ms_per_request']:.2f} ms/req  "
          f"wrk CPU {call['wrk_cpu_ms_per_request']:.2f} ms/req  "
          f"split {call['cpu_share_by_process']}  steal {call['stolen_cpu_percent']}%  "
          f"(cycles {call['cycles_per_second']:.0f}/s, all requests "
          f"{call['all']['per_second']:.0f}/s, consistent={call['consistent']})")
    print(f"load average after the runs: {issue['load_average_after']:.1f}, "
          f"{call['load_average_after']:.1f}")


if __name__ == "__main__":
    main()
