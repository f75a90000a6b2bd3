"""A real `turnos serve` process on a free local port, for tests that need real sockets."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

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

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def database_with_tokens(directory: Path, *roles: str) -> tuple[str, dict[str, str]]:
    """A migrated SQLite database in `directory` and one CLI-made token per role."""
    database_url = f"sqlite:///{directory / 'turnos.sqlite'}"
    turnos("db", "upgrade", database_url=database_url)
    tokens = {
        role: turnos("token", "create", role, "--role", role, database_url=database_url).strip()
        for role in roles
    }
    return database_url, tokens
