"""Several gunicorn worker processes on one database, as deployed: calls made on any of them
never collide; live events, display lines and sign-outs reach every screen whichever process
holds it; one of them leads the background work; and they start together on a new database."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url

from server.gunicorn_settings import command as production_command
from server.models import Event
from server.peers import LEAD_RETRY_SECONDS, run_directory
from server.realtime import POLL_SECONDS
from tests.support.live_server import (
    ROOT,
    GunicornServer,
    WorkerConnection,
    database_with_tokens,
    tokens_for,
    turnos,
)
from tests.support.race import Post, race_counters
from tests.support.screens import Screen, eventually, screens_on_every_worker

RACE_CONFIG = ROOT / "tests" / "fixtures" / "race.toml"
TICKETS = 1_000
COUNTERS = 20
CALLERS = 50
CALLS = 25
# Upstairs in config.toml: counter V17 (Registro Civil, ACTA) shows on its displays.
ZONE = "planta-alta"
COUNTER = "V17"
PASSWORD = "correct horse battery staple"
_LOGIN_TOKEN = re.compile(r'action="/login">\s*<input type="hidden" name="csrf_token" '
                          r'value="([^"]+)"')
_PAGE_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def production(tmp_path: Path) -> Iterator[tuple[GunicornServer, dict[str, str]]]:
    """Two workers on a fresh SQLite file with a display and a staff token; afterwards
    neither worker may have logged an error (the peers' handlers log theirs and go on)."""
    database_url, tokens = database_with_tokens(tmp_path, "display", "staff")
    server = GunicornServer(database_url, tmp_path / "gunicorn.log", workers=2,
                            access_log=tmp_path / "access.log")
    yield server, tokens
    server.stop()
    assert "Traceback" not in server.log()


def _log_after(database_url: str, seq: int) -> list[tuple[int, str]]:
    """(seq, type) of every stored event after `seq`."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Event.seq, Event.type).where(Event.seq > seq)
                                .order_by(Event.seq)).all()
    finally:
        engine.dispose()
    return [(row.seq, row.type) for row in rows]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _issue(connections: list[WorkerConnection], headers: dict[str, str], count: int) -> None:
    """`count` ACTA tickets, the workers taking turns."""
    for n in range(count):
        issued = connections[n % len(connections)].request(
            "POST", "/api/v1/tickets", json_body={"service": "ACTA"},
            headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
        assert issued.status == 201, issued.body


def _call(connections: list[WorkerConnection], headers: dict[str, str], count: int,
          then: Callable[[str], None] | None = None) -> list[tuple[str, int]]:
    """`count` call-next at COUNTER, the workers taking turns; each called ticket is
    cancelled so that the counter is free for the next (after `then(number)`, if given).
    (number, worker) of each call."""
    made = []
    for n in range(count):
        connection = connections[n % len(connections)]
        answer = connection.request("POST", f"/api/v1/counters/{COUNTER}/call-next",
                                    headers=headers)
        assert answer.status == 200, answer.body
        ticket = answer.json()
        made.append((ticket["number"], connection.worker))
        if then is not None:
            then(ticket["number"])
        cancelled = connection.request("POST", f"/api/v1/tickets/{ticket['id']}/cancel",
                                       headers=headers)
        assert cancelled.status == 200, cancelled.body
    return made


# --- calls racing over both workers ---------------------------------------------------------


def _issue_over_http(server: GunicornServer, headers: dict[str, str]) -> list[int]:
    """TICKETS tickets, a third of them MATRI and a seventh preferential; their ids."""
    local = threading.local()
    sessions: list[requests.Session] = []

    def issue(n: int) -> int:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            sessions.append(local.session)
        body = {"service": "ACTA" if n % 3 else "MATRI",
                **({"preferential": "senior"} if n % 7 == 0 else {})}
        response = local.session.post(f"{server.url}/api/v1/tickets", json=body, headers={
            **headers, "Idempotency-Key": uuid.uuid4().hex}, timeout=60)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    try:
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(issue, range(TICKETS)))
    finally:
        for session in sessions:
            session.close()


def _race(server: GunicornServer, headers: dict[str, str]) -> tuple[list[int], list[str]]:
    """CALLERS callers at COUNTERS counters until the queues are empty
    (tests/server/test_concurrency.py, over HTTP). The ids called, and errors."""

    @contextmanager
    def caller() -> Iterator[Post]:
        with requests.Session() as http:
            http.headers.update(headers)

            def post(path: str) -> tuple[int, dict, str]:
                response = http.post(f"{server.url}{path}", timeout=60)
                body = response.json() if response.status_code != 204 else {}
                return response.status_code, body, response.text

            yield post

    # A busy counter is tried again every 50 ms: every 5 ms, as in-process, is tens of
    # thousands of refused calls over HTTP.
    return race_counters(caller, callers=CALLERS, counters=COUNTERS, busy_retry_seconds=0.05)


@pytest.mark.slow
def test_fifty_callers_at_twenty_counters_over_two_workers_call_every_ticket_exactly_once(
    database_url: str, tmp_path: Path,
):
    staff = tokens_for(database_url, "staff", config=RACE_CONFIG)["staff"]
    server = GunicornServer(database_url, tmp_path / "gunicorn.log", workers=2,
                            config=RACE_CONFIG, access_log=tmp_path / "access.log")
    try:
        workers = server.worker_pids()
        issued = _issue_over_http(server, _bearer(staff))
        called, errors = _race(server, _bearer(staff))
        queues = requests.get(f"{server.url}/api/v1/queues", timeout=10).json()["queues"]
    finally:
        server.stop()

    assert errors == []
    assert [ticket for ticket, times in Counter(called).items() if times > 1] == []
    assert sorted(called) == sorted(issued)
    assert sum(queue["waiting"] for queue in queues) == 0
    # Both processes took calls: the race was between processes, not only within one. Each
    # caller's session has a connection of its own, all opened at the same moment; in twelve
    # tries fifty such connections split between 19/31 and 25/25.
    calls_by_worker = server.requests_by_worker("/api/v1/counters/")
    assert sorted(calls_by_worker) == workers
    assert "Traceback" not in server.log()


# --- live push across workers ---------------------------------------------------------------


@pytest.mark.slow
def test_a_screen_gets_the_calls_made_on_either_worker_once_each_in_seq_order(production):
    server, tokens = production
    screen = Screen(server, tokens["display"])
    since = screen.subscribe(["csa"])["seq"]
    # One kept-alive connection per worker, taking turns: half of the requests are served by
    # the process that holds the screen, half by the other (checked in the access log too).
    connections = list(server.connections_to_each_worker().values())
    _issue(connections, _bearer(tokens["staff"]), CALLS)
    # How long each call takes to reach the screen, from the answer to the call-next.
    delays: list[float] = []

    def arrives(number: str) -> None:
        answered = time.monotonic()
        while (number not in [d["ticket"]["number"] for d in screen.received("ticket.called")]
               and time.monotonic() - answered < 5):
            time.sleep(0.002)
        delays.append(time.monotonic() - answered)

    made = _call(connections, _bearer(tokens["staff"]), CALLS, then=arrives)
    stored = _log_after(server.database_url, since)
    eventually(lambda: len(screen.logged()) >= len(stored))
    screen.disconnect()

    assert {worker for _, worker in made} == set(server.worker_pids())
    # Calls made on the other worker come at once, not when the screen's worker next reads
    # the log (once a second): the other one tells it.
    across = [delay for delay, (_, worker) in zip(delays, made, strict=True)
              if worker != screen.worker]
    assert len(across) >= CALLS // 2
    assert max(across) < POLL_SECONDS / 2
    assert sorted(server.requests_by_worker(f"/api/v1/counters/{COUNTER}/call-next")
                  ) == server.worker_pids()
    # Every event of the log since subscribing (issued, called, cancelled), once, in order.
    assert screen.logged() == stored
    assert [data["ticket"]["number"] for data in screen.received("ticket.called")
            ] == [number for number, _ in made]


@pytest.mark.slow
def test_a_screen_that_reconnects_to_either_worker_gets_exactly_the_calls_it_missed(
    production,
):
    server, tokens = production
    with requests.Session() as http:
        http.headers.update(_bearer(tokens["staff"]))
        for _ in range(CALLS):
            http.post(f"{server.url}/api/v1/tickets", json={"service": "ACTA"}, timeout=10,
                      headers={"Idempotency-Key": uuid.uuid4().hex}).raise_for_status()
    first = Screen(server, tokens["display"])
    first.subscribe(["csa"])
    # Gone only once it has seen all that is stored: what it misses is then the calls alone.
    latest = _log_after(server.database_url, 0)[-1][0]
    eventually(lambda: first.last_seq() == latest)
    last_seq = first.last_seq()
    first.disconnect()
    made = _call(list(server.connections_to_each_worker().values()), _bearer(tokens["staff"]),
                 CALLS)
    missed = _log_after(server.database_url, last_seq)

    again = Screen(server, tokens["display"])
    ack = again.subscribe(["csa"], last_seq=last_seq)
    eventually(lambda: len(again.logged()) >= len(missed))
    again.disconnect()

    assert {worker for _, worker in made} == set(server.worker_pids())
    # The calls and cancellations missed, once each and in order: replayed up to the seq the
    # screen's worker had pushed when it subscribed, and anything after that live.
    assert [name for _, name in missed] == ["ticket.called", "ticket.cancelled"] * CALLS
    assert again.logged() == missed
    assert ack["replayed"] == len([seq for seq, _ in missed if seq <= ack["seq"]])
    assert [data["ticket"]["number"] for data in again.received("ticket.called")
            ] == [number for number, _ in made]


def _signed_in(server: GunicornServer, username: str, *role: str) -> requests.Session:
    """A browser signed in through the login form as a new account `username` with `role`
    (and agency) options of `turnos staff add`."""
    turnos("staff", "add", username, *role, "--password-stdin",
           database_url=server.database_url, input=f"{PASSWORD}\n")
    browser = requests.Session()
    page = browser.get(f"{server.url}/login", timeout=10).text
    signed_in = browser.post(f"{server.url}/login", allow_redirects=False, timeout=10, data={
        "username": username, "password": PASSWORD,
        "csrf_token": _LOGIN_TOKEN.search(page).group(1)})
    assert signed_in.status_code == 303, signed_in.text
    return browser


def _cookie(browser: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in browser.cookies)


def _manager_cookie_and_token(server: GunicornServer) -> tuple[str, str]:
    """Sign in as a manager; the session cookie and the CSRF token of the /displays/ page."""
    with _signed_in(server, "gerente", "--role", "manager") as browser:
        displays = browser.get(f"{server.url}/displays/", timeout=10)
        assert displays.status_code == 200
        return _cookie(browser), _PAGE_TOKEN.search(displays.text).group(1)


@pytest.mark.slow
def test_screens_on_both_workers_all_get_a_managers_display_line_and_every_call(production):
    server, tokens = production
    screens = screens_on_every_worker(server, tokens["display"], at_least=8, each=2)
    for screen in screens:
        screen.subscribe([f"zone:{ZONE}"])
    cookie, csrf_token = _manager_cookie_and_token(server)
    connections = list(server.connections_to_each_worker().values())

    lines = []
    for connection in connections:
        line = f"Aviso del proceso {connection.worker}"
        answer = connection.request("POST", f"/displays/{ZONE}/message",
                                    form={"text": line, "csrf_token": csrf_token},
                                    headers={"Cookie": cookie})
        assert answer.status == 303, answer.body
        lines.append(line)
    _issue(connections, _bearer(tokens["staff"]), len(connections))
    made = _call(connections, _bearer(tokens["staff"]), len(connections))

    def everyone_has_everything() -> bool:
        return all(len(s.received("display.message")) >= len(lines)
                   and len(s.received("ticket.called")) >= len(made) for s in screens)

    eventually(everyone_has_everything)
    for screen in screens:
        screen.disconnect()

    for screen in screens:
        # The lines carry no seq (they are not in the event log); each arrives once.
        assert sorted(data["message"]["text"] for data in screen.received("display.message")
                      ) == sorted(lines)
        assert [data["ticket"]["number"] for data in screen.received("ticket.called")
                ] == [number for number, _ in made]


@pytest.mark.slow
def test_signing_out_closes_the_sessions_sockets_on_every_worker(production):
    server, _ = production
    browser = _signed_in(server, "cajero", "--role", "counter", "--agency", "rc")
    pages = screens_on_every_worker(server, None, at_least=4, each=2, cookie=_cookie(browser))
    for page in pages:
        page.subscribe([f"counter:{COUNTER}"])
    csrf_token = browser.get(f"{server.url}/auth/session", timeout=10).json()["csrf_token"]

    signed_out = browser.post(f"{server.url}/logout", data={"csrf_token": csrf_token},
                              allow_redirects=False, timeout=10)
    browser.close()
    eventually(lambda: not any(page.client.connected for page in pages), timeout=10)

    assert signed_out.status_code == 303
    # The worker that served the sign-out closed its own; the other was told to.
    assert [page.client.connected for page in pages] == [False] * len(pages)


def _leaders(server: GunicornServer) -> list[int]:
    """The processes holding the lock that makes a worker the leader, from /proc/locks."""
    lock = run_directory(make_url(server.database_url)) / "leader.lock"
    inode = lock.stat().st_ino
    holders = []
    for line in Path("/proc/locks").read_text().splitlines():
        # "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF": pid, then device:inode.
        fields = line.split()
        if fields[1] == "FLOCK" and int(fields[5].rsplit(":", 1)[1]) == inode:
            holders.append(int(fields[4]))
    return holders


@pytest.mark.slow
def test_one_worker_leads_the_background_work_and_another_takes_over_when_it_dies(
    production,
):
    server, _ = production
    eventually(lambda: len(_leaders(server)) == 1)
    leaders = _leaders(server)
    assert len(leaders) == 1 and leaders[0] in server.worker_pids()

    os.kill(leaders[0], signal.SIGKILL)
    # The other worker tries again every LEAD_RETRY_SECONDS (gunicorn also starts a new one).
    eventually(lambda: _leaders(server) not in ([], leaders), timeout=LEAD_RETRY_SECONDS * 3)

    successors = _leaders(server)
    assert len(successors) == 1
    assert successors != leaders
    assert successors[0] in server.worker_pids()


# --- start-up -------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_workers_starting_together_on_a_new_empty_database_both_come_up_healthy(
    database_url: str, tmp_path: Path,
):
    """Each migrates the schema and loads the catalogue at start-up, one after the other:
    two CREATE TABLEs of the same name at once fail on PostgreSQL. (On SQLite the migration's
    BEGIN IMMEDIATE would line them up anyway.)"""
    server = GunicornServer(database_url, tmp_path / "gunicorn.log", workers=2)
    try:
        booted = server.worker_pids()
        # Each worker answers /healthz on a connection it holds (it reads the database).
        answering = sorted(server.connections_to_each_worker())
        still = server.worker_pids()
    finally:
        server.stop()

    assert len(booted) == 2
    assert answering == booted
    assert still == booted  # neither failed and was replaced
    assert server.log().count("Booting worker") == 2
    assert "Traceback" not in server.log()


@pytest.fixture
def patient(tmp_path: Path) -> Iterator[GunicornServer]:
    """Two workers that keep an idle connection open for a minute, not gunicorn's 2 s, so a
    test can hold connections while it looks at who holds them."""
    database_url, _ = database_with_tokens(tmp_path)
    server = GunicornServer(database_url, tmp_path / "gunicorn.log", workers=2,
                            env={"GUNICORN_CMD_ARGS": "--keep-alive 60"})
    yield server
    server.stop()
    assert "Traceback" not in server.log()


def _connect(server: GunicornServer, held: list[socket.socket]) -> int:
    """A new connection, kept in `held`; the worker that accepted it."""
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    held.append(connection)
    deadline = time.monotonic() + 30
    while (worker := server.worker_holding(connection.getsockname()[1])) is None:
        assert time.monotonic() < deadline, "no worker accepted the connection"
        time.sleep(0.002)
    return worker


@pytest.mark.slow
def test_each_new_connection_goes_to_the_worker_holding_fewer(patient: GunicornServer):
    """On their shared socket, left to the kernel, nearly every connection went to the worker
    that ran first; one socket each (SO_REUSEPORT) spread them by a hash, still unevenly on a
    few: one worker served most kiosks and counters while the other idled."""
    workers = patient.worker_pids()
    held: list[socket.socket] = []
    holding = Counter({worker: 0 for worker in workers})
    try:
        for _ in range(16):
            holding[_connect(patient, held)] += 1
            assert max(holding.values()) - min(holding.values()) <= 1, holding
    finally:
        for connection in held:
            connection.close()

    assert holding == Counter({worker: 8 for worker in workers})


@pytest.mark.slow
def test_a_replacement_worker_takes_the_new_connections_until_it_holds_as_many(
    patient: GunicornServer,
):
    held: list[socket.socket] = []
    try:
        for _ in range(8):
            _connect(patient, held)
        survivor, killed = patient.worker_pids()
        os.kill(killed, signal.SIGKILL)  # its four connections go with it
        deadline = time.monotonic() + 30
        while not (len(pids := set(patient.worker_pids()) - {killed, survivor}) == 1
                   and patient.worker_accepting(replacement := pids.pop())):
            assert time.monotonic() < deadline, "no replacement worker accepts connections"
            time.sleep(0.05)

        assert [_connect(patient, held) for _ in range(4)] == [replacement] * 4
    finally:
        for connection in held:
            connection.close()


@pytest.mark.slow
def test_a_new_connection_does_not_wait_long_for_a_stopped_worker_that_holds_fewer(
    patient: GunicornServer,
):
    held: list[socket.socket] = []
    first = _connect(patient, held)
    stopped = next(pid for pid in patient.worker_pids() if pid != first)
    os.kill(stopped, signal.SIGSTOP)
    try:
        assert requests.get(f"{patient.url}/healthz", timeout=10).status_code == 200
    finally:
        os.kill(stopped, signal.SIGCONT)
        for connection in held:
            connection.close()


@pytest.mark.slow
def test_a_second_server_on_a_port_in_use_refuses_to_start_at_once(production, tmp_path):
    """Start-up says at once that the port is taken, instead of gunicorn retrying the bind
    for five seconds before it gives up."""
    server, _ = production
    (tmp_path / "other").mkdir()
    database_url, _ = database_with_tokens(tmp_path / "other")
    second = subprocess.run(
        production_command(f"127.0.0.1:{server.port}", 2), cwd=ROOT, capture_output=True,
        text=True, timeout=60,
        env={**os.environ, "TURNOS_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)},
    )

    assert second.returncode != 0
    assert f"127.0.0.1:{server.port} is already in use by another server" in second.stderr
    # The first server still answers every connection by itself.
    for _ in range(8):
        assert requests.get(f"{server.url}/healthz", timeout=30).status_code == 200
