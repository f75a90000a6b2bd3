"""Counter: time from the click on "Llamar siguiente" to the called number on three screens.

    python bench/counter_click_to_screen.py [--runs 30] [--docs docs/performance.md]

It migrates a fresh SQLite file, creates a kiosk token, a staff token, a display token and a
civil-registry clerk with the CLI, starts `turnos serve` with the clock at a Monday 10:00 so the
CSA is open, and opens three pages in one Chromium, each in its own context: the clerk, signed
in through /login, at the terminal of Ventanilla 17 (V17); a phone showing the citizen's follow
page (/t/<token>) of the ticket about to be called (socket event, then a fetch of its state);
and the 1920×1080 hall display of the upstairs zone (/display/planta-alta, paired with the
display token), which draws the call straight from its socket event. N times: issue one ACTA
ticket with the kiosk token, open its follow page, click "Llamar siguiente", wait until all
three pages show the number, then cancel the ticket so the counter is free again. The
display's speech is replaced by a silent stand-in, so announcements cost nothing here.

Times are taken in the pages: the click (a capture-phase listener) in the clerk's page and the
moment each page's DOM shows the call (a MutationObserver), each as performance.timeOrigin +
performance.now(), so the pages' clocks compare; "on screen" is the first frame after the
change (requestAnimationFrame, then a task). Every number shown is checked against the API.

With --docs it rewrites the section "Counter: call next to screens" of that file (and nothing
else). This is a benchmark, not a test: nothing here fails on a slow machine.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from bench.kiosk_tap_to_ticket import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    MONDAY_10AM,
    _machine,
    _percentile,
)
from bench.report import write_section  # noqa: E402
from tests.support.live_server import LiveServer, turnos  # noqa: E402

COUNTER, SERVICE = "V17", "ACTA"
CLERK, PASSWORD = "lucia", "ventanilla-17-segura"
ZONE = "planta-alta"
DESKTOP = {"width": 1366, "height": 900}
TV = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}
SECTION = "Counter: call next to screens"

# Clerk's page: resolves with the click's time and when the new number is in the DOM / on screen.
ARM_CLERK = """
() => {
  const number = document.querySelector("[data-number]");
  const shown = document.querySelector("[data-has-ticket]");
  const now = () => performance.timeOrigin + performance.now();
  performance.clearResourceTimings();
  window.__call = new Promise((resolve) => {
    let click = null;
    document.querySelector("[data-action='call-next']").addEventListener("click", () => {
      click = now();
    }, { capture: true, once: true });
    const observer = new MutationObserver(() => {
      if (click === null || shown.hidden || !number.textContent) return;
      observer.disconnect();
      const dom = now();
      requestAnimationFrame(() => setTimeout(() => {
        const post = performance.getEntriesByType("resource")
          .filter((entry) => entry.name.endsWith("/call-next")).pop();
        resolve({ number: number.textContent, click, dom, screen: now(),
                  request: post ? post.duration : null });
      }));
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true,
                                      attributes: true, attributeFilter: ["hidden"] });
  });
}
"""

# Follow page: resolves when the page says "called" with the counter's name.
ARM_FOLLOW = """
() => {
  const now = () => performance.timeOrigin + performance.now();
  performance.clearResourceTimings();
  window.__called = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (document.body.dataset.status !== "called") return;
      observer.disconnect();
      const dom = now();
      requestAnimationFrame(() => setTimeout(() => {
        const fetches = performance.getEntriesByType("resource")
          .filter((entry) => entry.name.includes(".json"));
        const last = fetches.pop();
        resolve({ number: document.querySelector("[data-number]").textContent,
                  counter: document.querySelector("[data-counter]").textContent,
                  dom, screen: now(),
                  fetch_start: last ? performance.timeOrigin + last.startTime : null });
      }));
    });
    observer.observe(document.body, { attributes: true, attributeFilter: ["data-status"] });
  });
}
"""


# Hall display: resolves when the current call shows this number.
ARM_DISPLAY = """
(expected) => {
  const now = () => performance.timeOrigin + performance.now();
  const number = document.querySelector("[data-current-number]");
  window.__shown = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (number.textContent !== expected || number.closest("[hidden]")) return;
      observer.disconnect();
      const dom = now();
      requestAnimationFrame(() => setTimeout(() => {
        resolve({ number: number.textContent,
                  counter: document.querySelector("[data-current-counter]").textContent,
                  dom, screen: now() });
      }));
    });
    observer.observe(document.querySelector("[data-current]"),
                     { subtree: true, childList: true, characterData: true, attributes: true });
  });
}
"""
SILENT_SPEECH = """
  Object.defineProperty(window, "speechSynthesis", { configurable: true, value: {
    getVoices: () => [{ name: "x", lang: "es-MX" }],
    speak(u) { setTimeout(() => u.onend && u.onend({}), 50); },
    cancel() {}, addEventListener() {}, removeEventListener() {},
  }});
  window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--docs", type=Path, default=None,
                        help="Markdown file whose counter section is rewritten with the figures")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="turnos-counter-bench-") as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'turnos.sqlite'}"
        env = {"TURNOS_CLOCK_START": MONDAY_10AM}
        turnos("db", "upgrade", database_url=database_url)
        kiosk = turnos("token", "create", "bench-kiosk", "--role", "kiosk",
                       database_url=database_url).strip()
        staff = turnos("token", "create", "bench-staff", "--role", "staff",
                       database_url=database_url).strip()
        display = turnos("token", "create", "bench-display", "--role", "display",
                         database_url=database_url).strip()
        turnos("staff", "add", CLERK, "--role", "counter", "--agency", "rc", "--name",
               "Lucía Pérez", "--password-stdin", database_url=database_url,
               input=PASSWORD + "\n")
        server = LiveServer(database_url, env=env, log_path=Path(tmp) / "server.log").start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                samples = measure(browser, server.url, kiosk, staff, display, args.runs,
                                  args.warmup)
                machine = _machine(browser)
                browser.close()
        finally:
            server.stop()

    report = _report(samples, machine, args)
    print(report)
    if args.docs:
        write_section(args.docs, SECTION, report)
        print(f"\nwrote the section {SECTION!r} of {args.docs}")


