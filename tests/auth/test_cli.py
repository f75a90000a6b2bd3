"""`turnos staff add|list|disable` and `turnos audit verify`, as an operator runs them."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from server.cli import main
from tests.support.live_server import ROOT, _env

PASSWORD = "una frase de paso larga"


@pytest.fixture
def turnos(sqlite_url: str):
    """Run `turnos ...` in this process (fast); returns click's Result."""
    runner = CliRunner()
    env = {"TURNOS_DATABASE_URL": sqlite_url, "TURNOS_CONFIG": str(ROOT / "config.toml")}

    def run(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), input=input, env=env)

    return run


def _process(*args: str, database_url: str, stdin: str = "") -> subprocess.CompletedProcess:
    """The real command in its own process, for exit codes and stderr."""
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, input=stdin,
                          env=_env(database_url, ROOT / "config.toml"), capture_output=True,
                          text=True, timeout=120)


def test_staff_add_asks_for_the_password_twice_and_stores_only_a_hash(turnos, sqlite_url):
    result = turnos("staff", "add", "Ana", "--role", "counter", "--agency", "rc",
                    "--name", "Ana López", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "created ana (counter)" in result.output
    assert PASSWORD not in result.output
    engine = create_engine(sqlite_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM staff_users")).scalar_one()
    engine.dispose()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_staff_add_refuses_two_different_passwords(turnos):
    result = turnos("staff", "add", "ana", "--role", "admin",
                    input=f"{PASSWORD}\notra distinta\n{PASSWORD}\n{PASSWORD}\n")
    assert "Error: The two entered values do not match." in result.output
    assert result.output.count("Repeat for confirmation") == 2  # asked again, then created
    assert result.exit_code == 0 and "created ana (admin)" in result.output


def test_staff_add_reads_the_password_from_stdin_and_audits_as_the_cli(sqlite_url):
    added = _process("staff", "add", "ana", "--role", "counter", "--agency", "rc",
                     "--password-stdin", database_url=sqlite_url, stdin=f"{PASSWORD}\n")
    assert added.returncode == 0, added.stderr
    engine = create_engine(sqlite_url)
    with engine.connect() as conn:
        entry = conn.execute(text("SELECT actor, action, target FROM audit_entries")).one()
    engine.dispose()
    assert tuple(entry) == ("cli", "staff.created", "ana")


@pytest.mark.parametrize("args, message", [
    (("--role", "counter"), "agency"),
    (("--role", "counter", "--agency", "nasa"), "no agency 'nasa'"),
])
def test_staff_add_explains_what_is_wrong(turnos, args, message):
    result = turnos("staff", "add", "ana", *args, "--password-stdin", input=f"{PASSWORD}\n")
    assert result.exit_code != 0
    assert message in str(result.exception)


def test_a_short_password_is_refused_with_exit_1(sqlite_url):
    result = _process("staff", "add", "ana", "--role", "admin", "--password-stdin",
                      database_url=sqlite_url, stdin="corta\n")
    assert result.returncode == 1
    assert "at least 12 characters" in result.stderr


def test_staff_list_shows_each_account_and_disable_deactivates_it(turnos):
    turnos("staff", "add", "ana", "--role", "counter", "--agency", "rc", "--password-stdin",
           input=f"{PASSWORD}\n")
    turnos("staff", "add", "root", "--role", "admin", "--name", "Raíz", "--password-stdin",
           input=f"{PASSWORD}\n")
    listed = turnos("staff", "list").output.splitlines()
    assert listed[0].split() == ["USERNAME", "ROLE", "AGENCY", "STATE", "FAILED", "NAME"]
    assert listed[1].split()[:5] == ["ana", "counter", "rc", "active", "0"]
    assert listed[2].split() == ["root", "admin", "-", "active", "0", "Raíz"]

    disabled = turnos("staff", "disable", "ANA")
    assert disabled.exit_code == 0 and "disabled ana" in disabled.output
    assert turnos("staff", "list").output.splitlines()[1].split()[3] == "disabled"


def test_audit_verify_passes_on_an_intact_log_and_names_the_broken_entry(turnos, sqlite_url):
    for name in ("ana", "beto", "caro"):
        turnos("staff", "add", name, "--role", "manager", "--password-stdin",
               input=f"{PASSWORD}\n")
    intact = _process("audit", "verify", database_url=sqlite_url)
    assert intact.returncode == 0
    assert intact.stdout.startswith("audit log intact: 3 entries (head ")

    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET details = '{\"role\": \"admin\"}' "
                          "WHERE seq = 2"))
    engine.dispose()
    broken = _process("audit", "verify", database_url=sqlite_url)
    assert broken.returncode == 1
    assert broken.stderr.startswith("audit log broken at seq 2: ")


def test_audit_verify_fails_when_an_entry_was_deleted(turnos, sqlite_url):
    for name in ("ana", "beto", "caro"):
        turnos("staff", "add", name, "--role", "manager", "--password-stdin",
               input=f"{PASSWORD}\n")
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq = 1"))
    engine.dispose()
    result = turnos("audit", "verify")
    assert result.exit_code == 1
    assert "audit log broken at seq 1: missing" in result.output
