"""The `turnos` command as an operator uses it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from server.models import ApiToken
from tests.support.live_server import ROOT, turnos


def _run(*args: str, config: Path, database_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server", *args], cwd=ROOT, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "TURNOS_CONFIG": str(config),
             "TURNOS_DATABASE_URL": database_url},
        timeout=60,
    )


def test_check_config_describes_the_demo_csa(sqlite_url: str):
    out = turnos("check-config", database_url=sqlite_url)
    assert "Centro de Servicios Administrativos" in out
    assert "services" in out and "counters" in out


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (('services = ["ACTA"]', 'services = ["ACTAS"]'), "unknown service 'ACTAS'"),
        (('timezone = "America/Mexico_City"', 'timezone = "America/Cancun_City"'), "timezone"),
        (('prefix = "D"', 'prefix = "A"'), "prefix"),
    ],
)
def test_a_broken_config_stops_the_server_with_the_problem_named(
    tmp_path: Path, sqlite_url: str, change: tuple[str, str], named: str
):
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    assert change[0] in text
    broken = tmp_path / "config.toml"
    broken.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    result = _run("serve", "--port", "1", config=broken, database_url=sqlite_url)
    assert result.returncode == 2
    assert result.stderr.startswith("config error: ")
    assert named in result.stderr
    assert "Traceback" not in result.stderr


def test_token_create_prints_the_secret_once_and_stores_only_its_hash(sqlite_url: str):
    secret = turnos("token", "create", "kiosk-1", "--role", "kiosk",
                    database_url=sqlite_url).strip()
    assert secret.startswith("tk_") and len(secret) > 40
    engine = create_engine(sqlite_url)
    with engine.connect() as conn:
        stored = conn.execute(select(ApiToken.name, ApiToken.role, ApiToken.token_hash)).all()
    engine.dispose()
    assert [(name, role) for name, role, _ in stored] == [("kiosk-1", "kiosk")]
    assert secret not in stored[0].token_hash


def test_creating_a_token_twice_is_a_clear_error(sqlite_url: str):
    turnos("token", "create", "dup", "--role", "staff", database_url=sqlite_url)
    result = _run("token", "create", "dup", "--role", "staff", config=ROOT / "config.toml",
                  database_url=sqlite_url)
    assert result.returncode == 1
    assert "already exists" in result.stderr


def test_demo_data_is_loaded_once(tmp_path: Path):
    database_url = f"sqlite:///{tmp_path / 'turnos.sqlite'}"
    first = turnos("demo", database_url=database_url, cwd=tmp_path)
    assert "issued 40 demo tickets" in first
    tokens = (tmp_path / "instance" / "demo-tokens.txt").read_text().splitlines()
    assert {line.split("\t")[1] for line in tokens} == {"admin", "staff", "kiosk", "display"}
    staff = (tmp_path / "instance" / "demo-accounts.txt").read_text().splitlines()
    roles = {line.split("\t")[0]: line.split("\t")[1] for line in staff}
    assert roles["admin"] == "admin" and roles["rc-1"] == "counter"
    again = turnos("demo", database_url=database_url, cwd=tmp_path)
    assert "none added" in again