def measure(browser: Browser, url: str, kiosk: str, staff: str, display: str, runs: int,
            warmup: int) -> list[dict[str, float]]:
    clerk = _terminal(browser, url)
    phone = browser.new_context(viewport=PHONE, has_touch=True, locale="es-MX").new_page()
    hall = _display(browser, url, display)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {staff}"
    samples = []
    for i in range(warmup + runs):
        ticket = _issue(url, kiosk)
        token = ticket["follow_url"].rstrip("/").rsplit("/", 1)[1]
        state = f"/t/{token}.json"
        with phone.expect_response(lambda r, state=state: r.url.endswith(state)):
            phone.goto(f"{url}/t/{token}")  # live: its first state fetch follows the subscribe
        clerk.wait_for_selector(f"[data-waiting='{SERVICE}']:text-is('1')")
        clerk.wait_for_timeout(150)
        clerk.evaluate(ARM_CLERK)
        phone.evaluate(ARM_FOLLOW)
        hall.evaluate(ARM_DISPLAY, ticket["number"])
        clerk.click("[data-action='call-next']")
        on_clerk = clerk.evaluate("window.__call")
        on_phone = phone.evaluate("window.__called")
        on_hall = hall.evaluate("window.__shown")
        confirmed = api.get(f"{url}/api/v1/tickets/{ticket['id']}", timeout=10).json()
        if not (confirmed["status"] == "called" and confirmed["number"] == on_clerk["number"]
                == on_phone["number"] == on_hall["number"]
                and on_phone["counter"] == confirmed["counter_name"] == on_hall["counter"]):
            raise SystemExit(f"screens showed {on_clerk} / {on_phone} / {on_hall}, "
                             f"the API says {confirmed}")
        click = on_clerk["click"]
        sample = {
            "clerk_screen": on_clerk["screen"] - click, "clerk_dom": on_clerk["dom"] - click,
            "request": on_clerk["request"], "follow_screen": on_phone["screen"] - click,
            "follow_dom": on_phone["dom"] - click,
            "display_screen": on_hall["screen"] - click, "display_dom": on_hall["dom"] - click,
            "follow_fetch": (on_phone["fetch_start"] - click) if on_phone["fetch_start"] else None,
        }
        clerk.click("[data-action='cancel']")
        clerk.wait_for_selector("[data-no-ticket]:visible")
        if i >= warmup:
            samples.append(sample)
            print(f"run {i - warmup + 1:2}: {on_clerk['number']} on the clerk's screen after "
                  f"{sample['clerk_screen']:.1f} ms, on the follow page after "
                  f"{sample['follow_screen']:.1f} ms, on the hall display after "
                  f"{sample['display_screen']:.1f} ms")
    clerk.context.close()
    phone.context.close()
    hall.context.close()
    return samples


def _display(browser: Browser, url: str, token: str) -> Page:
    context = browser.new_context(viewport=TV, locale="es-MX")
    context.add_init_script(SILENT_SPEECH)
    page = context.new_page()
    page.goto(f"{url}/display/{ZONE}#token={token}")
    page.wait_for_selector("body.display[data-status='live']")
    return page


