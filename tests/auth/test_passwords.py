"""argon2id at OWASP's parameters, and old hashes upgraded when their owner signs in."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.low_level import Type as LowType
from sqlalchemy import select

from server.auth import passwords
from server.models import StaffUser
from tests.auth.conftest import PASSWORD, make_account

# OWASP Password Storage Cheat Sheet: argon2id, m >= 19 MiB, t >= 2, p = 1.
OWASP_MIN_MEMORY_KIB = 19456
OWASP_MIN_TIME = 2


def _stored_hash(ctx, username: str) -> str:
    with ctx.db.read() as conn:
        return conn.execute(select(StaffUser.password_hash)
                            .where(StaffUser.username == username)).scalar_one()


def test_the_hasher_uses_argon2id_at_or_above_owasps_minimum():
    hasher = passwords.HASHER
    assert hasher.type is Type.ID
    assert hasher.memory_cost >= OWASP_MIN_MEMORY_KIB
    assert hasher.time_cost >= OWASP_MIN_TIME
    assert hasher.parallelism == 1


def test_a_stored_hash_names_argon2id_and_its_parameters_and_never_the_password():
    stored = passwords.hash_password(PASSWORD)
    assert stored.startswith(
        f"$argon2id$v=19$m={passwords.MEMORY_COST_KIB},t={passwords.TIME_COST},p=1$")
    assert PASSWORD not in stored
    assert passwords.hash_password(PASSWORD) != stored  # a fresh salt every time


def test_only_the_right_password_verifies():
    stored = passwords.hash_password(PASSWORD)
    assert passwords.verify_password(stored, PASSWORD)
    assert not passwords.verify_password(stored, PASSWORD.upper())
    assert not passwords.verify_password("not a hash", PASSWORD)
    assert not passwords.verify_password(None, PASSWORD)


def test_a_missing_hash_matches_nothing_even_the_stand_in_hashs_password(monkeypatch):
    # An unknown account is checked against a stand-in hash (same time as a real check).
    monkeypatch.setattr(passwords, "_DUMMY_HASH", passwords.hash_password(PASSWORD))
    assert not passwords.verify_password(None, PASSWORD)


def test_short_passwords_are_refused_and_long_ones_accepted():
    assert passwords.password_problem("a" * (passwords.MIN_LENGTH - 1))
    assert passwords.password_problem(" " * passwords.MIN_LENGTH)
    assert passwords.password_problem("a" * (passwords.MAX_LENGTH + 1))
    assert passwords.password_problem("una frase larga de paso") is None


def test_signing_in_rehashes_a_password_stored_with_older_parameters(ctx, browser,
                                                                      monkeypatch):
    weaker = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=LowType.ID)
    monkeypatch.setattr(passwords, "HASHER", weaker)
    make_account(ctx, "ana")
    assert "m=8192,t=1" in _stored_hash(ctx, "ana")
    monkeypatch.undo()

    assert browser.login("ana").status_code == 303

    upgraded = _stored_hash(ctx, "ana")
    assert f"m={passwords.MEMORY_COST_KIB},t={passwords.TIME_COST},p=1" in upgraded
    assert passwords.verify_password(upgraded, PASSWORD)


def test_signing_in_keeps_a_hash_made_with_the_current_parameters(ctx, browser):
    make_account(ctx, "ana")
    before = _stored_hash(ctx, "ana")

    assert browser.login("ana").status_code == 303

    assert _stored_hash(ctx, "ana") == before
