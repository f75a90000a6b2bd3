"""The kiosk in a real Chromium against a real server: what a citizen sees and taps."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.kiosk.conftest import (
    KIOSK_ID,
    LANDSCAPE,
    PHONE,
    PORTRAIT,
    Api,
    Seed,
    pair_kiosk,
)
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow

ORIENTATIONS = [
    pytest.param(PORTRAIT, True, id="portrait-touch"),
    pytest.param(LANDSCAPE, False, id="landscape-mouse"),
]
UPSTAIRS_AGENCIES = [
    "Registro Civil", "Registro Público de la Propiedad", "Oficina de Pasaportes SRE",
    "Módulo SAT",
]


def press(page: Page, selector: str) -> None:
    """Tap on a touchscreen, click with the mouse otherwise."""
    if page.evaluate("navigator.maxTouchPoints") > 0:
        page.tap(selector)
    else:
        page.click(selector)


def screen(page: Page, name: str):
    return page.locator(f"[data-screen-id='{name}']")


def open_services(page: Page, agency: str = "rc") -> None:
    press(page, f"[data-agency='{agency}']")
    expect(screen(page, "services")).to_be_visible()


def issued_ticket(page: Page, action: Callable[[], None]) -> dict[str, Any]:
    """Run `action` and return the kiosk's ticket response that it triggered."""
    with page.expect_response(
        lambda r: r.url.endswith(f"/kiosk/{KIOSK_ID}/tickets") and r.request.method == "POST"
    ) as response:
        action()
    assert response.value.status == 201
    return response.value.json()


def in_viewport(page: Page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    return (box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= size["width"]
            and box["y"] + box["height"] <= size["height"])


def slow_network(page: Page, delay_ms: int) -> None:
    """Hold every POST the page makes for `delay_ms` before sending it, from the next load."""
    page.add_init_script(f"""
      const send = window.fetch.bind(window);
      window.fetch = (url, options) => options && options.method === "POST"
        ? new Promise((resolve) => setTimeout(resolve, {delay_ms})).then(() => send(url, options))
        : send(url, options);
    """)


@pytest.mark.parametrize(("viewport", "has_touch"), ORIENTATIONS)
def test_a_citizen_goes_from_agency_to_the_ticket_the_server_issued(
    open_kiosk: Callable[..., Page], api: Api, viewport: dict[str, int], has_touch: bool,
):
    page = open_kiosk(viewport, has_touch=has_touch)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("#agencies-title")).to_have_text("¿A qué dependencia viene?")
    expect(page.locator("[data-agency]")).to_have_text(UPSTAIRS_AGENCIES)
    expect(screen(page, "services")).to_be_hidden()
    expect(screen(page, "ticket")).to_be_hidden()

    open_services(page)
    expect(page.locator("[data-agency-name]")).to_have_text("Registro Civil")
    ticket = issued_ticket(page, lambda: press(page, "[data-service='ACTA']"))

    expect(screen(page, "ticket")).to_be_visible()
    from_api = api.get(f"/tickets/{ticket['id']}")
    expect(page.locator("[data-ticket-number]")).to_have_text(from_api["number"])
    assert from_api["number"] == "A-001"
    assert api.waiting_total() == 1
    expect(page.locator("[data-ticket-service]")).to_have_text("Acta de nacimiento")
    expect(page.locator("[data-ticket-preferential]")).to_be_hidden()
    expect(page.locator("[data-ticket-ahead]")).to_have_text("0")
    expect(page.locator("[data-ticket-time]")).to_contain_text("10:0")
    # The QR code is this ticket's follow link, and it loads.
    follow_token = from_api["follow_url"].rsplit("/", 1)[1]
    expect(page.locator("[data-ticket-qr]")).to_have_attribute("src", f"/t/{follow_token}/qr.svg")
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                           arg=page.locator("[data-ticket-qr]").element_handle())
    for part in ("[data-ticket-number]", "[data-ticket-qr]", "[data-done]", "[data-restart]"):
        assert in_viewport(page, part), f"{part} is cut off"

    press(page, "[data-restart]")
    expect(screen(page, "agencies")).to_be_visible()
    expect(screen(page, "ticket")).to_be_hidden()


