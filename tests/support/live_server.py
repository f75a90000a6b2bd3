"""Real server processes on a free local port, for tests that need real sockets: `turnos
serve` (LiveServer) and the production gunicorn with its worker processes (GunicornServer)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from sqlalchemy.engine import URL, make_url

from server.gunicorn_settings import command as production_command
from server.peers import run_directory

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def turnos(*args: str, database_url: str, config: Path = ROOT / "config.toml",
           cwd: Path | None = None, env: dict[str, str] | None = None,
           input: str | None = None) -> str:
    """Run one `turnos` CLI command (with `input` on its stdin) and return what it printed."""
    result = subprocess.run(
        [sys.executable, "-m", "server", *args], cwd=cwd or ROOT,
        env=_env(database_url, config, env), input=input,
        check=True, capture_output=True, text=True, timeout=120,
    )
    return result.stdout


def _env(database_url: str, config: Path,
         extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(TURNOS_DATABASE_URL=database_url, TURNOS_CONFIG=str(config),
               PYTHONPATH=str(ROOT))
    env.update(extra or {})
    return env


@dataclass
class LiveServer:
    database_url: str
    config: Path = ROOT / "config.toml"
    port: int = field(default_factory=free_port)
    # Extra environment for the server, e.g. TURNOS_CLOCK_START so the CSA is open.
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    # The server's stderr goes to a file: a pipe nobody reads would fill up and stall it.
    log_path: Path = field(default_factory=lambda: Path(tempfile.mkstemp(suffix=".log")[1]))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> LiveServer:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1",
                 "--port", str(self.port)],
                cwd=ROOT, env=_env(self.database_url, self.config, self.env),
                stdout=subprocess.DEVNULL, stderr=log,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not become healthy in time")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing; what a power cut looks like to us."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        # Where the server's processes met (server/peers.py); nobody else uses this database.
        shutil.rmtree(run_directory(make_url(self.database_url)), ignore_errors=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class GunicornServer:
    """The production command (README "Production", server/gunicorn_settings.py) on a free
    port, started, healthy and every worker ready once constructed; `workers` None is one per
    core, as deployed.

    With `access_log`, gunicorn also writes one line per request there naming the worker
    process that served it (see `requests_by_worker`); the command itself is unchanged.
    """

    def __init__(self, database_url: str, log_path: Path, workers: int | None = None, *,
                 config: Path = ROOT / "config.toml", env: dict[str, str] | None = None,
                 access_log: Path | None = None, timeout: float = 60.0) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.access_log = access_log
        # Connections handed out by connections_to_each_worker, closed by stop().
        self._connections: list[WorkerConnection] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        extra = dict(env or {})
        if access_log is not None:
            # gunicorn reads these after its config file; "%(p)s" is the worker's "<pid>".
            extra["GUNICORN_CMD_ARGS"] = (f"--access-logfile {shlex.quote(str(access_log))} "
                                          "--access-logformat '%(p)s %(m)s %(U)s %(s)s'")
        with log_path.open("wb") as out:
            self.process = subprocess.Popen(
                production_command(f"127.0.0.1:{self.port}", workers), cwd=ROOT,
                env=_env(database_url, config, extra), stdout=out, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if (requests.get(f"{self.url}/healthz", timeout=5).status_code == 200
                        and self._every_worker_ready()):
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not become healthy:\n{self.log()}")

    def _every_worker_ready(self) -> bool:
        """Whether each worker has built its app: the last thing it does is bind its socket
        in the processes' run directory (server/peers.py), named after its pid."""
        workers = self.worker_pids()
        directory = run_directory(self._url())
        return bool(workers) and all((directory / f"{pid}.sock").exists() for pid in workers)

    def _url(self) -> URL:
        url = make_url(self.database_url)
        if url.drivername == "postgresql":  # as server.db.Database names it
            url = url.set(drivername="postgresql+psycopg")
        return url

    def worker_pids(self) -> list[int]:
        """The worker processes: the children of gunicorn's master, from /proc."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                # The command name, in parentheses, may hold spaces: the fields follow it.
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.process.pid:
                    found.append(int(stat.parent.name))
        return sorted(found)

    def worker_holding(self, client_port: int) -> int | None:
        """The worker process that holds the server's end of the open TCP connection coming
        from local port `client_port`, or None if no worker does (yet)."""
        held = self._sockets_held(self._sockets_on_port(remote_port=client_port))
        return next(iter(held), None)

    def worker_accepting(self, pid: int) -> bool:
        """Whether worker `pid` watches the listening socket for new connections: its event
        loop's epoll set holds that socket's descriptor (/proc/PID/fdinfo)."""
        listening = self._sockets_on_port(remote_port=0)
        descriptors = {}
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    descriptors[fd.name] = os.readlink(fd)
        watched = {name for name, link in descriptors.items() if link in listening}
        for name, link in descriptors.items():
            if link == "anon_inode:[eventpoll]":
                with contextlib.suppress(OSError):
                    info = Path(f"/proc/{pid}/fdinfo/{name}").read_text()
                    # One line per descriptor in the set: "tfd:        5 events: ..."
                    if watched & set(re.findall(r"^tfd:\s+(\d+)\s", info, re.MULTILINE)):
                        return True
        return False

    def _sockets_on_port(self, *, remote_port: int) -> set[str]:
        """Sockets on the server's port whose other end is `remote_port` (0: listening)."""
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(table).read_text().splitlines()[1:]:
                    fields = line.split()
                    local, remote, inode = fields[1], fields[2], fields[9]
                    if (int(local.rsplit(":", 1)[1], 16) == self.port
                            and int(remote.rsplit(":", 1)[1], 16) == remote_port):
                        inodes.add(f"socket:[{inode}]")
        return inodes

    def _sockets_held(self, inodes: set[str]) -> dict[int, set[str]]:
        held: dict[int, set[str]] = {}
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    with contextlib.suppress(OSError):
                        if (link := os.readlink(fd)) in inodes:
                            held.setdefault(pid, set()).add(link)
        return held

    def connections_to_each_worker(self, rounds: int = 20, at_once: int = 8
                                   ) -> dict[int, WorkerConnection]:
        """One open connection held by each worker process, each having answered /healthz.

        A new connection goes to a worker holding fewest (server/worker_balance.py), but which
        one that is also depends on the connections other tests and the server's own clients
        hold. So connections are opened `at_once` together, each sending its first request at
        the same moment, until every worker holds one; the spare ones are closed, and the
        others by `stop`."""
        workers = set(self.worker_pids())
        found: dict[int, WorkerConnection] = {}
        for _ in range(rounds):
            batch = [http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                     for _ in range(at_once)]
            statuses = _together(batch, "/healthz")
            if statuses != [200] * at_once:
                raise RuntimeError(f"/healthz answered {statuses}:\n{self.log()}")
            for connection in batch:
                if connection.sock is None:  # the worker answered "Connection: close"
                    continue
                worker = self.worker_holding(connection.sock.getsockname()[1])
                if worker in workers and worker not in found:
                    found[worker] = WorkerConnection(self, connection, worker)
                else:
                    connection.close()
            if len(found) == len(workers):
                self._connections += found.values()
                return found
        for kept in found.values():
            kept.close()
        raise RuntimeError(f"no connection reached some of the workers {sorted(workers)}, "
                           f"now {self.worker_pids()}:\n{self.log()}")

    def requests_by_worker(self, path: str) -> Counter[int]:
        """How many finished requests for paths starting with `path` each worker served (with
        `access_log` only); status codes are not looked at."""
        assert self.access_log is not None, "start the server with access_log"
        served: Counter[int] = Counter()
        for line in self.access_log.read_text().splitlines():
            match = _ACCESS_LINE.match(line)
            if match and match["path"].startswith(path):
                served[int(match["pid"])] += 1
        return served

    def stop(self) -> None:
        """SIGTERM (gunicorn's graceful stop); SIGKILL for the master and its workers if it
        does not end in time. The processes' run directory goes too."""
        for connection in self._connections:
            connection.close()
        if self.process.poll() is None:
            workers = self.worker_pids()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                for pid in workers:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(run_directory(self._url()), ignore_errors=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _together(connections: list[http.client.HTTPConnection], path: str) -> list[int | str]:
    """Connect each, then GET `path` on all at the same moment; the status codes (or what
    went wrong)."""
    start = threading.Barrier(len(connections))
    statuses: list[int | str] = []

    def first_request(connection: http.client.HTTPConnection) -> None:
        try:
            connection.connect()
            start.wait(10)
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
        except Exception as error:
            start.abort()
            statuses.append(repr(error))

    threads = [threading.Thread(target=first_request, args=(c,)) for c in connections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return statuses


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: http.client.HTTPMessage

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WorkerConnection:
    """A keep-alive HTTP connection that a known worker process holds: its requests are served
    by that worker. gunicorn closes it after 2 s without a request (its `keepalive`)."""

    server: GunicornServer
    connection: http.client.HTTPConnection
    worker: int

    def request(self, method: str, path: str, *, json_body: Any = None,
                form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        sent = dict(headers or {})
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        elif form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        sock = self.connection.sock
        # http.client would silently open a new connection, to whichever worker accepts it.
        if sock is None:
            raise ConnectionError(f"the connection to worker {self.worker} was closed")
        self.connection.request(method, path, body=body, headers=sent)
        response = self.connection.getresponse()
        answer = Answer(response.status, response.read(), response.headers)
        if self.connection.sock is not sock:
            raise ConnectionError(f"worker {self.worker} closed the connection")
        return answer

    def close(self) -> None:
        self.connection.close()


_ACCESS_LINE = re.compile(r"^<(?P<pid>\d+)> (?P<method>\S+) (?P<path>\S+) (?P<status>\d+)$")


def database_with_tokens(directory: Path, *roles: str, config: Path = ROOT / "config.toml"
                         ) -> tuple[str, dict[str, str]]:
    """A migrated SQLite database in `directory` and one CLI-made token per role."""
    database_url = f"sqlite:///{directory / 'turnos.sqlite'}"
    return database_url, tokens_for(database_url, *roles, config=config)


def tokens_for(database_url: str, *roles: str, config: Path = ROOT / "config.toml"
               ) -> dict[str, str]:
    """Migrate the database at `database_url` and make one token per role, with the CLI."""
    turnos("db", "upgrade", database_url=database_url, config=config)
    return {
        role: turnos("token", "create", role, "--role", role, database_url=database_url,
                     config=config).strip()
        for role in roles
    }
