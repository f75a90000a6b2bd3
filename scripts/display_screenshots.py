"""Take the hall display's screenshots for docs/screenshots/.

    python scripts/display_screenshots.py [--out docs/screenshots]

Starts `turnos serve` on a fresh SQLite file (clock at a Monday 10:00, so the CSA is open),
pairs a 1920×1080 display of "planta-alta" with a display token, and saves: the display idle
with a ticker line (display-idle.png), during a call (display-call.png, the number still
flashing) and a 1080×1920 portrait screen (display-portrait.png). The page's own speech is
replaced by a silent stand-in, so nothing is heard while it runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.support.live_server import LiveServer, turnos  # noqa: E402

ZONE = "planta-alta"
MONDAY_10AM = "2026-11-23T16:00:00Z"
SILENT_SPEECH = """
  Object.defineProperty(window, "speechSynthesis", { configurable: true, value: {
    getVoices: () => [{ name: "x", lang: "es-MX" }],
    speak(u) { setTimeout(() => u.onend && u.onend({}), 300); },
    cancel() {}, addEventListener() {}, removeEventListener() {},
  }});
  window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
"""
PASSWORD = "una frase bastante larga"
MESSAGE = "El módulo de pasaportes atiende hoy solo con cita. Gracias por su paciencia."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="turnos-display-shots-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'turnos.sqlite'}"
        turnos("db", "upgrade", database_url=url)
        display = turnos("token", "create", "pantalla", "--role", "display",
                         database_url=url).strip()
        staff = turnos("token", "create", "staff", "--role", "staff", database_url=url).strip()
        turnos("staff", "add", "gerente", "--role", "manager", "--name", "Gerente",
               "--password-stdin", database_url=url, input=PASSWORD + "\n")
        server = LiveServer(url, env={"TURNOS_CLOCK_START": MONDAY_10AM},
                            log_path=Path(tmp) / "server.log").start()
        try:
            shoot(server.url, display, staff, args.out)
        finally:
            server.stop()


def shoot(base: str, display: str, staff: str, out: Path) -> None:
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {staff}"

    def post(path: str, **body) -> dict:
        response = api.post(f"{base}/api/v1{path}", json=body, timeout=10,
                            headers={"Idempotency-Key": uuid.uuid4().hex})
        response.raise_for_status()
        return response.json() if response.content else {}

    # Some people waiting, a few calls already made.
    for service, count in (("ACTA", 5), ("DEFUN", 2), ("RFC", 4), ("CSF", 3), ("PASAPORTE", 6),
                           ("GRAVAMEN", 1)):
        for _ in range(count):
            post("/tickets", service=service)
    for counter in ("V17", "V18", "V25", "V28", "V29"):
        post(f"/counters/{counter}/open")
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = {}
        for name, viewport in (("landscape", {"width": 1920, "height": 1080}),
                               ("portrait", {"width": 1080, "height": 1920})):
            context = browser.new_context(viewport=viewport, locale="es-MX")
            context.add_init_script(SILENT_SPEECH)
            page = context.new_page()
            page.goto(f"{base}/display/{ZONE}#token={display}")
            page.wait_for_selector("body.display[data-status='live']")
            pages[name] = page
        manager = browser.new_context(locale="es-MX").new_page()
        manager.goto(f"{base}/login")
        manager.fill("input[name=username]", "gerente")
        manager.fill("input[name=password]", PASSWORD)
        manager.click("button[type=submit]")
        manager.wait_for_load_state()
        manager.goto(f"{base}/displays/")
        form = manager.locator(f"[data-zone='{ZONE}'] form").first
        form.locator("input[name=text]").fill(MESSAGE)
        form.locator("button[type=submit]").click()
        manager.wait_for_load_state()
        landscape = pages["landscape"]
        landscape.wait_for_selector(f"[data-ticker-text]:text-is('{MESSAGE}')")
        landscape.wait_for_timeout(500)
        landscape.screenshot(path=str(out / "display-idle.png"))
        for counter in ("V18", "V25", "V28", "V29"):
            post(f"/counters/{counter}/call-next")
        post("/tickets", service="ACTA", preferential="senior")
        called = post("/counters/V17/call-next")
        landscape.wait_for_selector(f"[data-current-number]:text-is('{called['number']}')")
        landscape.wait_for_timeout(600)  # mid-flash: the number inverted
        landscape.screenshot(path=str(out / "display-call.png"))
        portrait = pages["portrait"]
        portrait.wait_for_selector(f"[data-current-number]:text-is('{called['number']}')")
        portrait.wait_for_timeout(6500)  # the flash is over
        portrait.screenshot(path=str(out / "display-portrait.png"))
        browser.close()
    print(f"wrote display-idle.png, display-call.png and display-portrait.png in {out}")


if __name__ == "__main__":
    main()
