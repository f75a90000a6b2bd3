"""Staff accounts, their browser sessions, login attempts and the hash-chained audit log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime

# counter: calls and serves at its agency's counters; orientation: helps citizens in the hall
# and may issue tickets; manager: the building's dashboards, every agency; admin: accounts and
# devices.
STAFF_ROLES = ("counter", "orientation", "manager", "admin")


class StaffUser(Base):
    __tablename__ = "staff_users"
    __table_args__ = (
        CheckConstraint(f"role IN {STAFF_ROLES!r}", name="role"),
        # Counter staff work for one agency; the other roles may span the building.
        CheckConstraint("role <> 'counter' OR agency_id IS NOT NULL", name="counter_agency"),
        # Usernames are compared case-insensitively by storing them lowercased.
        CheckConstraint("username = lower(username)", name="username_lowercase"),
        CheckConstraint("failed_logins >= 0", name="failed_logins"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(12))
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"))
    # argon2id, in the PHC string format (parameters and salt included).
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    # Consecutive failures since the last success; reaching the configured threshold locks.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class StaffSession(Base):
    """One signed-in browser. The cookie holds a random secret; only its sha256 is kept, so a
    copy of the database does not let anyone sign in, and deleting or revoking the row ends
    the session on the server side, whatever the browser still holds."""

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_user", "user_id", "revoked_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Moved forward by requests (at most once a minute); the idle timeout counts from here.
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The absolute end of the session, however active it is.
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    csrf_token: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    # The counter this browser works at, once chosen.
    counter_id: Mapped[str | None] = mapped_column(ForeignKey("counters.id"))


class LoginAttempt(Base):
    """Every login request that got past the rate limiter, for the sliding-minute limits.

    Kept in the database rather than in memory: the limits then survive a restart (a crash or
    a deploy does not hand an attacker a fresh allowance) and hold for the CLI and for a second
    process alike. Each login writes anyway (the session, the audit entry), so this costs one
    more row in a write that happens regardless. Rows older than an hour are deleted as new
    ones arrive.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username", "username", "at"),
        Index("ix_login_attempts_ip", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # As typed (lowercased), whether or not such an account exists.
    username: Mapped[str] = mapped_column(String(80))
    ip: Mapped[str] = mapped_column(String(45))
    succeeded: Mapped[bool] = mapped_column(default=False)


class AuditEntry(Base):
    """Who did what, when and where. Append-only: each row's hash covers its fields and the
    previous row's hash, so changing or deleting any row breaks the chain (`turnos audit
    verify`)."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_at", "at"),)

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # A username, a token name, "cli" or "system".
    actor: Mapped[str] = mapped_column(String(80))
    # The actor's staff or token role; None for the CLI and the system.
    role: Mapped[str | None] = mapped_column(String(20))
    # noun.verb in the past tense, like the events: staff.signed_in, ticket.called, ...
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(200))
    counter_id: Mapped[str | None] = mapped_column(String(40))
    device: Mapped[str | None] = mapped_column(String(300))
    details: Mapped[dict | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The one row that names the newest audit entry.

    Writers update it in the transaction that appends an entry, so on PostgreSQL its row lock
    orders concurrent writers (SQLite writes are serialised already), and it lets `verify`
    notice a deleted last entry, which no later entry would point to.
    """

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(String(64))
