"""The hall display in a real Chromium against a real server: calls made through the API
appear, are announced in order, survive drops and restarts, and are readable from afar."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.display.conftest import ZONE, DisplaySeed
from tests.kiosk.conftest import LANDSCAPE, PORTRAIT, Api
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow

# Stands in for the browser's speech: one Spanish voice; each utterance "lasts" 400 ms and is
# recorded with its start and end, and whether another one was still speaking.
FAKE_SPEECH = """
  window.__utterances = [];
  const voice = { name: "Prueba", lang: "es-MX", default: true, localService: true,
                  voiceURI: "prueba" };
  let speaking = false;
  window.SpeechSynthesisUtterance = class {
    constructor(text) { this.text = text; this.lang = ""; this.volume = 1; this.voice = null; }
  };
  Object.defineProperty(window, "speechSynthesis", { configurable: true, value: {
    getVoices: () => [voice],
    speak(utterance) {
      const record = { text: utterance.text, lang: utterance.lang, volume: utterance.volume,
                       start: performance.now(), end: null, overlapped: speaking };
      window.__utterances.push(record);
      speaking = true;
      setTimeout(() => {
        record.end = performance.now();
        speaking = false;
        utterance.onend && utterance.onend({});
      }, 400);
    },
    cancel() {}, pause() {}, resume() {},
    addEventListener() {}, removeEventListener() {},
  }});
"""
# A browser with no voice at all: the display must play the server's espeak-ng audio.
NO_VOICES = """
  window.__utterances = [];
  Object.defineProperty(window, "speechSynthesis", { configurable: true, value: {
    getVoices: () => [], speak(u) { window.__utterances.push({ text: u.text }); },
    cancel() {}, addEventListener() {}, removeEventListener() {},
  }});
