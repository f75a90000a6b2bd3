"""Server-side staff sessions: created at login, found by cookie, ended by logout or idleness.

The cookie holds 32 random bytes; the database keeps only their sha256 as the session id.
Every login creates a new session (a new id: the id rotates at login, and no id a browser
brings along is ever adopted, so a planted cookie cannot be fixed onto a victim). Logout
revokes the row, so a copy of the cookie taken before logout is refused afterwards, which a
signed-cookie session cannot promise.

The cookie is `__Host-turnos_session` over HTTPS (Secure, Path=/, no Domain: no other host
or subdomain can set or overwrite it) and `turnos_session` on plain HTTP, where browsers
refuse Secure cookies; always HttpOnly and SameSite=Lax. It has no Max-Age: it ends with the
browser, and the server ends it sooner (idle timeout, a 12-hour maximum).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from flask import Request, Response
from sqlalchemy import Connection, insert, select, update

from server.context import Turnos
from server.models import StaffSession, StaffUser

COOKIE = "turnos_session"
SECURE_COOKIE = "__Host-turnos_session"
# However active, a session lasts at most a working day.
MAX_AGE = dt.timedelta(hours=12)
# last_seen_at is written at most this often, so reading pages does not mean one database
# write per request; the idle timeout is therefore exact to within this.
TOUCH_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    id: str
    user_id: int
    username: str
    display_name: str
    role: str
    agency_id: str | None
    counter_id: str | None
    csrf_token: str


def cookie_name(secure: bool) -> str:
    return SECURE_COOKIE if secure else COOKIE


def cookie_secret(request: Request) -> str | None:
    """The session cookie this request carries, if any."""
    return request.cookies.get(cookie_name(request.is_secure)) or None


def session_id(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(conn: Connection, *, user_id: int, now: dt.datetime, ip: str | None,
           user_agent: str | None) -> str:
    """Start a session inside the login transaction; returns the cookie secret."""
    secret = secrets.token_urlsafe(32)
    conn.execute(insert(StaffSession).values(
        id=session_id(secret), user_id=user_id, created_at=now, last_seen_at=now,
        expires_at=now + MAX_AGE, csrf_token=secrets.token_urlsafe(32),
        ip=(ip or "")[:45] or None, user_agent=(user_agent or "")[:300] or None,
    ))
    return secret


def load(ctx: Turnos, secret: str | None) -> SessionInfo | None:
    """The live session behind a cookie, or None; moves its idle clock forward."""
    if not secret or len(secret) > 100:
        return None
    return load_by_id(ctx, session_id(secret))


def load_by_id(ctx: Turnos, sid: str) -> SessionInfo | None:
    """The session with this id if it is still live (not revoked, idle or expired)."""
    now = ctx.clock.now()
    idle = dt.timedelta(minutes=ctx.config.security.session_idle_minutes)
    with ctx.db.read() as conn:
        row = conn.execute(
            select(StaffSession.id, StaffSession.user_id, StaffSession.counter_id,
                   StaffSession.csrf_token, StaffSession.last_seen_at, StaffUser.username,
                   StaffUser.display_name, StaffUser.role, StaffUser.agency_id)
            .join(StaffUser, StaffUser.id == StaffSession.user_id)
            .where(StaffSession.id == sid, StaffSession.revoked_at.is_(None),
                   StaffSession.expires_at > now, StaffSession.last_seen_at > now - idle,
                   StaffUser.active.is_(True))
        ).first()
    if row is None:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        with ctx.db.write() as conn:
            conn.execute(update(StaffSession).where(StaffSession.id == sid)
                         .values(last_seen_at=now))
    return SessionInfo(id=row.id, user_id=row.user_id, username=row.username,
                       display_name=row.display_name, role=row.role, agency_id=row.agency_id,
                       counter_id=row.counter_id, csrf_token=row.csrf_token)


def revoke(conn: Connection, sid: str, now: dt.datetime) -> None:
    conn.execute(update(StaffSession)
                 .where(StaffSession.id == sid, StaffSession.revoked_at.is_(None))
                 .values(revoked_at=now))


def revoke_all(conn: Connection, user_id: int, now: dt.datetime) -> int:
    """End every session of one account (deactivated, password reset); returns how many."""
    return conn.execute(update(StaffSession)
                        .where(StaffSession.user_id == user_id,
                               StaffSession.revoked_at.is_(None))
                        .values(revoked_at=now)).rowcount


def forget_old(conn: Connection, now: dt.datetime) -> None:
    """Delete sessions that ended more than a week ago."""
    conn.execute(StaffSession.__table__.delete()
                 .where(StaffSession.expires_at < now - dt.timedelta(days=7)))


def choose_counter(ctx: Turnos, sid: str, counter_id: str | None) -> None:
    """Record the counter this session works at (None: none chosen)."""
    with ctx.db.write() as conn:
        conn.execute(update(StaffSession).where(StaffSession.id == sid)
                     .values(counter_id=counter_id))


def set_cookie(response: Response, request: Request, secret: str) -> None:
    secure = request.is_secure
    response.set_cookie(cookie_name(secure), secret, httponly=True, secure=secure,
                        samesite="Lax", path="/")


def clear_cookie(response: Response, request: Request) -> None:
    secure = request.is_secure
    response.delete_cookie(cookie_name(secure), httponly=True, secure=secure, samesite="Lax",
                           path="/")
