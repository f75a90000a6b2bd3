"""Live push at scale: call-next to event arrival at 1,000 Socket.IO clients of one server.

    python bench/push_fanout.py                      # print the figures
    python bench/push_fanout.py --docs docs/performance.md

It builds a fresh SQLite database in a temporary directory (`turnos db upgrade`, tokens from
`turnos token create`), starts the production command (`gunicorn --worker-class gevent`, one
worker, see README "Production"), issues a stock of waiting tickets, and then runs three
phases against the same server, each `--duration` seconds at `--rate` calls per second:

1. baseline: no Socket.IO client connected (call-next latency and server CPU without fan-out);
2. mix: `--clients` WebSocket clients in the rooms the real pages join: kiosks and the start
   page in `csa`, hall displays in their `zone:`, counter terminals in their `counter:` and
   service rooms, and citizens' phones (the rest) following one ticket each (`ticket:` and its
   `service:` room, as the follow page does);
3. all: the worst case, every client in `csa`, so every client receives every event.

The clients run in `--processes` separate processes (asyncio python-socketio clients, the
websocket transport, permessage-deflate offered as browsers do) so the generator is not the
server's bottleneck. A driver thread keeps a steady pace over the counters: complete the
counter's previous ticket, call-next (timed), start the called ticket, issue one new ticket.
Each client notes the CLOCK_MONOTONIC arrival of every event; the driver notes the moment each
call-next request started. Latency = arrival - request start, for every `ticket.called` at
every client that should get it. Events lost compares what each client received with what the
event log says its rooms should have received. The server's CPU time (from /proc) and RSS are
read around each phase. This is a benchmark, not a test: nothing here fails on a slow machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import child_pids, start_gunicorn  # noqa: E402

CONFIG = ROOT / "config.toml"


def main() -> None:
    args = _arguments()
    if args.worker:
        asyncio.run(_client_worker(Path(args.worker[0]), Path(args.worker[1])))
        return
    import requests

    from server.config import load_config
    from tests.support.live_server import free_port, turnos

    config = load_config(CONFIG)
    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="turnos-push-", dir=args.keep))
        if not args.keep:
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        url = f"sqlite:///{workdir / 'turnos.sqlite'}"
        turnos("db", "upgrade", database_url=url, config=CONFIG)
        tokens = {role: turnos("token", "create", f"push-{role}", "--role", role,
                               database_url=url, config=CONFIG).strip()
                  for role in ("staff", "display", "kiosk")}
        port = args.port or free_port()
        base = f"http://127.0.0.1:{port}"
        worker_pids = _serve(base, port, url, workdir, stack, args.app, args.workers)
        if args.pin and args.workers == 1 and len(os.sched_getaffinity(0)) > 1:
            # The server on the first CPU, the driver and the clients on the others: on one
            # machine a send over loopback wakes the reader, which would otherwise take the
            # server's CPU in the middle of a fan-out (real clients are on other machines).
            cpus = sorted(os.sched_getaffinity(0))
            for task in Path(f"/proc/{worker_pids[0]}/task").iterdir():
                os.sched_setaffinity(int(task.name), cpus[:1])
            os.sched_setaffinity(0, cpus[1:])
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {tokens['staff']}"
        counters = [c.id for c in config.counters]
        calls_per_phase = int(args.rate * args.duration)
        stock = _issue_stock(http, base, config, counters, calls_per_phase * 3)
        results: dict = {"machine": machine(), "settings": {
            k: v for k, v in vars(args).items() if k not in ("worker", "docs", "keep")}}
        run = Phase(base, http, url, counters, config, args, worker_pids, workdir)
        phases = args.phases.split(",")
        if "baseline" in phases:
            results["baseline"] = run.measure("baseline", [])
        if "mix" in phases:
            results["mix"] = run.measure("mix", _mix(config, tokens, args.clients,
                                                     _waiting(url, stock)))
        if "all" in phases:
            results["all"] = run.measure("all",
                                         [{"rooms": ["csa"], "token": None}] * args.clients)
    _print(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    if args.docs:
        from bench.report import write_section

        write_section(Path(args.docs), "Live push at scale", _markdown(results))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--rate", type=float, default=10.0, help="call-next per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per phase")
    parser.add_argument("--client", choices=("lean", "socketio"), default="lean",
                        help="the load generator's client: a lean Socket.IO protocol client "
                             "(default) or python-socketio's AsyncClient (heavier)")
    parser.add_argument("--no-deflate", dest="deflate", action="store_false",
                        help="clients do not offer permessage-deflate (browsers do)")
    parser.add_argument("--phases", default="baseline,mix,all",
                        help="which phases to run, comma-separated")
    parser.add_argument("--app", default="server.wsgi:app",
                        help="the WSGI application gunicorn serves (e.g. a profiling wrapper)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1,
                        help="server worker processes (default 1: what one process carries; "
                             "production runs one per core)")
    parser.add_argument("--no-pin", dest="pin", action="store_false",
                        help="do not pin the server to one CPU and the load generator to the "
                             "others")
    parser.add_argument("--keep", default=None, metavar="DIR",
                        help="keep the database, server log and client records under DIR")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--docs", default=None,
                        help="write the 'Live push at scale' section of this Markdown file")
    parser.add_argument("--worker", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    return parser.parse_args()


# --- server and data ------------------------------------------------------------------------

def _serve(base: str, port: int, url: str, workdir: Path, stack: ExitStack, app: str,
           workers: int) -> list[int]:
    """Start the production command with `workers` processes; their pids."""
    import requests

    server = start_gunicorn(stack, port=port, database_url=url, config=CONFIG,
                            log_path=workdir / "gunicorn.log", app=app, workers=workers)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited:\n{(workdir / 'gunicorn.log').read_text()}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                pids = child_pids(server.pid)
                if len(pids) == workers:
                    return pids
        time.sleep(0.2)
    sys.exit("gunicorn did not answer /healthz within 60 s")


def _issue_stock(http, base: str, config, counters: list[str], calls: int) -> list[dict]:
    """Enough waiting tickets for every counter's calls in all phases, issued over HTTP."""
    from concurrent.futures import ThreadPoolExecutor

    per_counter = calls // len(counters) + 2
    wanted: dict[str, int] = defaultdict(int)
    for counter in config.counters:
        wanted[counter.services[0]] += per_counter
    services = [code for code, n in wanted.items() for _ in range(n)]
    services += [s.code for s in config.services] * 10  # every service has some queue

    def issue(code: str) -> dict:
        response = http.post(f"{base}/api/v1/tickets", json={"service": code},
                             headers={"Idempotency-Key": uuid.uuid4().hex})
        response.raise_for_status()
        return response.json()

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(issue, services))


