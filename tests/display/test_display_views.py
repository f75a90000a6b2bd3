"""The display page's data, its announcements and the managers' ticker line, through Flask's
test client on a real SQLite file (espeak-ng makes the audio for real)."""

from __future__ import annotations

import io
import json
import re
import wave

from flask.testing import FlaskClient

from server.auth import audit
from server.clock import FrozenClock
from server.context import Turnos
from tests.display.conftest import OTHER_ZONE, ZONE


def page_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="display-data">(.*?)</script>',
                      html, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_an_unpaired_screen_gets_the_pairing_form(client: FlaskClient):
    response = client.get(f"/display/{ZONE}")

    assert response.status_code == 401
    assert "data-pair-form" in response.text


def test_an_unknown_zone_is_a_404(display_client: FlaskClient):
    assert display_client.get("/display/sotano").status_code == 404
    assert display_client.get("/display/sotano/state").get_json()["error"]["code"] == (
        "unknown_zone")


def test_the_page_carries_the_zone_its_services_counters_volume_and_voice(
        display_client: FlaskClient):
    response = display_client.get(f"/display/{ZONE}")

    assert response.status_code == 200
    assert "Planta alta" in response.text
    data = page_data(response.text)
    assert data["zone"] == ZONE and data["volume"] == 100 and data["voice"] == "es-MX"
    assert data["timeZone"] == "America/Mexico_City"
    assert [s["code"] for s in data["services"]][:4] == ["ACTA", "DEFUN", "MATRI", "ACLARA"]
    assert "TENENCIA" not in [s["code"] for s in data["services"]]
    assert data["counters"]["V17"] == "Ventanilla 17"
    assert data["state"]["calls"] == [] and data["state"]["message"] is None


def test_the_state_lists_the_zones_calls_newest_first_one_per_ticket(
        display_client: FlaskClient, call):
    first = call("ACTA", "V17")
    call("TENENCIA", "V01")  # downstairs: another zone
    second = call("DEFUN", "V18", preferential="senior")

    calls = display_client.get(f"/display/{ZONE}/state").get_json()["calls"]

    assert [(c["number"], c["counter"]) for c in calls] == [
        (second["number"], "V18"), (first["number"], "V17")]
    assert calls[0]["preferential"] is True and calls[1]["preferential"] is False
    downstairs = display_client.get(f"/display/{OTHER_ZONE}/state").get_json()["calls"]
    assert [c["number"] for c in downstairs] == ["T-001"]


def test_a_recall_moves_the_ticket_back_to_the_top_marked_as_a_recall(
        display_client: FlaskClient, call, client, auth):
    first = call("ACTA", "V17")
    call("DEFUN", "V18")
    assert client.post(f"/api/v1/tickets/{first['id']}/recall",
                       headers=auth("staff")).status_code == 200

    calls = display_client.get(f"/display/{ZONE}/state").get_json()["calls"]

    assert [c["number"] for c in calls] == [first["number"], "D-001"]
    assert calls[0]["recall"] is True


def test_the_state_counts_who_waits_for_each_service_of_the_zone(
        display_client: FlaskClient, client, auth):
    for _ in range(2):
        client.post("/api/v1/tickets", json={"service": "RFC"}, headers=auth.issuing("staff"))

    queues = display_client.get(f"/display/{ZONE}/state").get_json()["queues"]

    assert {q["service"]: q["waiting"] for q in queues}["RFC"] == 2
    assert "CAJA" not in {q["service"] for q in queues}


def test_the_announcement_is_the_spanish_sentence_of_the_call(display_client, call):
    ticket = call("ACTA", "V17")

    spoken = display_client.get(f"/display/{ZONE}/announcement/{ticket['id']}").get_json()

    assert spoken == {
        "text": "Turno A cero cero uno, pase a la ventanilla diecisiete",
        "lang": "es-MX",
        "audio_url": f"/display/{ZONE}/announcement/{ticket['id']}/audio.wav",
    }


def test_tickets_not_called_or_called_in_another_zone_are_not_announced(
        display_client, call, client, auth):
    downstairs = call("TENENCIA", "V01")
    waiting = client.post("/api/v1/tickets", json={"service": "ACTA"},
                          headers=auth.issuing("staff")).get_json()

    for ticket_id in (downstairs["id"], waiting["id"], 999_999):
        response = display_client.get(f"/display/{ZONE}/announcement/{ticket_id}")
        assert response.status_code == 404, ticket_id
        assert display_client.get(
            f"/display/{ZONE}/announcement/{ticket_id}/audio.wav").status_code == 404


