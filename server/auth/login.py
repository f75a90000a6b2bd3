"""Signing in and out: rate limits, password check, lockout, a new session, the audit entry.

What the person at the keyboard learns is only "signed in", "wrong username or password" or
"too many attempts": an unknown account, a wrong password, a deactivated account and a locked
one all look the same and take the same time (an argon2 check runs in every case). The audit
log says which it was, for the administrators.

The password is checked between two short write transactions, never inside one: a hash takes
tens of milliseconds and holding SQLite's write lock meanwhile would stall every counter.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from server.auth import audit, passwords, ratelimit, sessions
from server.auth.accounts import normalize_username
from server.context import Turnos
from server.models import StaffUser


class Outcome(enum.Enum):
    SIGNED_IN = "signed_in"
    REFUSED = "refused"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class LoginResult:
    outcome: Outcome
    # The new session's cookie secret, when signed in.
    secret: str | None = None
    role: str | None = None
    retry_after: int = 0


@dataclass(frozen=True, slots=True)
class Client:
    """Where a login comes from: the source address and the browser's User-Agent."""

    ip: str
    user_agent: str | None = None


def sign_in(ctx: Turnos, username: str, password: str, client: Client, *,
            previous_session: str | None = None) -> LoginResult:
    """Check the credentials and start a session; `previous_session` (an id) is ended."""
    name = normalize_username(username)[:80]
    now = ctx.clock.now()
    security = ctx.config.security
    with ctx.db.write() as conn:
        allowance = ratelimit.admit(conn, username=name, ip=client.ip, now=now,
                                    per_minute=security.login_attempts_per_minute)
    if not allowance.allowed:
        return LoginResult(Outcome.RATE_LIMITED, retry_after=allowance.retry_after)
    with ctx.db.read() as conn:
        user = conn.execute(
            select(StaffUser.id, StaffUser.role, StaffUser.password_hash, StaffUser.active,
                   StaffUser.locked_until, StaffUser.failed_logins)
            .where(StaffUser.username == name)
        ).first()
    reason = _unusable(user, now)
    password = password[:passwords.MAX_LENGTH + 1]
    if not passwords.verify_password(None if reason else user.password_hash, password):
        _refuse(ctx, name, user, reason or "wrong_password", client, now)
        return LoginResult(Outcome.REFUSED)
    rehash = passwords.needs_rehash(user.password_hash)
    new_hash = passwords.hash_password(password) if rehash else user.password_hash
    with ctx.db.write() as conn:
        # Unchanged since we read it: not deactivated, locked or given a new password meanwhile.
        still = conn.execute(
            update(StaffUser)
            .where(StaffUser.id == user.id, StaffUser.active.is_(True),
                   StaffUser.password_hash == user.password_hash)
            .values(password_hash=new_hash, failed_logins=0, locked_until=None,
                    last_login_at=now)
        ).rowcount
        if still:
            if previous_session:
                sessions.revoke(conn, previous_session, now)
            secret = sessions.create(conn, user_id=user.id, now=now, ip=client.ip,
                                     user_agent=client.user_agent)
            ratelimit.mark_succeeded(conn, username=name, ip=client.ip, at=now)
            sessions.forget_old(conn, now)
            audit.record(conn, actor=name, role=user.role, action="staff.signed_in",
                         target=name, device=client.ip, now=now,
                         details={"user_agent": (client.user_agent or "")[:200],
                                  "rehashed": rehash})
    if not still:
        return LoginResult(Outcome.REFUSED)
    return LoginResult(Outcome.SIGNED_IN, secret=secret, role=user.role)


def sign_out(ctx: Turnos, session_id: str, *, username: str, role: str,
             counter_id: str | None, device: str | None) -> None:
    """End one session and say so in the audit log."""
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        sessions.revoke(conn, session_id, now)
        audit.record(conn, actor=username, role=role, action="staff.signed_out",
                     target=username, counter_id=counter_id, device=device, now=now)


def _unusable(user, now: dt.datetime) -> str | None:
    """Why this account cannot sign in whatever the password, or None."""
    if user is None:
        return "unknown_account"
    if not user.active:
        return "inactive"
    if user.locked_until is not None and user.locked_until > now:
        return "locked"
    return None


def _refuse(ctx: Turnos, name: str, user, reason: str, client: Client,
            now: dt.datetime) -> None:
    """Count a wrong password (locking at the threshold) and audit the failure."""
    security = ctx.config.security
    details: dict = {"reason": reason}
    with ctx.db.write() as conn:
        if reason == "wrong_password":
            failures = _count_failure(conn, user, now)
            details["failed_logins"] = failures
            if failures >= security.lockout_after_failures:
                until = now + dt.timedelta(minutes=security.lockout_minutes)
                conn.execute(update(StaffUser).where(StaffUser.id == user.id)
                             .values(locked_until=until))
                details["locked_until"] = until.isoformat()
        audit.record(conn, actor="anonymous", role=None, action="staff.sign_in_failed",
                     target=name, device=client.ip, details=details, now=now)


def _count_failure(conn: Connection, user, now: dt.datetime) -> int:
    # A lockout that has run out starts the count afresh rather than re-locking at once.
    expired_lock = user.locked_until is not None and user.locked_until <= now
    conn.execute(
        update(StaffUser).where(StaffUser.id == user.id)
        .values(failed_logins=1 if expired_lock else StaffUser.failed_logins + 1,
                locked_until=None)
    )
    # The UPDATE holds the row (PostgreSQL) or the database (SQLite) until the commit, so this
    # reads the value just written, whatever other logins do meanwhile.
    return conn.execute(select(StaffUser.failed_logins).where(StaffUser.id == user.id)).scalar_one()
