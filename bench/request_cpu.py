"""CPU time per API request, measured in one process: a figure that other load hardly moves.

    python bench/request_cpu.py                  # issue and call-next + cancel, 2,000 each
    python bench/request_cpu.py --profile issue  # plus a cProfile listing of that phase

The application is built as `server.wsgi` builds it (gevent monkey-patching aside), on a fresh
SQLite file with WAL and synchronous=FULL in a temporary directory on the real disk, and the
requests go straight to its WSGI callable one after the other: no HTTP parsing, no sockets, so
this is the application's own share of what bench/throughput.py measures through gunicorn. The
live-push hub is pumped after every request, as its dispatcher would be, so fan-out counts too.

Process CPU time (user + system) divided by the requests is the figure; wall time includes
waiting for the disk and is printed alongside. This is a measuring tool, not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.app import create_app  # noqa: E402
from server.extensions import ext  # noqa: E402
from server.services import tokens  # noqa: E402
from server.settings import Settings  # noqa: E402

CONFIG = ROOT / "config.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per phase")
    parser.add_argument("--profile", choices=("issue", "call-next"), default=None,
                        help="print a cProfile listing of this phase")
    parser.add_argument("--top", type=int, default=40, help="lines of the listing")
    parser.add_argument("--workdir", default=None, help="where the SQLite file goes")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="turnos-cpu-", dir=args.workdir))
    try:
        app = create_app(Settings(config_path=CONFIG,
                                  database_url=f"sqlite:///{workdir / 'turnos.sqlite'}",
                                  start_hub=False))
        turnos = ext(app)
        kiosk = tokens.create_token(turnos.ctx, "cpu-kiosk", "kiosk")
        staff = tokens.create_token(turnos.ctx, "cpu-staff", "staff")
        client = Client(app, turnos.hub)
        services = [s.code for s in turnos.ctx.config.services]
        counters = [c for c in turnos.ctx.config.counters]
        results = {}

        def issue(i: int) -> None:
            client.post("/api/v1/tickets", kiosk, {"Idempotency-Key": f"cpu-{i:08d}"},
                        f'{{"service":"{services[i % len(services)]}"}}'.encode(), 201)

        def call_next(i: int) -> None:
            counter = counters[i % len(counters)]
            body = client.post(f"/api/v1/counters/{counter.id}/call-next", staff, {}, b"", 200)
            ticket = json.loads(body)["id"]
            client.post(f"/api/v1/tickets/{ticket}/cancel", staff, {}, b"", 200)

        # Enough waiting tickets for the call-next phase: every counter must find one.
        for i in range(args.requests * 2):
            issue(10_000_000 + i)
        results["issue"] = measure(issue, args.requests, args.profile == "issue", args.top)
        results["call-next + cancel"] = measure(call_next, args.requests,
                                                args.profile == "call-next", args.top,
                                                requests_per_call=2)
        for name, (cpu_ms, wall_ms) in results.items():
            print(f"{name:20s} CPU {cpu_ms:.3f} ms/request   wall {wall_ms:.3f} ms/request")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def measure(step, count: int, profile: bool, top: int, requests_per_call: int = 1
            ) -> tuple[float, float]:
    for i in range(count // 10):  # warm caches
        step(i + 5_000_000)
    # Timed in process CPU time, so that waiting for the disk or for other processes is left out.
    profiler = cProfile.Profile(time.process_time) if profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for i in range(count):
        step(i)
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
        out.write("\n")
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
        print(out.getvalue())
    requests = count * requests_per_call
    return 1000 * cpu / requests, 1000 * wall / requests


class Client:
    """Calls the WSGI application directly with a minimal environ, as a server would."""

    def __init__(self, app, hub) -> None:
        self._app = app
        self._hub = hub

    def post(self, path: str, token: str, headers: dict[str, str], body: bytes,
             expected: int) -> bytes:
        environ = {
            "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": path,
            "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": False,
            "wsgi.multiprocess": False, "wsgi.run_once": False,
            "HTTP_HOST": "127.0.0.1:8000", "HTTP_AUTHORIZATION": f"Bearer {token}",
            "CONTENT_LENGTH": str(len(body)),
        }
        if body:
            environ["CONTENT_TYPE"] = "application/json"
        for name, value in headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        status = []

        def start_response(line, _headers, _exc_info=None):
            status.append(line)

        chunks = self._app(environ, start_response)
        try:
            data = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        if not status[0].startswith(str(expected)):
            sys.exit(f"{path}: {status[0]} {data[:300]!r}")
        self._hub.pump()
        return data


if __name__ == "__main__":
    main()
