"""Staff accounts: create, list, deactivate, reactivate, unlock, reset a password.

Each change is one transaction with its audit entry. Deactivating an account or resetting its
password ends the account's open sessions at once.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from server.auth import audit, passwords, sessions
from server.context import Turnos
from server.domain.errors import DomainError, InvalidRequest, NotFound
from server.models import StaffUser
from server.models.staff import STAFF_ROLES

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,79}$")
_ACCOUNT_COLUMNS = (
    StaffUser.id, StaffUser.username, StaffUser.display_name, StaffUser.role,
    StaffUser.agency_id, StaffUser.active, StaffUser.failed_logins, StaffUser.locked_until,
    StaffUser.created_at, StaffUser.last_login_at,
)


class AccountExists(DomainError):
    code = "account_exists"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change, for the audit log: a signed-in administrator or the CLI."""

    name: str
    role: str | None = None
    device: str | None = None


CLI = Actor("cli")


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    username: str
    display_name: str
    role: str
    agency_id: str | None
    active: bool
    failed_logins: int
    locked_until: dt.datetime | None
    created_at: dt.datetime
    last_login_at: dt.datetime | None

    def locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


def normalize_username(raw: str) -> str:
    """Usernames are case-insensitive: kept and compared lowercased, without outer spaces."""
    return raw.strip().lower()


def create_account(ctx: Turnos, *, username: str, display_name: str, role: str,
                   agency_id: str | None, password: str, actor: Actor) -> Account:
    """Check and store a new account; the password is kept only as an argon2id hash."""
    username = normalize_username(username)
    if not USERNAME.match(username):
        raise InvalidRequest("a username is 2-80 letters, digits or . _ @ -, starting with a "
                             "letter or digit", code="invalid_username")
    display_name = display_name.strip() or username
    if len(display_name) > 120:
        raise InvalidRequest("the display name is longer than 120 characters",
                             code="invalid_name")
    if role not in STAFF_ROLES:
        raise InvalidRequest(f"role must be one of {', '.join(STAFF_ROLES)}",
                             code="invalid_role")
    agency_id = agency_id or None
    if role == "counter" and agency_id is None:
        raise InvalidRequest("counter staff belong to one agency: give --agency",
                             code="agency_required")
    if agency_id is not None and agency_id not in {a.id for a in ctx.config.agencies}:
        raise InvalidRequest(f"there is no agency '{agency_id}'", code="unknown_agency")
    problem = passwords.password_problem(password)
    if problem:
        raise InvalidRequest(f"the password must have {problem}", code="weak_password")
    password_hash = passwords.hash_password(password)
    now = ctx.clock.now()
    try:
        with ctx.db.write() as conn:
            user_id = conn.execute(insert(StaffUser).values(
                username=username, display_name=display_name, role=role, agency_id=agency_id,
                password_hash=password_hash, active=True, failed_logins=0, created_at=now,
            )).inserted_primary_key[0]
            _audit(conn, actor, "staff.created", username, now,
                   {"role": role, "agency": agency_id})
    except IntegrityError:
        raise AccountExists(f"an account named '{username}' already exists") from None
    return get_account(ctx, user_id)


def list_accounts(ctx: Turnos) -> list[Account]:
    with ctx.db.read() as conn:
        rows = conn.execute(select(*_ACCOUNT_COLUMNS).order_by(StaffUser.username)).all()
    return [Account(**row._asdict()) for row in rows]


def get_account(ctx: Turnos, user_id: int) -> Account:
    with ctx.db.read() as conn:
        row = conn.execute(select(*_ACCOUNT_COLUMNS).where(StaffUser.id == user_id)).first()
    if row is None:
        raise NotFound(f"no staff account with id {user_id}")
    return Account(**row._asdict())


def find_account(ctx: Turnos, username: str) -> Account:
    username = normalize_username(username)
    with ctx.db.read() as conn:
        row = conn.execute(select(*_ACCOUNT_COLUMNS)
                           .where(StaffUser.username == username)).first()
    if row is None:
        raise NotFound(f"no staff account named '{username}'")
    return Account(**row._asdict())


def set_active(ctx: Turnos, user_id: int, active: bool, *, actor: Actor) -> Account:
    """Deactivate (its sessions end at once) or reactivate an account."""
    account = get_account(ctx, user_id)
    if account.active == active:
        return account
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        conn.execute(update(StaffUser).where(StaffUser.id == user_id).values(active=active))
        ended = 0 if active else sessions.revoke_all(conn, user_id, now)
        action = "staff.reactivated" if active else "staff.deactivated"
        _audit(conn, actor, action, account.username, now,
               None if active else {"sessions_ended": ended})
    return get_account(ctx, user_id)


def unlock(ctx: Turnos, user_id: int, *, actor: Actor) -> Account:
    """Lift a lockout and forget the failed logins that led to it."""
    account = get_account(ctx, user_id)
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        conn.execute(update(StaffUser).where(StaffUser.id == user_id)
                     .values(failed_logins=0, locked_until=None))
        _audit(conn, actor, "staff.unlocked", account.username, now,
               {"failed_logins": account.failed_logins})
    return get_account(ctx, user_id)


def reset_password(ctx: Turnos, user_id: int, password: str, *, actor: Actor) -> Account:
    """Set a new password, lift any lockout and end the account's sessions."""
    account = get_account(ctx, user_id)
    problem = passwords.password_problem(password)
    if problem:
        raise InvalidRequest(f"the password must have {problem}", code="weak_password")
    password_hash = passwords.hash_password(password)
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        conn.execute(update(StaffUser).where(StaffUser.id == user_id)
                     .values(password_hash=password_hash, failed_logins=0, locked_until=None))
        ended = sessions.revoke_all(conn, user_id, now)
        _audit(conn, actor, "staff.password_reset", account.username, now,
               {"sessions_ended": ended})
    return get_account(ctx, user_id)


def _audit(conn: Connection, actor: Actor, action: str, target: str, now: dt.datetime,
           details: dict | None) -> None:
    audit.record(conn, actor=actor.name, role=actor.role, action=action, target=target,
                 device=actor.device, details=details, now=now)