def _waiting(url: str, stock: list[dict]) -> list[dict]:
    """Stock tickets still waiting, in the order they will be called within each service."""
    from sqlalchemy import create_engine, select

    from server.models import Ticket

    engine = create_engine(url)
    with engine.connect() as conn:
        waiting = set(conn.execute(select(Ticket.id).where(Ticket.status == "waiting"))
                      .scalars())
    engine.dispose()
    return [t for t in stock if t["id"] in waiting]


def _mix(config, tokens: dict[str, str], clients: int, waiting: list[dict]) -> list[dict]:
    """The rooms real pages join: 10 kiosks, 10 displays, every counter, and phones."""
    specs = [{"rooms": ["csa"], "token": tokens["kiosk"]} for _ in range(10)]
    zones = [z.id for z in config.zones]
    specs += [{"rooms": [f"zone:{zones[n % len(zones)]}"], "token": tokens["display"]}
              for n in range(10)]
    specs += [{"rooms": [f"counter:{c.id}", *(f"service:{s}" for s in c.services)],
               "token": tokens["staff"]} for c in config.counters]
    # Phones: the earliest waiting tickets of every service in turn, as they will be called.
    by_service: dict[str, list[dict]] = defaultdict(list)
    for ticket in waiting:
        by_service[ticket["service"]].append(ticket)
    order = [t for rank in range(max(map(len, by_service.values())))
             for tickets in by_service.values() if rank < len(tickets)
             for t in [tickets[rank]]]
    for n in range(clients - len(specs)):
        ticket = order[n % len(order)]
        follow = ticket["follow_url"].rsplit("/", 1)[1]
        specs.append({"rooms": [f"ticket:{follow}", f"service:{ticket['service']}"],
                      "token": None, "ticket_id": ticket["id"]})
    return specs[:clients]