def _terminal(browser: Browser, url: str) -> Page:
    page = browser.new_context(viewport=DESKTOP, locale="es-MX").new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", CLERK)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/counter/")
    page.goto(f"{url}/counter/{COUNTER}")
    page.wait_for_selector("[data-live][data-status='live']")
    return page


def _issue(url: str, kiosk: str) -> dict[str, Any]:
    response = requests.post(
        f"{url}/api/v1/tickets", json={"service": SERVICE}, timeout=10,
        headers={"Authorization": f"Bearer {kiosk}", "Idempotency-Key": uuid.uuid4().hex},
    )
    response.raise_for_status()
    return response.json()


def _report(samples: list[dict[str, float]], machine: dict[str, str],
            args: argparse.Namespace) -> str:
    rows = []
    for label, key in (
        ("click → number on the clerk's screen (next frame)", "clerk_screen"),
        ("click → number in the clerk's page (DOM)", "clerk_dom"),
        ("of which: the POST, network and server", "request"),
        ("click → follow page starts fetching its state", "follow_fetch"),
        ("click → \"¡Es su turno!\" on the follow page (next frame)", "follow_screen"),
        ("click → number on the hall display (DOM)", "display_dom"),
        ("click → number on the hall display (next frame)", "display_screen"),
    ):
        values = [s[key] for s in samples if s[key] is not None]
        rows.append(f"| {label} | {statistics.median(values):.1f} ms "
                    f"| {_percentile(values, 0.95):.1f} ms | {max(values):.1f} ms |")
    clerk = [s["clerk_screen"] for s in samples]
    follow = [s["follow_screen"] for s in samples]
    hall = [s["display_screen"] for s in samples]
    command = "python bench/counter_click_to_screen.py " + shlex.join(sys.argv[1:])
    return "\n".join([
        f"## {SECTION}",
        "",
        "From the clerk's click on \"Llamar siguiente\" to the called number on (a) the clerk's "
        "own screen, (b) the citizen's follow page (`/t/<token>`), which learns of the call from "
        "its socket event and then fetches its state, and (c) the hall display of the zone "
        "(`/display/planta-alta`), another browser context that draws the call from its socket "
        f"event. Measured in Chromium over {len(samples)} calls: clerk's screen **median "
        f"{statistics.median(clerk):.0f} ms, p95 {_percentile(clerk, 0.95):.0f} ms**; hall "
        f"display **median {statistics.median(hall):.0f} ms, p95 "
        f"{_percentile(hall, 0.95):.0f} ms**; follow page **median "
        f"{statistics.median(follow):.0f} ms, p95 {_percentile(follow, 0.95):.0f} ms**.",
        "",
        "| | median | p95 | max |",
        "|---|---:|---:|---:|",
        *rows,
        "",
        "- The follow page fetches its state as soon as an event about its own ticket arrives; "
        "events about other tickets of the service are batched for 300 ms (kiosk/static/"
        "follow.js), since they only move it up the line.",
        f"- Command: `{command.strip()}` ({args.warmup} warm-up calls not counted).",
        "- Set-up: a fresh, migrated SQLite file with a kiosk token, a staff token and one "
        "civil-registry clerk made with the CLI, plus a display token; `turnos serve` (the "
        "development server; production runs gunicorn + gevent) with "
        f"`TURNOS_CLOCK_START={MONDAY_10AM}`; one Chromium with three contexts: the clerk at "
        f"{COUNTER} (1366×900, signed in through /login), a 390×844 phone with the follow "
        "page and a 1920×1080 hall display paired with the display token (its speech replaced "
        "by a silent stand-in; the announcement is fetched after the number is drawn and does "
        "not delay it). Each run: issue one ACTA ticket with the kiosk token (the only one "
        "waiting), open its follow page, click, wait for all three screens, cancel the ticket.",
        "- Measured in the pages: the click (a capture-phase listener on the button) and the "
        "change (a MutationObserver; \"next frame\" is `requestAnimationFrame` then a task), "
        "each as `performance.timeOrigin + performance.now()` so the pages' times compare. "
        "Every number shown was checked against `GET /api/v1/tickets/{id}`.",
        f"- Machine: {machine['cpu']}; {machine['os']}; Python {machine['python']}; "
        f"SQLite {machine['sqlite']}; Chromium {machine['chromium']} (headless).",
        f"- Load: the 1-minute load average was {machine['load']} at the end of the run; "
        "other work on the machine makes these figures pessimistic, not optimistic.",
        f"- Date: {time.strftime('%Y-%m-%d')}.",
        "",
    ])



if __name__ == "__main__":
    main()
