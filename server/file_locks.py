"""Exclusive locks on files (flock), shared by the processes of one server.

A lock goes with its file descriptor: a process that dies, even by SIGKILL, releases it.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path


def open_lock_file(path: Path) -> int:
    """A descriptor of the lock file `path` (made, owner-only, if missing)."""
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


def try_lock(fd: int) -> bool:
    """Take the exclusive lock of `fd` if nobody holds it; whether it was taken."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno not in (errno.EAGAIN, errno.EACCES):
            raise
        return False
    return True


def lock(fd: int) -> None:
    """Take the exclusive lock of `fd`, waiting for whoever holds it."""
    fcntl.flock(fd, fcntl.LOCK_EX)


def unlock(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