# --- one phase ------------------------------------------------------------------------------

class Phase:
    """Connect clients, drive calls at a steady pace, and collect what arrived where."""

    def __init__(self, base, http, url, counters, config, args, worker_pids, workdir) -> None:
        self.base, self.http, self.url = base, http, url
        self.counters, self.config, self.args = counters, config, args
        self.worker_pids, self.workdir = worker_pids, workdir
        self.current: dict[str, int] = {}
        # When each call-next's response had arrived, by ticket id.
        self.answered: dict[int, float] = {}
        self.issued = 0

    def measure(self, name: str, specs: list[dict]) -> dict:
        print(f"[{name}] connecting {len(specs)} clients", file=sys.stderr, flush=True)
        workers = self._start_clients(name, specs)
        connected_at = time.monotonic()
        time.sleep(2)  # let the connection burst settle before reading memory and CPU
        rss_idle = _rss(self.worker_pids)
        seq0 = self._seq()
        cpu0 = _cpu_seconds(self.worker_pids)
        print(f"[{name}] driving {self.args.rate}/s for {self.args.duration}s",
              file=sys.stderr, flush=True)
        starts, latencies, statuses = self._drive()
        time.sleep(2)  # the last calls' events are on their way
        user, system = (b - a for a, b in zip(cpu0, _cpu_seconds(self.worker_pids), strict=True))
        cpu = user + system
        seq1 = self._seq()
        received = self._stop_clients(workers)
        result = {
            "clients": len(specs),
            "connect_seconds": round(connected_at - workers[1], 1) if specs else 0,
            "calls": len(starts),
            "call_next_statuses": statuses,
            "call_next_ms": _percentiles([x * 1000 for x in latencies]),
            "server_cpu_seconds": round(cpu, 2),
            "server_cpu_system_share": round(system / cpu, 2) if cpu else 0,
            "server_cpu_ms_per_call": round(cpu * 1000 / max(len(starts), 1), 1),
            "rss_mib_connected": rss_idle,
            "rss_mib_after": _rss(self.worker_pids),
            "load_average": os.getloadavg()[0],
        }
        if specs:
            result.update(self._deliveries(specs, received, starts, seq0, seq1))
        print(f"[{name}] {json.dumps(result)}", file=sys.stderr, flush=True)
        return result

    def _start_clients(self, name: str, specs: list[dict]):
        if not specs:
            return ([], time.monotonic())
        started = time.monotonic()
        procs = []
        share = -(-len(specs) // self.args.processes)
        for n in range(self.args.processes):
            part = [dict(s, index=share * n + i) for i, s in enumerate(specs[share * n:
                                                                            share * (n + 1)])]
            spec = self.workdir / f"{name}-{n}.json"
            spec.write_text(json.dumps({"url": self.base, "clients": part,
                                        "deflate": self.args.deflate,
                                        "client": self.args.client}))
            out = self.workdir / f"{name}-{n}.out.json"
            procs.append((subprocess.Popen(
                [sys.executable, __file__, "--worker", str(spec), str(out)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True), out))
        for proc, _ in procs:
            line = proc.stdout.readline()
            if not line.startswith("ready"):
                sys.exit(f"a client process failed to connect: {line!r}")
        return (procs, started)

    def _stop_clients(self, workers) -> list[dict]:
        procs, _ = workers
        received: list[dict] = []
        for proc, _ in procs:
            proc.stdin.write("stop\n")
            proc.stdin.flush()
        for proc, out in procs:
            proc.wait(timeout=120)
            received += json.loads(out.read_text())
        return sorted(received, key=lambda r: r["index"])

    def _drive(self) -> tuple[dict[int, float], list[float], dict[str, int]]:
        """Call-next at a steady pace; the monotonic start of each call by ticket id."""
        period = 1 / self.args.rate
        total = int(self.args.rate * self.args.duration)
        starts: dict[int, float] = {}
        latencies: list[float] = []
        statuses: dict[str, int] = defaultdict(int)
        services = [s.code for s in self.config.services]
        begin = time.monotonic() + 0.1
        for k in range(total):
            delay = begin + k * period - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            counter = self.counters[k % len(self.counters)]
            previous = self.current.pop(counter, None)
            if previous is not None:
                self._post(f"/api/v1/tickets/{previous}/complete")
            start = time.monotonic()
            response = self.http.post(f"{self.base}/api/v1/counters/{counter}/call-next")
            end = time.monotonic()
            statuses[str(response.status_code)] += 1
            if response.status_code == 200:
                ticket = response.json()["id"]
                starts[ticket] = start
                self.answered[ticket] = end
                latencies.append(end - start)
                self.current[counter] = ticket
                self._post(f"/api/v1/tickets/{ticket}/start")
            self.issued += 1
            self.http.post(f"{self.base}/api/v1/tickets",
                           json={"service": services[self.issued % len(services)]},
                           headers={"Idempotency-Key": uuid.uuid4().hex}).raise_for_status()
        return starts, latencies, dict(statuses)

    def _post(self, path: str) -> None:
        self.http.post(f"{self.base}{path}").raise_for_status()

    def _seq(self) -> int:
        from sqlalchemy import create_engine

        from server.services import events

        engine = create_engine(self.url)
        with engine.connect() as conn:
            seq = events.current_seq(conn)
        engine.dispose()
        return seq

    def _deliveries(self, specs, received, starts, seq0, seq1) -> dict:
        """Latency of every call at every client that should get it; lost and extra events."""
        from sqlalchemy import create_engine

        from server.realtime import RoomMap
        from server.services import events

        engine = create_engine(self.url)
        with engine.connect() as conn:
            log = events.since(conn, seq0, limit=1_000_000)
        engine.dispose()
        log = [e for e in log if e.seq <= seq1]
        rooms_map = RoomMap(self.config)
        event_rooms = {e.seq: rooms_map.of(e) for e in log}
        called = {e.seq: e.ticket_id for e in log if e.type == "ticket.called"}
        latencies: list[float] = []
        after_answer: list[float] = []
        lost = extra = duplicates = disordered = disconnects = 0
        expected_total = 0
        queue_rate = 0
        for spec, got in zip(specs, received, strict=True):
            rooms = {f"ticket:{spec['ticket_id']}" if r.startswith("ticket:") else r
                     for r in spec["rooms"]}
            expected = {seq for seq, where in event_rooms.items() if where & rooms}
            seqs = [seq for seq, _ in got["events"] if seq0 < seq <= seq1]
            expected_total += len(expected)
            lost += len(expected - set(seqs))
            extra += len(set(seqs) - expected)
            duplicates += len(seqs) - len(set(seqs))
            disordered += sum(1 for a, b in zip(seqs, seqs[1:], strict=False) if b <= a)
            disconnects += got["disconnects"]
            for seq, arrived in got["events"]:
                if seq in called and called[seq] in starts:
                    latencies.append((arrived - starts[called[seq]]) * 1000)
                    after_answer.append((arrived - self.answered[called[seq]]) * 1000)
            per_second: dict[int, int] = defaultdict(int)
            for _, arrived in got["queue"]:
                per_second[int(arrived)] += 1
            queue_rate = max(queue_rate, max(per_second.values(), default=0))
        return {
            "events_in_log": len(log),
            "deliveries_expected": expected_total,
            "call_deliveries": len(latencies),
            "latency_ms": _percentiles(latencies),
            # The same arrivals counted from the moment the call-next response was back.
            "after_response_ms": _percentiles(after_answer),
            "lost": lost, "unexpected": extra, "duplicates": duplicates,
            "out_of_order": disordered, "disconnects": disconnects,
            "queue_changed_max_per_second_per_client": queue_rate,
        }


# --- the client processes -------------------------------------------------------------------

async def _client_worker(spec_path: Path, out: Path) -> None:
    """Connect this process' share of clients, report ready, record until told to stop."""
    spec = json.loads(spec_path.read_text())
    gate = asyncio.Semaphore(20)
    records: list[dict] = []
    closers: list = []
    client = _socketio_client if spec["client"] == "socketio" else _lean_client

    async def connect(entry: dict) -> None:
        record = {"index": entry["index"], "events": [], "queue": [], "disconnects": 0}
        records.append(record)
        async with gate:
            closers.append(await client(spec, entry, record))

    try:
        await asyncio.gather(*(connect(entry) for entry in spec["clients"]))
    except Exception as error:  # noqa: BLE001 - reported to the parent, which stops
        print(f"error {error!r}", flush=True)
        return
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    # Copied before disconnecting: the disconnects below are ours, not the server's.
    snapshot = [dict(r) for r in records]
    out.write_text(json.dumps(snapshot))
    await asyncio.gather(*(close() for close in closers), return_exceptions=True)


async def _socketio_client(spec: dict, entry: dict, record: dict):
    """A python-socketio AsyncClient, as a Python integration would connect."""
    import socketio

    extra = {"compress": 15} if spec["deflate"] else {}
    client = socketio.AsyncClient(reconnection=False, websocket_extra_options=extra)

    async def on_any(name, data=None):
        arrived = time.monotonic()
        if name == "queue.changed":
            record["queue"].append((data["seq"], arrived))
        elif name.startswith("ticket."):
            record["events"].append((data["seq"], arrived))

    def on_disconnect(*reason):
        record["disconnects"] += 1
        record["disconnect_reason"] = [str(r) for r in reason]

    client.on("*", on_any)
    client.on("disconnect", on_disconnect)
    auth = {"token": entry["token"]} if entry["token"] else None
    await client.connect(spec["url"], auth=auth, transports=["websocket"], wait_timeout=60)
    reply = await client.call("subscribe", {"rooms": entry["rooms"]}, timeout=60)
    if not reply.get("ok"):
        raise RuntimeError(f"subscribe refused: {reply}")
    return client.disconnect


_EVENT = re.compile(r'^42\["([\w.]+)",\{"seq":(\d+)')


async def _lean_client(spec: dict, entry: dict, record: dict):
    """The Socket.IO protocol over one aiohttp WebSocket, with only what a screen needs.

    python-socketio's client spends more CPU on each message than the server now does, so
    hundreds of them per process would measure the load generator, not the server. This one
    speaks the same protocol (Engine.IO 4 open/ping/pong, Socket.IO connect with auth, an
    acknowledged subscribe) and reads only the event name and seq of each message.
    """
    import aiohttp

    session = aiohttp.ClientSession()
    url = spec["url"].replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
    ws = await session.ws_connect(url, compress=15 if spec["deflate"] else 0,
                                  autoping=True, max_msg_size=0)
    opened = await ws.receive_str(timeout=60)
    if not opened.startswith("0"):
        raise RuntimeError(f"no Engine.IO open packet: {opened!r}")
    auth = {"token": entry["token"]} if entry["token"] else {}
    await ws.send_str("40" + json.dumps(auth))
    while not (reply := await ws.receive_str(timeout=60)).startswith("4"):
        if reply == "2":
            await ws.send_str("3")
    if not reply.startswith("40"):
        raise RuntimeError(f"connection refused: {reply!r}")
    await ws.send_str("421" + json.dumps(["subscribe", {"rooms": entry["rooms"]}]))
    while not (reply := await ws.receive_str(timeout=60)).startswith("431"):
        if reply == "2":
            await ws.send_str("3")
    if not json.loads(reply[3:])[0].get("ok"):
        raise RuntimeError(f"subscribe refused: {reply}")

    async def read() -> None:
        async for message in ws:
            arrived = time.monotonic()
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = message.data
            if data == "2":
                await ws.send_str("3")
                continue
            match = _EVENT.match(data)
            if match is None:
                continue
            name, seq = match.group(1), int(match.group(2))
            if name == "queue.changed":
                record["queue"].append((seq, arrived))
            elif name.startswith("ticket."):
                record["events"].append((seq, arrived))
        if not closing:
            record["disconnects"] += 1
            record["disconnect_reason"] = [str(ws.close_code)]

    closing = False
    reader = asyncio.create_task(read())

    async def close() -> None:
        nonlocal closing
        closing = True
        await ws.close()
        await session.close()
        reader.cancel()

    return close


# --- measuring the server -------------------------------------------------------------------

def _cpu_seconds(pids: list[int]) -> tuple[float, float]:
    """User and system CPU seconds of the worker processes so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    user = system = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        user, system = user + int(fields[11]) / ticks, system + int(fields[12]) / ticks
    return user, system


def _rss(pids: list[int]) -> float:
    """The worker processes' resident memory, MiB, all together."""
    total = 0
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        total += int(re.search(r"^VmRSS:\s*(\d+)", status, re.MULTILINE).group(1))
    return round(total / 1024, 1)


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50": round(statistics.median(ordered), 1), "p95": at(0.95), "p99": at(0.99),
            "max": round(ordered[-1], 1)}


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.MULTILINE)
    return {
        "cpu": model.group(1) if model else platform.processor(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": {name: importlib.metadata.version(name) for name in
                     ("gunicorn", "gevent", "python-socketio", "python-engineio",
                      "simple-websocket", "flask-socketio")},
        "load_average_at_start": os.getloadavg()[0],
    }