def test_the_audio_is_espeak_ng_speaking_the_sentence_as_a_wav(display_client, call, app,
                                                               tmp_path):
    app.config["DISPLAY_SPEECH_FOLDER"] = tmp_path / "speech"
    ticket = call("ACTA", "V17")

    response = display_client.get(f"/display/{ZONE}/announcement/{ticket['id']}/audio.wav")
    body = response.data
    response.close()

    assert response.status_code == 200 and response.mimetype == "audio/wav"
    with wave.open(io.BytesIO(body)) as audio:
        seconds = audio.getnframes() / audio.getframerate()
    assert 2 < seconds < 10  # a sentence, not silence
    assert len(list((tmp_path / "speech").glob("*.wav"))) == 1


# --- the managers' ticker line ------------------------------------------------------------

def test_a_manager_sets_a_zone_message_that_its_displays_show_and_the_audit_log_keeps(
        login_as, everyone, display_client: FlaskClient, ctx: Turnos):
    manager = login_as("gerente")
    page = manager.get("/displays/")
    assert page.status_code == 200 and "Planta alta" in page.text

    response = manager.client.post(f"/displays/{ZONE}/message", data={
        "text": "  El sistema de pagos   vuelve a las 12:00 ", "minutes": "30",
        "csrf_token": manager.csrf_token()})

    assert response.status_code == 303
    message = display_client.get(f"/display/{ZONE}/state").get_json()["message"]
    assert message["text"] == "El sistema de pagos vuelve a las 12:00"
    assert message["expires_at"].startswith("2026-11-23T16:")
    assert display_client.get(f"/display/{OTHER_ZONE}/state").get_json()["message"] is None
    entry = audit.recent(ctx, limit=1)[0]
    assert (entry.actor, entry.action, entry.target) == ("gerente", "display.message_set", ZONE)
    assert not audit.verify(ctx)


def test_a_message_disappears_when_it_expires(login_as, everyone, display_client,
                                              clock: FrozenClock):
    manager = login_as("gerente")
    manager.client.post(f"/displays/{ZONE}/message", data={
        "text": "Aviso", "minutes": "5", "csrf_token": manager.csrf_token()})
    clock.advance(seconds=4 * 60)
    assert display_client.get(f"/display/{ZONE}/state").get_json()["message"] is not None
    clock.advance(seconds=2 * 60)
    assert display_client.get(f"/display/{ZONE}/state").get_json()["message"] is None


def test_a_manager_removes_the_message_and_that_is_audited(login_as, everyone, display_client,
                                                          ctx: Turnos):
    manager = login_as("admin")
    manager.client.post(f"/displays/{ZONE}/message", data={
        "text": "Aviso", "csrf_token": manager.csrf_token()})

    response = manager.client.post(f"/displays/{ZONE}/message/clear",
                                   data={"csrf_token": manager.csrf_token()})

    assert response.status_code == 303
    assert display_client.get(f"/display/{ZONE}/state").get_json()["message"] is None
    assert audit.recent(ctx, limit=1)[0].action == "display.message_cleared"


def test_bad_messages_are_refused_with_a_readable_error(login_as, everyone, display_client):
    manager = login_as("gerente")
    for form, shown in [
        ({"text": "   "}, "Escriba el mensaje"),
        ({"text": "x" * 281}, "280"),
        ({"text": "Aviso", "minutes": "0"}, "10080"),
        ({"text": "Aviso", "minutes": "diez"}, "minutos"),
        ({"text": "Aviso\x07"}, "caracteres"),
    ]:
        response = manager.client.post(f"/displays/{ZONE}/message",
                                       data={**form, "csrf_token": manager.csrf_token()})
        assert response.status_code == 422, form
        assert shown in response.text, (form, shown)
    assert display_client.get(f"/display/{ZONE}/state").get_json()["message"] is None


def test_setting_a_message_without_the_csrf_token_is_refused(login_as, everyone):
    manager = login_as("gerente")
    response = manager.client.post(f"/displays/{ZONE}/message", data={"text": "Aviso"})
    assert response.status_code == 403


def test_an_unknown_zone_has_no_message_to_set(login_as, everyone):
    manager = login_as("gerente")
    response = manager.client.post("/displays/sotano/message", data={
        "text": "Aviso", "csrf_token": manager.csrf_token()})
    assert response.status_code == 404
