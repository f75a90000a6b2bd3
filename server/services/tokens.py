"""API and device tokens: created once by the CLI, stored hashed, checked per request.

Creating and revoking a token are audited (token.created, token.revoked) in the same
transaction; `actor` names who did it ("cli" from the command line).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from server.auth import audit
from server.context import Turnos
from server.domain.errors import DomainError, InvalidRequest, NotFound
from server.models import ApiToken
from server.models.access import ROLES

# A revoked token keeps working at most this long in a running server.
CACHE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: str


class TokenExists(DomainError):
    code = "token_exists"


def create_token(ctx: Turnos, name: str, role: str, *, actor: str = "system",
                 actor_role: str | None = None) -> str:
    """Store a new token and return its secret; it is shown once and never stored in clear."""
    if role not in ROLES:
        raise InvalidRequest(f"role must be one of {', '.join(ROLES)}")
    if not name or len(name) > 80:
        raise InvalidRequest("a token needs a name of 1 to 80 characters")
    secret = f"tk_{secrets.token_urlsafe(32)}"
    now = ctx.clock.now()
    try:
        with ctx.db.write() as conn:
            conn.execute(insert(ApiToken.__table__).values(
                name=name, role=role, token_hash=_digest(secret), created_at=now))
            audit.record(conn, actor=actor, role=actor_role, action="token.created",
                         target=name, details={"role": role}, now=now)
    except IntegrityError:
        raise TokenExists(f"a token named '{name}' already exists") from None
    return secret


def revoke_token(ctx: Turnos, name: str, *, actor: str = "system",
                 actor_role: str | None = None) -> None:
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        done = conn.execute(
            update(ApiToken.__table__)
            .where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        ).rowcount
        if done:
            audit.record(conn, actor=actor, role=actor_role, action="token.revoked",
                         target=name, now=now)
    if not done:
        raise NotFound(f"no active token named '{name}'")


class TokenChecker:
    """Looks tokens up with a short cache: every kiosk request carries one."""

    def __init__(self, ctx: Turnos) -> None:
        self._ctx = ctx
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def principal(self, secret: str) -> Principal | None:
        # Keyed by the secret itself, which the request holds in memory anyway: hashing it
        # first cost a SHA-256 per request.
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(secret)
        if hit is not None and hit[0] > now:
            return hit[1]
        digest = _digest(secret)
        with self._ctx.db.read() as conn:
            row = conn.execute(
                select(ApiToken.name, ApiToken.role)
                .where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
            ).first()
        found = Principal(row.name, row.role) if row else None
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[secret] = (now + CACHE_SECONDS, found)
        return found


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
