"""A leaner WebSocket transport for Socket.IO: plain text frames, no per-client compression.

Engine.IO serves WebSockets through simple-websocket (under gunicorn's gevent worker as under
the development server): it needs nothing else, gevent-websocket is not required. Two of its
habits cost a server with a thousand screens most of its CPU, and this module changes them:

- It accepts permessage-deflate whenever a client offers it, and browsers always do. Every
  message is then compressed separately for every client, with a zlib stream per connection
  (CPU on each send and memory for each socket). Turnos messages are small JSON objects that
  travel on the CSA's own network, so the offer is declined.
- Each text message goes through wsproto's general frame writer, and `socket.send` is called
  without checking that everything was written. Server frames are never masked, so a text frame
  is just a 2-10 byte header and the UTF-8 bytes; it is built here and written with `sendall`.

- Under gevent, Engine.IO hands every packet to a writer greenlet per client through a queue:
  one broadcast to a thousand screens wakes a thousand greenlets. Here a packet for a client
  with nothing queued before it, and no write under way, is written straight away with one
  non-blocking `send` from the greenlet that emits it; only what the socket cannot take at once
  goes through the queue and the writer, so the order of a client's packets never changes.

Receiving, control frames (ping, pong, close) and binary messages still go through
simple-websocket and wsproto unchanged.
"""

from __future__ import annotations

import contextlib
import struct
from typing import Any

from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI

_TEXT_FIN = 0x81


def text_frame(message: str) -> bytes:
    """One unmasked, final WebSocket text frame carrying `message` (RFC 6455, 5.2)."""
    data = message.encode()
    size = len(data)
    if size < 126:
        return bytes((_TEXT_FIN, size)) + data
    if size < 1 << 16:
        return struct.pack("!BBH", _TEXT_FIN, 126, size) + data
    return struct.pack("!BBQ", _TEXT_FIN, 127, size) + data


class _Frame(bytes):
    """Bytes already framed for the wire (the rest of a frame the socket took only in part)."""


class _FrameRest:
    """Queued in place of a packet: its frame's bytes that still have to be written."""

    __slots__ = ("frame",)

    def __init__(self, frame: bytes) -> None:
        self.frame = _Frame(frame)

    def encode(self) -> _Frame:
        return self.frame


def install(eio: Any) -> bool:
    """Make this Engine.IO server use the lean transport; False if its WebSocket class is not
    simple-websocket's (e.g. gevent-websocket is installed), which is then left alone."""
    base = eio._async["websocket"]
    if not (isinstance(base, type) and issubclass(base, SimpleWebSocketWSGI)):
        return False
    direct = eio.async_mode == "gevent"

    class LeanWebSocket(base):
        # A write of this connection is under way in some greenlet (it may have yielded).
        busy = False

        def __call__(self, environ, start_response):
            # Declining the extension: the handshake answer then names none.
            environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
            owner = getattr(self.app, "__self__", None)  # the Engine.IO socket
            queue = getattr(owner, "queue", None)
            if not (direct and isinstance(queue, _DirectQueue)):
                return super().__call__(environ, start_response)
            queue.transport, queue.owner = self, owner
            try:
                return super().__call__(environ, start_response)
            finally:
                queue.transport = queue.owner = None

        def send(self, message):
            if isinstance(message, str):
                frame = text_frame(message)
            elif isinstance(message, _Frame):
                frame = message
            else:
                return super().send(message)
            if not self.ws.connected:
                raise OSError("the WebSocket is closed")
            self.busy = True
            try:
                self.ws.sock.sendall(frame)
            finally:
                self.busy = False

        def write_now(self, packet: Any, owner: Any, queue: _DirectQueue) -> bool:
            """Write `packet` at once if nothing is ahead of it; False to queue it instead."""
            ws = getattr(self, "ws", None)
            if (self.busy or ws is None or not ws.connected or not owner.upgraded
                    or owner.upgrading or owner.closed):
                return False
            raw = getattr(ws.sock, "_sock", None)  # gevent's non-blocking socket underneath
            if raw is None:
                return False
            # A broadcast hands the same packet object to every client: frame it once.
            frame = getattr(packet, "lean_frame", None)
            if frame is None:
                encoded = packet.encode()
                if not isinstance(encoded, str):
                    return False
                frame = text_frame(encoded)
                with contextlib.suppress(AttributeError):
                    packet.lean_frame = frame
            try:
                sent = raw.send(frame)
            except BlockingIOError:
                sent = 0
            except OSError:
                return False  # the writer meets the same error and ends the connection
            if sent < len(frame):
                queue.put_queued(_FrameRest(frame[sent:]))
            return True

    eio._async = {**eio._async, "websocket": LeanWebSocket}
    if direct:
        eio._async["queue"] = _DirectQueue
    return True


try:  # only under gevent; the threading server keeps its queue and writer thread
    from gevent.queue import JoinableQueue as _GeventQueue
except ImportError:  # pragma: no cover - gevent is a dependency
    _GeventQueue = object  # type: ignore[assignment,misc]


class _DirectQueue(_GeventQueue):  # type: ignore[misc,valid-type]
    """An Engine.IO socket's outgoing queue that lets its WebSocket write a packet at once."""

    transport: Any = None
    owner: Any = None

    def put(self, item, block=True, timeout=None):
        transport = self.transport
        if (transport is not None and item is not None and self.qsize() == 0
                and transport.write_now(item, self.owner, self)):
            return None
        return super().put(item, block, timeout)

    def put_queued(self, item) -> None:
        super().put(item)

    def get(self, block=True, timeout=None):
        # Engine.IO's writer gives up on a connection when nothing came through its queue for a
        # ping interval and timeout; here packets usually bypass the queue, so it waits on.
        # A dead connection is still closed: by the ping timeout, or when its reader ends.
        if self.transport is not None and block:
            timeout = None
        return super().get(block, timeout)
