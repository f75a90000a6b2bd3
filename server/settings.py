"""Process-level settings: where config.toml and the database are, and how to serve."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from server.clock import Clock
from server.db import database_url_from_env


@dataclass(frozen=True, slots=True)
class Settings:
    config_path: Path = field(
        default_factory=lambda: Path(os.environ.get("TURNOS_CONFIG", "config.toml"))
    )
    database_url: str = field(default_factory=database_url_from_env)
    # "threading" for `turnos serve` and tests, "gevent" under gunicorn (see server/wsgi.py).
    async_mode: str = "threading"
    clock: Clock = field(default_factory=Clock)
    # Bring the schema to the newest migration at start-up.
    migrate: bool = True
    # Run the live-push dispatcher; tests that drive `Hub.pump` themselves turn it off.
    start_hub: bool = True
    secret_key: str | None = field(default_factory=lambda: os.environ.get("TURNOS_SECRET_KEY"))
