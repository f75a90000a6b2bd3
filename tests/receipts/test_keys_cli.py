"""`turnos keys init`: a development CA and signing certificate under instance/keys, made
once, never overwritten by accident, usable by the signer at once."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from server.config import load_config
from server.receipts.document import render_pdf
from server.receipts.signing import ReceiptSigner
from server.receipts.verification import load_trust_roots, verify_pdf
from tests.receipts.core_support import receipt

ROOT = Path(__file__).resolve().parents[2]


def _keys_init(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server", "--config", str(config), "keys", "init", *args],
        cwd=config.parent, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )


def _demo_config(tmp_path: Path) -> Path:
    config = tmp_path / "config.toml"
    shutil.copy(ROOT / "config.toml", config)
    return config


@pytest.fixture(scope="module")
def initialised(
        tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """A copy of the demo config next to which `turnos keys init` ran once."""
    config = _demo_config(tmp_path_factory.mktemp("keys-init"))
    return config, _keys_init(config)


def test_keys_init_makes_a_ca_and_a_non_repudiation_signing_certificate(initialised):
    config, result = initialised

    keys = config.parent / "instance" / "keys"
    assert result.returncode == 0, result.stderr
    assert str(keys / "signing.p12") in result.stdout
    assert {path.name for path in keys.iterdir()} == {
        "ca.pem", "ca.key.pem", "ca.crl.pem", "signing.p12", "signing.passphrase"}
    for private in ("ca.key.pem", "signing.p12", "signing.passphrase"):
        assert (keys / private).stat().st_mode & 0o077 == 0, private
    passphrase = (keys / "signing.passphrase").read_text().strip()
    key, cert, chain = pkcs12.load_key_and_certificates(
        (keys / "signing.p12").read_bytes(), passphrase.encode())
    ca = x509.load_pem_x509_certificate((keys / "ca.pem").read_bytes())
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert key.key_size == 2048
    assert usage.digital_signature and usage.content_commitment
    assert cert.issuer == ca.subject and chain == [ca]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.not_valid_after_utc - ca.not_valid_before_utc >= dt.timedelta(days=3650)
    assert "Centro de Servicios Administrativos" in cert.subject.rfc4514_string()


def test_the_made_keys_sign_receipts_the_demo_config_trusts(initialised):
    config, _ = initialised
    receipts = load_config(config).receipts
    passphrase = (config.parent / "instance" / "keys" / "signing.passphrase").read_text().strip()

    signer = ReceiptSigner.from_config(receipts, {receipts.passphrase_env: passphrase})
    result = verify_pdf(signer.sign(render_pdf(receipt())), load_trust_roots(receipts))

    assert result.status == "valid"


def test_keys_init_refuses_to_overwrite_without_force(tmp_path):
    config = _demo_config(tmp_path)
    _keys_init(config)
    ca = tmp_path / "instance" / "keys" / "ca.pem"
    first = ca.read_bytes()

    refused = _keys_init(config)
    forced = _keys_init(config, "--force")

    assert refused.returncode == 1
    assert "--force" in refused.stderr and "Traceback" not in refused.stderr
    assert forced.returncode == 0
    assert ca.read_bytes() != first
