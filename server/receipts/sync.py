"""Calling pyHanko's synchronous API from any thread.

pyHanko's synchronous functions wrap `asyncio.run`, which refuses to start while the calling
thread already runs an event loop (an asyncio host, or a browser driver in the same process).
Such calls get a short-lived thread of their own; everywhere else they run in place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def outside_event_loop(work: Callable[[], T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="receipts") as pool:
        return pool.submit(work).result()
