"""Counters racing for one queue: the callers of the race tests, over any HTTP client.

Two or three callers share each counter, so both kinds of race happen: several counters for
one ticket, and several staff at one counter. Each caller calls next, starts and completes,
until its counter finds the queues empty.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

# POST a path; the status, the JSON body ({} when there is none) and the text.
Post = Callable[[str], tuple[int, dict, str]]


def race_counters(caller: Callable[[], AbstractContextManager[Post]], *, callers: int,
                  counters: int, busy_retry_seconds: float) -> tuple[list[int], list[str]]:
    """Run `callers` threads, each with its own client from `caller()`, at counters C01...;
    the ticket ids called, in order, and what went wrong."""
    called: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(callers)

    def run(index: int) -> None:
        counter = f"C{index % counters + 1:02d}"
        with caller() as post:
            start.wait()
            while True:
                status, body, text = post(f"/api/v1/counters/{counter}/call-next")
                if status == 204:
                    return
                if status == 409 and body.get("error", {}).get("code") == "counter_busy":
                    # The other clerk at this counter holds a ticket; try again as a person
                    # would.
                    time.sleep(busy_retry_seconds)
                    continue
                if status != 200:
                    with lock:
                        errors.append(f"call-next {status} {text}")
                    return
                with lock:
                    called.append(body["id"])
                for action in ("start", "complete"):
                    status, _, text = post(f"/api/v1/tickets/{body['id']}/{action}")
                    if status != 200:
                        with lock:
                            errors.append(f"{action} {status} {text}")
                        return

    threads = [threading.Thread(target=run, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    errors += [f"{thread.name} still running" for thread in threads if thread.is_alive()]
    return called, errors
