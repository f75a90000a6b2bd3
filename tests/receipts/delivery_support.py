"""Fixtures of the receipt delivery tests: a CSA config whose receipts are signed with a
session-made test CA, stored under the test's own folder."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from server.receipts.keys import PASSPHRASE_FILE, make_dev_keys, write_dev_keys
from tests.conftest import DEMO_CONFIG, Auth

PASSPHRASE_ENV = "TURNOS_TEST_RECEIPTS_PASSPHRASE"
_RECEIPTS_TABLE = re.compile(r"^\[receipts\]\n(?:(?!\[).*\n?)*", re.MULTILINE)


@dataclass(frozen=True)
class ReceiptsSetup:
    config: Path
    keys: Path
    storage: Path
    passphrase: str

    @property
    def env(self) -> dict[str, str]:
        return {PASSPHRASE_ENV: self.passphrase}


@pytest.fixture(scope="session")
def test_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A development CA and signing identity, made once per session (2048-bit CA: faster)."""
    directory = tmp_path_factory.mktemp("receipt-keys")
    write_dev_keys(make_dev_keys("CSA Centro Histórico (pruebas)", ca_bits=2048), directory)
    return directory


def write_config(directory: Path, keys: Path, *, retention_days: int = 365,
                 extra: str = "") -> Path:
    """The demo config.toml with a [receipts] table of ours."""
    text = _RECEIPTS_TABLE.sub("", DEMO_CONFIG.read_text(encoding="utf-8"))
    storage = directory / "receipts"
    text += f"""
[receipts]
enabled = true
pkcs12 = "{keys / 'signing.p12'}"
passphrase_env = "{PASSPHRASE_ENV}"
trust_roots = ["{keys / 'ca.pem'}"]
retention_days = {retention_days}
storage_dir = "{storage}"
{extra}"""
    path = directory / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def receipts_setup(tmp_path: Path, test_keys: Path,
                   monkeypatch: pytest.MonkeyPatch) -> ReceiptsSetup:
    passphrase = (test_keys / PASSPHRASE_FILE).read_text().strip()
    monkeypatch.setenv(PASSPHRASE_ENV, passphrase)
    config = write_config(tmp_path, test_keys)
    return ReceiptsSetup(config, test_keys, tmp_path / "receipts", passphrase)


@pytest.fixture
def app(make_app: Callable[..., Flask], sqlite_url: str, receipts_setup: ReceiptsSetup) -> Flask:
    """The shared fixtures' app (ctx, client, auth...), with receipts signed by the test CA."""
    return make_app(sqlite_url, config_path=receipts_setup.config)


def serve_ticket(client: FlaskClient, auth: Auth, *, counter: str = "V17",
                 service: str = "ACTA") -> int:
    """Issue, call and start a ticket through the API; its id (ready to complete)."""
    ticket = client.post("/api/v1/tickets", json={"service": service},
                         headers=auth.issuing()).get_json()
    assert client.post(f"/api/v1/counters/{counter}/call-next",
                       headers=auth("staff")).status_code == 200
    assert client.post(f"/api/v1/tickets/{ticket['id']}/start",
                       headers=auth("staff")).status_code == 200
    return ticket["id"]


def complete(client: FlaskClient, auth: Auth, ticket_id: int, **body: str) -> TestResponse:
    return client.post(f"/api/v1/tickets/{ticket_id}/complete", headers=auth("staff"),
                       json={"outcome": "follow_up", "folio": "RC-2026-117",
                             "note": "Traer acta certificada", **body})
