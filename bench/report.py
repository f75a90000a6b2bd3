"""What the benchmarks share: their figures' section of docs/performance.md, and finding a
server's worker processes."""

from __future__ import annotations

import contextlib
from pathlib import Path


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
