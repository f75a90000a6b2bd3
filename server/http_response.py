"""gunicorn's HTTP response, sending a whole small answer in one write, with a Date header
formatted once a second.

gunicorn writes the status line and headers with one `sendall` and the body with another. With
TCP_NODELAY (which gunicorn sets) that is two TCP segments per answer, and on loopback or a LAN
each segment costs a system call, the receiver's wake-up and the kernel's delivery, paid twice
for every ticket issued or called. The API's answers are one body of known length, so this
response sends the headers and that body together; anything else (a streamed or chunked body,
a file, a body in pieces, a no-body status) takes gunicorn's own path unchanged.

gunicorn also formats the Date header with `email.utils.formatdate` for every answer, about
1 % of the server's CPU per ticket issued; the header only changes once a second.
"""

from __future__ import annotations

import time

from gunicorn import util
from gunicorn.http import wsgi


class OneWriteResponse(wsgi.Response):
    def write(self, arg):
        if (self.headers_sent or self.chunked or self._omits_body
                or not isinstance(arg, bytes) or self.response_length != len(arg)):
            return super().write(arg)
        lines = self.default_headers()
        lines.extend([f"{name}: {value}\r\n" for name, value in self.headers])
        lines.append("\r\n")
        self.sock.sendall("".join(lines).encode("latin-1") + arg)
        self.headers_sent = True
        self.sent = len(arg)


class _DateOncePerSecond:
    def __init__(self, format_date) -> None:
        self._format = format_date
        self._latest = (-1, "")

    def __call__(self, timestamp: float | None = None) -> str:
        if timestamp is not None:
            return self._format(timestamp)
        second = int(time.time())
        latest = self._latest  # one tuple: another thread may replace it meanwhile
        if latest[0] != second:
            latest = self._latest = (second, self._format(second))
        return latest[1]


def install() -> None:
    """Make gunicorn build every HTTP/1 response of this process as a OneWriteResponse, and
    date it from a once-a-second cache."""
    # wsgi.create() looks the class up at each request when the worker passes none, as the
    # gevent worker does; HTTP/2 passes its own class and is unaffected. The response's
    # headers look util.http_date up at each call as well.
    wsgi.Response = OneWriteResponse
    if not isinstance(util.http_date, _DateOncePerSecond):
        util.http_date = _DateOncePerSecond(util.http_date)
