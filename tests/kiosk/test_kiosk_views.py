"""The kiosk's page and JSON calls, and the follow page, through Flask's test client."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.conftest import Auth

KIOSK = "/kiosk/kiosco-pa-1"  # upstairs: civil registry, property registry, SRE, SAT
HEADERS = {"X-Turnos-Client": "kiosk"}


@pytest.fixture
def paired(client: FlaskClient, auth: Auth) -> FlaskClient:
    response = client.post(f"{KIOSK}/pair", json={"token": auth.secret("kiosk")})
    assert response.status_code == 204
    return client


def _take(client: FlaskClient, service: str = "ACTA", key: str = "tap-0001", **extra):
    return client.post(f"{KIOSK}/tickets", json={"service": service, "key": key, **extra},
                       headers=HEADERS)


def test_an_unpaired_device_sees_the_pairing_page_not_the_kiosk(client: FlaskClient):
    response = client.get(KIOSK)
    assert response.status_code == 401
    assert "Este kiosco aún no está vinculado" in response.get_data(as_text=True)
    assert _take(client).status_code == 401


def test_only_a_kiosk_token_pairs_a_device(client: FlaskClient, auth: Auth):
    for secret in ("tk_wrong", auth.secret("staff")):
        response = client.post(f"{KIOSK}/pair", json={"token": secret})
        assert response.status_code == 403
    assert client.get(KIOSK).status_code == 401


def test_the_paired_kiosk_speaks_spanish_and_offers_its_agencies(paired: FlaskClient):
    page = paired.get(KIOSK).get_data(as_text=True)
    assert '<html lang="es">' in page
    assert "¿A qué dependencia viene?" in page
    assert "Registro Civil" in page
    assert "Recaudación" not in page  # a ground-floor agency


def test_english_is_one_tap_away_and_sticks_for_the_page_requests(paired: FlaskClient):
    page = paired.get(f"{KIOSK}?lang=en").get_data(as_text=True)
    assert "Which office are you here for?" in page
    assert "Birth certificate" in page  # the service's English name from config.toml
    ticket = _take(paired).get_json()
    assert ticket["service_name"] == "Birth certificate"


def test_taking_a_ticket_returns_the_confirmed_number_and_how_to_follow_it(
    paired: FlaskClient,
):
    response = _take(paired, preferential="pregnancy")
    assert response.status_code == 201
    ticket = response.get_json()
    assert ticket["number"] == "A-001"
    assert ticket["preferential"] is True
    assert ticket["position"] == 1
    assert ticket["estimated_wait_minutes"] >= 1
    assert ticket["qr_url"].endswith("/qr.svg")
    qr = paired.get(ticket["qr_url"])
    assert qr.mimetype == "image/svg+xml"
    assert b"<svg" in qr.data


def test_a_double_tap_with_the_same_key_gives_one_ticket(paired: FlaskClient):
    first = _take(paired, key="tap-double").get_json()
    second = _take(paired, key="tap-double").get_json()
    assert first["id"] == second["id"]
    assert _take(paired, key="tap-next").get_json()["number"] == "A-002"


def test_a_post_without_the_kiosk_header_is_refused(paired: FlaskClient):
    response = paired.post(f"{KIOSK}/tickets", json={"service": "ACTA", "key": "tap-0001"})
    assert response.status_code == 403


def test_a_service_of_another_floor_is_not_offered(paired: FlaskClient):
    response = _take(paired, service="TENENCIA")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "unknown_service"


def test_closed_services_say_when_they_open_and_refuse_tickets(paired: FlaskClient, clock):
    clock.advance(hours=10)  # Monday 20:00 local: after hours
    state = paired.get(f"{KIOSK}/state").get_json()["services"]["ACTA"]
    assert state["open"] is False
    assert state["closed_text"] == "Abre el martes 24, 08:00"
    response = _take(paired)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "service_closed"


def test_a_service_with_every_counter_closed_is_shown_closed(paired: FlaskClient, ctx):
    from sqlalchemy import update

    from server.models import CounterRow

    acta_counters = [c.id for c in ctx.config.counters if "ACTA" in c.services]
    with ctx.db.write() as conn:
        conn.execute(update(CounterRow).where(CounterRow.id.in_(acta_counters))
                     .values(state="closed"))
    state = paired.get(f"{KIOSK}/state").get_json()["services"]["ACTA"]
    assert state["open"] is False
    assert state["closed_text"] == "Ninguna ventanilla está abierta ahora"


def test_the_follow_page_shows_the_ticket_in_spanish(paired: FlaskClient):
    ticket = _take(paired).get_json()
    path = ticket["follow_url"].removeprefix("http://127.0.0.1:8000")
    page = paired.get(path).get_data(as_text=True)
    assert "A-001" in page
    assert "Esperando su turno" in page
    state = paired.get(f"{path}.json").get_json()
    assert state["status"] == "waiting"
    assert state["position"] == 1


def test_an_unknown_follow_link_is_a_friendly_404(client: FlaskClient):
    response = client.get("/t/unknown-link-123")
    assert response.status_code == 404
    assert "Turno no encontrado" in response.get_data(as_text=True)
