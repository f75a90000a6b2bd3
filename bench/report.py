"""What the benchmarks share: their figures' section of docs/performance.md, the production
server they measure, and finding its worker processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from contextlib import ExitStack
from pathlib import Path

from server.gunicorn_settings import command as production_command

ROOT = Path(__file__).resolve().parent.parent


def write_section(path: Path, title: str, section: str) -> None:
    """Replace the section headed `## title` of the Markdown file, or append it; touch nothing
    else, so each benchmark rewrites only its own figures."""
    text = path.read_text() if path.exists() else "# Performance\n"
    heading = f"## {title}"
    start = text.find(heading)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        following = text.find("\n## ", start + len(heading))
        end = len(text) if following == -1 else following + 1
        text = text[:start] + section + ("\n" + text[end:] if following != -1 else "")
    path.write_text(text.rstrip("\n") + "\n")


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is `pid` (a server's workers), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def start_gunicorn(stack: ExitStack, *, port: int, database_url: str, config: Path,
                   log_path: Path, workers: int | None = None, worker_class: str | None = None,
                   app: str = "server.wsgi:app") -> subprocess.Popen:
    """The production command (README "Production") on `port`, stopped when `stack` closes.

    `workers` None: one per core, as in production."""
    env = {**os.environ, "TURNOS_CONFIG": str(config), "TURNOS_DATABASE_URL": database_url}
    log = log_path.open("wb")
    stack.callback(log.close)
    command = production_command(f"127.0.0.1:{port}", workers)
    command[-1:] = [*(["--worker-class", worker_class] if worker_class else []), app]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def stop() -> None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    stack.callback(stop)
    return server
