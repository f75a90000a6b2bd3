"""gunicorn's responses as the production workers send them (server/http_response.py)."""

from __future__ import annotations

import email.utils
import socket
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from gunicorn import util
from gunicorn.config import Config
from gunicorn.http import wsgi

from server import gunicorn_settings
from server.http_response import OneWriteResponse, _DateOncePerSecond

BODY = b'{"id": 7, "number": "A-007", "status": "waiting", "position": 3}'


class CountedWrites:
    """The server's end of a real TCP connection, counting the writes made on it."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.writes: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self._sock.sendall(data)


@pytest.fixture
def connection() -> Iterator[tuple[CountedWrites, socket.socket]]:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
        with client, server:
            yield CountedWrites(server), client


def respond(response_class, sock, headers: list[tuple[str, str]], pieces: list[bytes]):
    request = SimpleNamespace(version=(1, 1), method="POST", should_close=lambda: False)
    response = response_class(request, sock, Config())
    response.start_response("201 CREATED", headers)
    for piece in pieces:
        response.write(piece)
    response.close()
    return response


def received(client: socket.socket, size: int) -> bytes:
    data = b""
    client.settimeout(5)
    while len(data) < size:
        data += client.recv(65536)
    return data


def test_an_answer_of_known_length_leaves_in_one_write_with_its_headers(connection):
    server, client = connection
    respond(OneWriteResponse, server, [("Content-Type", "application/json"),
                                       ("Content-Length", str(len(BODY)))], [BODY])
    assert len(server.writes) == 1
    head, _, body = received(client, len(server.writes[0])).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0] == "HTTP/1.1 201 CREATED"
    assert f"Content-Length: {len(BODY)}" in lines
    assert "Connection: keep-alive" in lines
    assert any(line.startswith("Date: ") for line in lines)
    assert body == BODY


def test_it_sends_the_same_bytes_as_gunicorn_only_in_fewer_writes(connection):
    server, client = connection
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]
    respond(wsgi.Response, server, list(headers), [BODY])
    respond(OneWriteResponse, server, list(headers), [BODY])
    theirs, ours = b"".join(server.writes[:2]), server.writes[2]
    assert len(server.writes) == 3
    # The Date header may have moved on by a second between the two answers.
    assert _without_date(ours) == _without_date(theirs)


def test_a_body_of_unknown_length_still_goes_out_in_chunks(connection):
    server, client = connection
    respond(OneWriteResponse, server, [("Content-Type", "text/plain")], [b"hola ", b"mundo"])
    data = received(client, sum(len(w) for w in server.writes))
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    assert body == b"5\r\nhola \r\n5\r\nmundo\r\n0\r\n\r\n"


def test_a_body_written_in_pieces_keeps_gunicorns_writes(connection):
    server, client = connection
    respond(OneWriteResponse, server, [("Content-Length", "10")], [b"hola ", b"mundo"])
    assert len(server.writes) == 3
    assert received(client, 10 + len(server.writes[0])).endswith(b"\r\n\r\nhola mundo")


def test_the_date_header_is_the_current_seconds():
    date = _DateOncePerSecond(util.http_date)
    before = email.utils.formatdate(int(time.time()), usegmt=True)
    first, second = date(), date()
    after = email.utils.formatdate(int(time.time()), usegmt=True)
    assert first == second
    assert first in (before, after)
    # A given time is formatted as asked, not from the cache.
    assert date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"


def test_the_production_workers_install_it(monkeypatch: pytest.MonkeyPatch):
    # Restored after the test: this process is not a worker.
    monkeypatch.setattr(wsgi, "Response", wsgi.Response)
    monkeypatch.setattr(util, "http_date", util.http_date)
    gunicorn_settings.post_worker_init(SimpleNamespace(connection_slot=None))
    assert wsgi.Response is OneWriteResponse
    assert isinstance(util.http_date, _DateOncePerSecond)


def _without_date(response: bytes) -> bytes:
    return b"\r\n".join(line for line in response.split(b"\r\n")
                        if not line.startswith(b"Date: "))
