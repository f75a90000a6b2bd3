"""Flask's own signed-cookie session, minus its per-request cost on requests without one.

Turnos keeps staff sessions server-side (server/auth/sessions.py) and API callers use bearer
tokens, so Flask's cookie session is almost always empty. Flask still builds an itsdangerous
signer for every request before it looks for the cookie, and works out every cookie setting
after it; together about a tenth of a small API request's CPU. This interface skips both when
there is nothing to read or write, and otherwise behaves exactly like Flask's.
"""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin


class CookieSessions(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """An empty session without building the signer when the request sends no cookie."""
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Nothing to do for a session that nobody touched and that holds nothing."""
        if not session and not session.modified and not session.accessed:
            return
        super().save_session(app, session, response)
