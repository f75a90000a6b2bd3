"""The [receipts] table of config.toml: defaults, paths relative to the config, and errors
that name the key and its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import ConfigError, load_config
from server.config_types import ReceiptsConfig
from tests.server.test_config import MINIMAL

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, table: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL + "\n[receipts]\n" + table, encoding="utf-8")
    return path


def _error(tmp_path: Path, table: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, table))
    return info.value


def test_without_a_receipts_table_receipts_are_off_with_the_documented_defaults(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL, encoding="utf-8")

    receipts = load_config(path).receipts

    assert receipts.enabled is False
    assert receipts.passphrase_env == "TURNOS_SIGNING_PASSPHRASE"
    assert (receipts.page_size, receipts.retention_days, receipts.show_staff_name) == (
        "letter", 365, False)
    assert receipts.tsa_url is None and receipts.embed_validation_data is False
    assert receipts.storage_dir == str(tmp_path / "instance" / "receipts")


def test_the_shipped_config_signs_with_the_development_keys_under_instance(tmp_path):
    receipts = load_config(ROOT / "config.toml").receipts

    assert receipts.enabled
    assert receipts.pkcs12 == str(ROOT / "instance" / "keys" / "signing.p12")
    assert receipts.trust_roots == (str(ROOT / "instance" / "keys" / "ca.pem"),)
    assert receipts.crls == (str(ROOT / "instance" / "keys" / "ca.crl.pem"),)


def test_every_key_is_read_and_paths_resolve_against_the_config_folder(tmp_path):
    config = load_config(_write(tmp_path, """\
enabled = true
key = "keys/csa.key.pem"
certificates = ["keys/csa.pem", "keys/state-ca.pem"]
passphrase_env = "CSA_KEY_PASSPHRASE"
trust_roots = ["keys/state-root.pem"]
crls = ["keys/state.crl"]
tsa_url = "https://tsa.example.gob.mx/tsr"
embed_validation_data = true
retention_days = 1825
page_size = "a4"
show_staff_name = true
storage_dir = "/var/lib/turnos/receipts"
"""))

    keys = tmp_path / "keys"
    assert config.receipts == ReceiptsConfig(
        enabled=True, pkcs12=None, key=str(keys / "csa.key.pem"),
        certificates=(str(keys / "csa.pem"), str(keys / "state-ca.pem")),
        passphrase_env="CSA_KEY_PASSPHRASE", trust_roots=(str(keys / "state-root.pem"),),
        crls=(str(keys / "state.crl"),), tsa_url="https://tsa.example.gob.mx/tsr",
        embed_validation_data=True, retention_days=1825, page_size="a4",
        show_staff_name=True, storage_dir="/var/lib/turnos/receipts")


@pytest.mark.parametrize(("table", "key", "fragment"), [
    ('enabled = true\ntrust_roots = ["ca.pem"]\n', "receipts.enabled", "need pkcs12"),
    ('enabled = true\npkcs12 = "s.p12"\n', "receipts.trust_roots", "CA certificate"),
    ('pkcs12 = "s.p12"\nkey = "k.pem"\n', "receipts.key", "not both"),
    ('key = "k.pem"\n', "receipts.certificates", "go together"),
    ('certificates = ["c.pem"]\n', "receipts.key", "go together"),
    ('tsa_url = "ftp://tsa"\n', "receipts.tsa_url", "http:// or https://"),
    ("embed_validation_data = true\n", "receipts.embed_validation_data", "set tsa_url"),
    ('page_size = "legal"\n', "receipts.page_size", "'letter' or 'a4'"),
    ("retention_days = 0\n", "receipts.retention_days", "between 1 and 36500"),
    ('passphrase_env = "MY PASS"\n', "receipts.passphrase_env", "environment variable name"),
    ('trust_roots = "ca.pem"\n', "receipts.trust_roots", "an array"),
    ("trust_roots = [1]\n", "receipts.trust_roots[0]", "a string"),
    ("show_staff_names = true\n", "receipts.show_staff_names", "did you mean 'show_staff_name'"),
])
def test_a_bad_receipts_value_is_named_with_its_line(tmp_path, table, key, fragment):
    error = _error(tmp_path, table)

    assert error.key == key
    assert fragment in error.message
    text = (tmp_path / "config.toml").read_text()
    header = text.index("[receipts]")
    name = key.split(".")[1].split("[")[0]
    # The key's own line, or the table's header when the key is missing.
    where = text.find(f"\n{name} =", header) + 1 or header
    assert error.line == text[:where].count("\n") + 1