# --- output ---------------------------------------------------------------------------------

def _print(results: dict) -> None:
    print(json.dumps(results, indent=2))


def _markdown(results: dict) -> str:
    settings, machine_info = results["settings"], results["machine"]
    mix = results.get("mix", {})
    latency = mix.get("latency_ms", {})
    met = bool(latency) and latency["p50"] <= 15 and latency["p99"] <= 60 and mix["lost"] == 0
    lines = [
        "## Live push at scale", "",
        f"Target: with {settings['clients']:,} Socket.IO clients connected to one server "
        "process in the rooms the real pages join, the time from a call-next request to the "
        "`ticket.called` event's arrival at each client that should get it is **p50 ≤ 15 ms, "
        f"p99 ≤ 60 ms**, and no event is lost. Measured: **p50 {latency.get('p50')} ms, p99 "
        f"{latency.get('p99')} ms, {mix.get('lost')} lost** — target "
        f"{'met' if met else 'not met on this machine'}.", "",
        "| phase | clients | call deliveries | p50 | p95 | p99 | max | after the response: "
        "p50 / p99 | lost / duplicated / out of order / disconnects | call-next p50 / p99 | "
        "server CPU per call | server RSS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    names = {"baseline": "no clients", "mix": "real mix", "all": "all in `csa` (worst case)"}
    for phase, name in names.items():
        row = results.get(phase)
        if row is None:
            continue
        lat, after, call = (row.get("latency_ms", {}), row.get("after_response_ms", {}),
                            row["call_next_ms"])
        faults = (f"{row['lost']} / {row['duplicates']} / {row['out_of_order']} / "
                  f"{row['disconnects']}" if "lost" in row else "—")
        lines.append(
            f"| {name} | {row['clients']:,} | {row.get('call_deliveries', 0):,} | "
            f"{_ms(lat, 'p50')} | {_ms(lat, 'p95')} | {_ms(lat, 'p99')} | {_ms(lat, 'max')} | "
            f"{_ms(after, 'p50')} / {_ms(after, 'p99')} | {faults} | "
            f"{_ms(call, 'p50')} / {_ms(call, 'p99')} | {row['server_cpu_ms_per_call']} ms | "
            f"{row['rss_mib_connected']:.0f} MiB |")
    base, worst = results.get("baseline"), results.get("all")
    if base and latency:
        lines += [
            "",
            "Where the time goes: the latency includes the call-next request itself, which took "
            f"p50 {mix['call_next_ms']['p50']} ms with the clients connected "
            f"({base['call_next_ms']['p50']} ms without); once its response was back, the call "
            f"reached the clients p50 {mix['after_response_ms']['p50']} ms later. The server's "
            "CPU per call grew from "
            f"{base['server_cpu_ms_per_call']} ms to {mix['server_cpu_ms_per_call']} ms with "
            "the real mix (well under one CPU at this pace). Why call-next itself slows down "
            "with the clients connected is not separated here; the two CPUs were shared with "
            "other work (see Load below), so a quiet machine should be measured before "
            "concluding.",
        ]
    per_delivery = ""
    if base and worst and worst.get("deliveries_expected"):
        extra_cpu = worst["server_cpu_seconds"] - base["server_cpu_seconds"]
        per_delivery = (f" In the worst case the server spent {extra_cpu:.1f} s more CPU than "
                        f"without clients for {worst['deliveries_expected']:,} ticket events "
                        "delivered (plus the queue counts): about "
                        f"{extra_cpu * 1e6 / worst['deliveries_expected']:.0f} µs per message "
                        "and client.")
    lines += [
        "",
        f"- Command: `python bench/push_fanout.py --docs docs/performance.md` (defaults: "
        f"{settings['clients']:,} clients in {settings['processes']} processes, "
        f"{settings['rate']:g} call-next per second for {settings['duration']:g} s per phase, "
        f"the `{settings['client']}` client"
        f"{', permessage-deflate offered' if settings['deflate'] else ''}). About five "
        "minutes.",
        "- Set-up: a fresh SQLite database (`turnos db upgrade`, tokens from `turnos token "
        "create`), the production command `gunicorn --config python:server.gunicorn_settings "
        f"server.wsgi:app` with `--workers {settings['workers']}` (one process carries the "
        "clients; production runs one per core), a stock of waiting tickets. A driver "
        "goes round the 30 counters at a steady pace: complete the counter's previous "
        "ticket, call-next (timed), start it, issue one new ticket — four events per call. "
        + ("The server's worker is pinned to the first CPU, the driver and the four client "
         "processes to the other (`--no-pin` to let them float)." if settings["workers"] == 1
         else "Nothing is pinned to a CPU; CPU time and memory are of all the workers."),
        "- Real mix: 10 kiosks and start pages in `csa`; 10 hall displays in their `zone:`; "
        "30 counter terminals in `counter:` and their services' rooms; the rest are phones "
        "following one waiting ticket each (`ticket:` and its `service:` room, as the follow "
        "page does), so a call reaches its service's phones, counters, kiosks and zone. Worst "
        "case: every client in `csa` receives every event.",
        "- Latency: from the start of the call-next request (driver) to the arrival of the "
        "`ticket.called` message at each client (CLOCK_MONOTONIC, shared by all processes on "
        "Linux); it includes the call-next transaction itself. \"After the response\" counts "
        "from the moment the call-next response was back. Lost / duplicated / out of order: "
        "every client's ticket events checked against what the event log says its rooms "
        "should have received. Server CPU per call: the worker's user + system time "
        "(/proc) during the phase divided by the calls, each with its three other requests.",
        "- Load generator: clients speak the Socket.IO protocol over aiohttp WebSockets and "
        "read only each message's event name and seq (`--client socketio` uses "
        "python-socketio's AsyncClient, which costs more CPU per message than the server and "
        "then measures itself).",
        "- What made it fast (server/websocket.py): per-client permessage-deflate is "
        "declined (browsers offer it; it compressed every message once per client); text "
        "frames are written directly instead of through wsproto; a broadcast packet is framed "
        "once and written to each client's socket at once with one non-blocking send, "
        "instead of waking a writer greenlet per client; queue counts go out at most once a "
        "second. Before, one message to one client cost about 150 µs of server CPU and 300 "
        "clients in `csa` saturated the process at 10 calls/s (call p50 over 300 ms)."
        + per_delivery,
        f"- Machine: {machine_info['cpu']}, {machine_info['cores']} CPUs; Linux "
        f"{machine_info['kernel']}; Python {machine_info['python']}; "
        + ", ".join(f"{k} {v}" for k, v in machine_info["packages"].items()) + ".",
        f"- Load: the 1-minute load average was {machine_info['load_average_at_start']:.1f} "
        "at the start and "
        + ", ".join(f"{results[p]['load_average']:.1f}" for p in names if p in results)
        + " at the end of each phase: other work shared the two CPUs with the server and the "
        "four load-generator processes, so these latencies are pessimistic.",
        f"- Date: {time.strftime('%Y-%m-%d')}.",
    ]
    return "\n".join(lines) + "\n"


def _ms(values: dict, key: str) -> str:
    return f"{values[key]} ms" if key in values else "—"


if __name__ == "__main__":
    main()