def test_preferential_attention_is_one_toggle_on_the_service_screen(kiosk: Page, api: Api):
    open_services(kiosk)
    press(kiosk, "[data-reason='senior']")
    expect(kiosk.locator("[data-reason='senior']")).to_have_attribute("aria-pressed", "true")
    ticket = issued_ticket(kiosk, lambda: press(kiosk, "[data-service='ACTA']"))
    expect(kiosk.locator("[data-ticket-preferential]")).to_be_visible()
    assert api.get(f"/tickets/{ticket['id']}")["preferential_reason"] == "senior"


def test_a_double_tap_on_a_service_issues_one_ticket(new_page: Callable[..., Page],
                                                      live_server: LiveServer, seed: Seed,
                                                      api: Api):
    page = new_page(PORTRAIT)
    # A slow network keeps the first request on its way while the second tap lands.
    slow_network(page, 1000)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    pair_kiosk(page, live_server.url, seed.kiosk_token)
    open_services(page)
    box = page.locator("[data-service='ACTA']").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.touchscreen.tap(x, y)
    page.touchscreen.tap(x, y)

    expect(screen(page, "ticket")).to_be_visible()
    expect(page.locator("[data-ticket-number]")).to_have_text("A-001")
    page.wait_for_timeout(1500)  # a second request, had there been one, would be sent by now
    assert [p for p in posts if p.endswith("/tickets")] == [
        f"{live_server.url}/kiosk/{KIOSK_ID}/tickets"
    ]
    assert api.waiting("ACTA") == 1


def test_without_the_server_the_kiosk_says_so_and_finishes_the_same_request_later(
    kiosk: Page, live_server: LiveServer, api: Api,
):
    keys: list[str] = []
    kiosk.on("request", lambda r: keys.append(json.loads(r.post_data or "{}")["key"])
             if r.method == "POST" and r.url.endswith("/tickets") else None)
    open_services(kiosk)
    live_server.stop()
    press(kiosk, "[data-service='ACTA']")

    offline = kiosk.locator("[data-offline]")
    expect(offline).to_be_visible()
    expect(offline).to_contain_text("No hay conexión con el servidor.")
    kiosk.wait_for_timeout(2500)  # at least one retry fails too
    expect(offline).to_be_visible()
    expect(screen(kiosk, "ticket")).to_be_hidden()
    expect(kiosk.locator("[data-ticket-number]")).to_have_text("")
    assert len(keys) >= 2

    live_server.start()
    expect(screen(kiosk, "ticket")).to_be_visible(timeout=15_000)
    expect(offline).to_be_hidden()
    expect(kiosk.locator("[data-ticket-number]")).to_have_text("A-001")
    assert len(set(keys)) == 1, "every retry must carry the first tap's key"
    assert api.waiting_total() == 1


def test_english_is_one_tap_away(kiosk: Page):
    press(kiosk, "[data-lang-switch]")
    expect(kiosk.locator("#agencies-title")).to_have_text("Which office are you here for?")
    expect(kiosk.locator("html")).to_have_attribute("lang", "en")
    expect(kiosk.locator("[data-lang-switch]")).to_contain_text("Español")
    open_services(kiosk)
    expect(kiosk.locator("[data-service='ACTA'] .name")).to_have_text("Birth certificate")
    expect(kiosk.locator("[data-reason='senior']")).to_contain_text("60 or older")
    expect(kiosk.locator("[data-restart]")).to_contain_text("Start over")
    expect(kiosk.locator("[data-back]")).to_contain_text("Back")


