"""Password hashing with argon2id at OWASP's recommended parameters, and rehashing on login.

OWASP's Password Storage Cheat Sheet gives argon2id with m = 19 MiB (19456 KiB), t = 2, p = 1
as the minimum; any stronger setting is fine. A hash stored with other parameters is still
accepted, and replaced by one with the current parameters at the next successful login.

Hashing takes tens of milliseconds of CPU on purpose; under gevent it runs on a native thread
so other clients (kiosks, displays) are not held up meanwhile.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from server.db import _off_event_loop

MEMORY_COST_KIB = 19456
TIME_COST = 2
PARALLELISM = 1
MIN_LENGTH = 12
# argon2 takes any length, but hashing megabytes per request is a way to burn our CPU.
MAX_LENGTH = 256

HASHER = PasswordHasher(
    time_cost=TIME_COST,
    memory_cost=MEMORY_COST_KIB,
    parallelism=PARALLELISM,
    hash_len=32,
    salt_len=16,
    type=Type.ID,
)

# Checked against when the account does not exist, so that an unknown username takes as long
# to refuse as a wrong password and the timing does not tell which accounts exist.
# Its password is random and never kept: nothing can match it.
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(32))


def hash_password(password: str) -> str:
    """An argon2id PHC string for `password`, with a fresh salt."""
    return _off_event_loop(lambda: HASHER.hash(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches; a missing or unreadable hash matches nothing."""
    candidate = stored_hash or _DUMMY_HASH
    try:
        ok = _off_event_loop(lambda: HASHER.verify(candidate, password))
    except (VerificationError, InvalidHashError):
        return False
    return bool(ok) and stored_hash is not None


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with parameters other than the current ones."""
    try:
        return HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def password_problem(password: str) -> str | None:
    """Why a new password is refused (English; the pages translate), or None.

    Length is what makes a password strong (NIST SP 800-63B); composition rules are not
    imposed.
    """
    if len(password) < MIN_LENGTH:
        return f"at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"at most {MAX_LENGTH} characters"
    if not password.strip():
        return "not only spaces"
    return None
