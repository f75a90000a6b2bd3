"""Process-level settings: where config.toml and the database are, and how to serve."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from server.clock import Clock, OffsetClock
from server.db import database_url_from_env


def clock_from_env() -> Clock:
    """The real clock, or one shifted to TURNOS_CLOCK_START (ISO 8601 with a zone)."""
    start = os.environ.get("TURNOS_CLOCK_START")
    if not start:
        return Clock()
    moment = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("TURNOS_CLOCK_START needs a time zone, e.g. 2026-11-23T16:00:00Z")
    return OffsetClock(moment)


def kiosk_idle_seconds_from_env() -> int:
    """Seconds without a touch before a kiosk goes back to its start (TURNOS_KIOSK_IDLE_SECONDS)."""
    value = os.environ.get("TURNOS_KIOSK_IDLE_SECONDS", "45")
    seconds = int(value) if value.isdigit() else 0
    if seconds < 1:
        raise ValueError(f"TURNOS_KIOSK_IDLE_SECONDS must be a whole number >= 1, not {value!r}")
    return seconds


def proxy_hops_from_env() -> int:
    """Reverse proxies in front of the server (TURNOS_PROXY_HOPS, default 0).

    With one TLS-terminating proxy, set 1: the client's address (for login rate limits and the
    audit log) and the scheme (HTTPS: Secure cookies, HSTS) are then read from the
    X-Forwarded-For and X-Forwarded-Proto headers that proxy adds. Never set it without a
    proxy: clients could then claim any address.
    """
    value = os.environ.get("TURNOS_PROXY_HOPS", "0")
    if not value.isdigit() or int(value) > 5:
        raise ValueError(f"TURNOS_PROXY_HOPS must be a whole number from 0 to 5, not {value!r}")
    return int(value)


@dataclass(frozen=True, slots=True)
class Settings:
    config_path: Path = field(
        default_factory=lambda: Path(os.environ.get("TURNOS_CONFIG", "config.toml"))
    )
    database_url: str = field(default_factory=database_url_from_env)
    # "threading" for `turnos serve` and tests, "gevent" under gunicorn (see server/wsgi.py).
    async_mode: str = "threading"
    clock: Clock = field(default_factory=clock_from_env)
    # Bring the schema to the newest migration at start-up.
    migrate: bool = True
    # Run the live-push dispatcher; tests that drive `Hub.pump` themselves turn it off.
    start_hub: bool = True
    secret_key: str | None = field(default_factory=lambda: os.environ.get("TURNOS_SECRET_KEY"))
    # A kiosk left alone this long returns to its start screen (short in browser tests).
    kiosk_idle_seconds: int = field(default_factory=kiosk_idle_seconds_from_env)
    proxy_hops: int = field(default_factory=proxy_hops_from_env)