@pytest.mark.parametrize(("viewport", "has_touch"), ORIENTATIONS)
def test_every_screen_keeps_back_and_start_over_in_view_and_targets_of_44_px(
    open_kiosk: Callable[..., Page], viewport: dict[str, int], has_touch: bool,
):
    page = open_kiosk(viewport, has_touch=has_touch)
    screens = {
        "agencies": lambda: None,
        "services": lambda: open_services(page),
        "ticket": lambda: press(page, "[data-service='ACTA']"),
    }
    for name, reach in screens.items():
        reach()
        expect(screen(page, name)).to_be_visible()
        for nav in ("[data-back]", "[data-restart]"):
            assert in_viewport(page, nav), f"{nav} is not in view on the {name} screen"
        targets = page.locator("button:visible, a:visible")
        assert targets.count() >= 3
        for i in range(targets.count()):
            box = targets.nth(i).bounding_box()
            assert box is not None
            label = targets.nth(i).inner_text().strip()
            assert box["width"] >= 44 and box["height"] >= 44, (
                f"{name}: {label!r} is {box['width']:.0f}x{box['height']:.0f} px"
            )


def test_back_returns_to_the_agencies(kiosk: Page):
    open_services(kiosk)
    press(kiosk, "[data-back]")
    expect(screen(kiosk, "agencies")).to_be_visible()
    expect(kiosk.locator("[data-back]")).to_be_disabled()


def test_a_kiosk_left_alone_returns_to_the_start(make_server: Callable[..., LiveServer],
                                                 new_page: Callable[..., Page], seed: Seed):
    server = make_server(TURNOS_KIOSK_IDLE_SECONDS="2")
    page = pair_kiosk(new_page(PORTRAIT), server.url, seed.kiosk_token)
    open_services(page)
    left_at = time.monotonic()
    expect(screen(page, "agencies")).to_be_visible(timeout=8_000)
    assert time.monotonic() - left_at >= 1.0, "it went back before the idle time"


def test_a_kiosk_left_alone_in_english_returns_to_spanish(make_server: Callable[..., LiveServer],
                                                          new_page: Callable[..., Page],
                                                          seed: Seed):
    server = make_server(TURNOS_KIOSK_IDLE_SECONDS="2")
    page = pair_kiosk(new_page(PORTRAIT), server.url, seed.kiosk_token)
    press(page, "[data-lang-switch]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("html")).to_have_attribute("lang", "es", timeout=8_000)
    expect(page.locator("#agencies-title")).to_have_text("¿A qué dependencia viene?")


def test_a_kiosk_on_a_plain_http_network_address_still_issues_tickets(
    new_page: Callable[..., Page], live_server: LiveServer, seed: Seed, api: Api,
):
    # Not localhost and not https: no crypto.randomUUID in this page.
    url = live_server.url.replace("127.0.0.1", "kiosk.csa.test")
    page = pair_kiosk(new_page(PORTRAIT), url, seed.kiosk_token)
    assert page.evaluate("window.isSecureContext") is False
    open_services(page)
    press(page, "[data-service='ACTA']")
    expect(page.locator("[data-ticket-number]")).to_have_text("A-001")
    assert api.waiting("ACTA") == 1


def test_the_follow_page_turns_to_the_call_live(kiosk: Page, new_page: Callable[..., Page],
                                                live_server: LiveServer, api: Api):
    open_services(kiosk)
    ticket = issued_ticket(kiosk, lambda: press(kiosk, "[data-service='ACTA']"))
    phone = new_page(PHONE)
    phone.goto(live_server.url + "/t/" + ticket["follow_url"].rsplit("/t/", 1)[1])
    expect(phone.locator("[data-number]")).to_have_text(ticket["number"])
    expect(phone.get_by_text("Esperando su turno")).to_be_visible()
    phone.evaluate("window.sameDocument = true")

    called = api.post("/counters/V17/call-next").json()
    assert called["id"] == ticket["id"]
    expect(phone.get_by_text("¡Es su turno!")).to_be_visible()
    expect(phone.locator("[data-counter]")).to_have_text("Ventanilla 17")
    assert phone.evaluate("window.sameDocument") is True, "the page was reloaded"
