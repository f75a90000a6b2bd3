"""The system's Chromium under Playwright, one per test session, for every browser test.

A pytest plugin (registered in tests/conftest.py): Playwright's sync API allows one instance
per process, so the session's `browser` fixture lives here rather than in each package's
conftest. It never downloads a browser; override the executable with TURNOS_CHROMIUM.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("TURNOS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    # A name that is not localhost, to open the kiosk from an insecure origin as a kiosk on
    # the CSA's plain-http network would (see the kiosk test that uses it).
    "--host-resolver-rules=MAP kiosk.csa.test 127.0.0.1",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        raise RuntimeError(f"Chromium is not installed at {CHROMIUM}: "
                           "run scripts/install-system-deps.sh or set TURNOS_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