"""


@pytest.fixture
def problems() -> list[str]:
    """Console errors and warnings and uncaught exceptions of the pages opened in a test."""
    return []


@pytest.fixture
def open_display(new_page: Callable[..., Any], live_server: LiveServer, seed: DisplaySeed,
                 problems: list[str]) -> Callable[..., Page]:
    """A display page paired with the display token (as a launcher opens it), live."""

    def open_paired(viewport: dict[str, int] = LANDSCAPE, *, init_script: str = FAKE_SPEECH,
                    before: Callable[[Page], None] | None = None) -> Page:
        page = new_page(viewport, has_touch=False)
        page.on("console", lambda m: problems.append(m.text)
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.add_init_script(init_script)
        if before is not None:
            before(page)
        page.goto(f"{live_server.url}/display/{ZONE}#token={seed.display_token}")
        page.wait_for_selector("body.display[data-status='live']")
        assert "#token" not in page.url
        # The first, unpaired load is answered 401 with the pairing form: expected.
        problems[:] = [p for p in problems if "status of 401" not in p]
        return page

    return open_paired


@pytest.fixture
def call(api: Api) -> Callable[..., dict[str, Any]]:
    """Issue a ticket and call it at `counter` through the JSON API."""
    opened: set[str] = set()

    def issue_and_call(service: str = "ACTA", counter: str = "V17",
                       preferential: str | None = None) -> dict[str, Any]:
        if counter not in opened:
            api.post(f"/counters/{counter}/open")
            opened.add(counter)
        body = {"service": service, **({"preferential": preferential} if preferential else {})}
        response = api.session.post(f"{api.base_url}/api/v1/tickets", json=body, timeout=10,
                                    headers={"Idempotency-Key": uuid.uuid4().hex})
        response.raise_for_status()
        number = response.json()["number"]
        return api.post(f"/counters/{counter}/call", number=number).json()

    return issue_and_call


def utterances(page: Page, count: int) -> list[dict[str, Any]]:
    """Wait until `count` announcements were spoken to the end; return them all."""
    page.wait_for_function(
        "n => window.__utterances.filter((u) => u.end !== null).length >= n", arg=count)
    return page.evaluate("window.__utterances")


def test_a_call_made_through_the_api_appears_and_is_announced_in_spanish(
        open_display, call, problems):
    page = open_display()
    expect(page.locator("[data-idle]")).to_be_visible()

    ticket = call("ACTA", "V17")

    expect(page.locator("[data-current-number]")).to_have_text(ticket["number"])
    expect(page.locator("[data-current-counter]")).to_have_text("Ventanilla 17")
    expect(page.locator("[data-current]")).to_have_class("current flash")
    spoken = utterances(page, 1)
    assert [u["text"] for u in spoken] == [
        "Turno A cero cero uno, pase a la ventanilla diecisiete"]
    assert spoken[0]["lang"] == "es-MX" and spoken[0]["volume"] == 1
    expect(page.locator("[data-queues] [data-service='ACTA'] .count")).to_have_text("0")
    expect(page.locator("[data-queues] [data-service='ACTA']")).to_have_attribute(
        "title", "Nadie en espera")
    expect(page.locator("[data-clock]")).to_have_text("10:00")
    assert problems == []


def test_the_display_asks_to_keep_the_screen_awake(open_display):
    page = open_display(before=lambda p: p.add_init_script("""
      window.__wakeLocks = [];
      Object.defineProperty(Navigator.prototype, "wakeLock", { configurable: true, get: () => ({
        request: async (type) => {
          window.__wakeLocks.push(type);
          return { addEventListener() {} };
        },
      })});
    """))
    page.wait_for_function("window.__wakeLocks.length > 0")
    assert page.evaluate("window.__wakeLocks") == ["screen"]


def test_without_a_spanish_voice_the_display_plays_the_servers_espeak_audio(
        open_display, call, problems):
    page = open_display(init_script=NO_VOICES)

    with page.expect_response(lambda r: r.url.endswith("/audio.wav")) as audio:
        ticket = call("DEFUN", "V18")
    response = audio.value

    # 206: the media element asks for byte ranges.
    assert response.status in (200, 206) and response.headers["content-type"] == "audio/wav"
    assert f"/announcement/{ticket['id']}/" in response.url
    size = response.headers.get("content-range", "").rpartition("/")[2] or len(response.body())
    assert int(size) > 20_000  # seconds of speech, not an empty file
    assert page.evaluate("window.__utterances") == []
    assert problems == []


def test_two_quick_calls_and_a_recall_are_announced_in_order_without_overlap(
        open_display, call, api):
    page = open_display()

    first = call("ACTA", "V17")
    second = call("DEFUN", "V18", preferential="senior")
    api.post(f"/tickets/{first['id']}/recall")

    spoken = utterances(page, 3)
    assert [u["text"] for u in spoken] == [
        "Turno A cero cero uno, pase a la ventanilla diecisiete",
        "Turno D cero cero uno, pase a la ventanilla dieciocho",
        "Turno A cero cero uno, pase a la ventanilla diecisiete",
    ]
    assert not any(u["overlapped"] for u in spoken)
    pairs = zip(spoken, spoken[1:], strict=False)
    assert all(later["start"] >= earlier["end"] for earlier, later in pairs)
    # The recall is the current call again, marked in words; the preferential one is listed.
    expect(page.locator("[data-current-number]")).to_have_text(first["number"])
    expect(page.locator("[data-current-recall]")).to_be_visible()
    listed = page.locator(f"[data-recent] li[data-ticket='{second['id']}']")
    expect(listed).to_contain_text("Preferente")


def test_the_display_comes_back_by_itself_after_the_server_restarts(
        open_display, call, live_server: LiveServer):
    page = open_display()
    page.evaluate("window.__sameDocument = true")

    live_server.stop()
    expect(page.locator("[data-offline]")).to_be_visible()
    live_server.start()
    page.wait_for_selector("body[data-status='live']", timeout=20_000)
    ticket = call("ACTA", "V17")

    expect(page.locator("[data-current-number]")).to_have_text(ticket["number"])
    expect(page.locator("[data-offline]")).to_be_hidden()
    assert page.evaluate("window.__sameDocument") is True  # no reload
    assert [u["text"] for u in utterances(page, 1)] == [
        "Turno A cero cero uno, pase a la ventanilla diecisiete"]


def test_calls_missed_while_offline_are_shown_but_not_announced_when_stale(
        open_display, call):
    page = open_display(before=lambda p: p.clock.install())
    page.evaluate("window.turnosDisplay.socket.disconnect()")
    missed = call("ACTA", "V17")
    page.clock.fast_forward("02:00")  # the screen was away for two minutes

    page.evaluate("window.turnosDisplay.socket.connect()")

    expect(page.locator("[data-current-number]")).to_have_text(missed["number"])
    page.wait_for_timeout(1500)
    assert page.evaluate("window.__utterances") == []
    fresh = call("DEFUN", "V18")  # once back, new calls are announced again
    expect(page.locator("[data-current-number]")).to_have_text(fresh["number"])
    assert [u["text"] for u in utterances(page, 1)] == [
        "Turno D cero cero uno, pase a la ventanilla dieciocho"]


def test_a_reload_shows_the_latest_calls_from_the_server(open_display, call):
    page = open_display()
    first, second = call("ACTA", "V17"), call("DEFUN", "V18")
    expect(page.locator("[data-current-number]")).to_have_text(second["number"])

    page.reload()
    page.wait_for_selector("body.display[data-status='live']")

    expect(page.locator("[data-current-number]")).to_have_text(second["number"])
    expect(page.locator("[data-recent] .number")).to_have_text([first["number"]])


@pytest.mark.parametrize("viewport", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
def test_the_called_number_is_at_least_a_tenth_of_the_screen_high_and_nothing_is_cut_off(
        open_display, call, viewport):
    page = open_display(viewport)
    for service, counter in [("ACTA", "V17"), ("ACTA", "V18"), ("DEFUN", "V19"),
                             ("ACLARA", "V20"), ("MATRI", "V21"), ("ACTA", "V22")]:
        ticket = call(service, counter)
    expect(page.locator("[data-current-number]")).to_have_text(ticket["number"])

    number = page.locator("[data-current-number]").bounding_box()
    assert number is not None
    # The ink of the digits themselves, measured in the page's own font.
    digits = page.evaluate("""() => {
      const el = document.querySelector('[data-current-number]');
      const context = document.createElement('canvas').getContext('2d');
      const style = getComputedStyle(el);
      context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      const metrics = context.measureText(el.textContent);
      return metrics.actualBoundingBoxAscent + metrics.actualBoundingBoxDescent;
    }""")
    assert number["height"] >= 0.10 * viewport["height"]
    assert digits >= 0.10 * viewport["height"]
    for part in ("[data-current-number]", "[data-current-counter]", "[data-clock]",
                 "[data-recent] li:visible >> nth=-1"):
        box = page.locator(part).bounding_box()
        assert box is not None, part
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], part
        assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], part


def test_a_managers_message_reaches_the_open_display_at_once(open_display, new_page,
                                                             live_server: LiveServer):
    from tests.support.live_server import turnos
    turnos("staff", "add", "gerente", "--role", "manager", "--name", "Gerente",
           "--password-stdin", database_url=live_server.database_url,
           input="una frase bastante larga\n")
    page = open_display()
    manager = new_page(LANDSCAPE, has_touch=False)
    manager.goto(f"{live_server.url}/login")
    manager.fill("input[name=username]", "gerente")
    manager.fill("input[name=password]", "una frase bastante larga")
    manager.click("button[type=submit]")
    manager.wait_for_load_state()
    manager.goto(f"{live_server.url}/displays/")

    form = manager.locator(f"[data-zone='{ZONE}'] form").first
    form.locator("input[name=text]").fill("Hoy cerramos a las 14:00")
    form.locator("button[type=submit]").click()

    expect(page.locator("[data-ticker-text]")).to_have_text("Hoy cerramos a las 14:00")
    manager.locator(f"[data-zone='{ZONE}'] form").nth(1).locator("button").click()
    expect(page.locator("[data-ticker]")).to_be_hidden()
