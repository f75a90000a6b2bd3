"""Fixtures of the receipt core tests: a test CA made per session, a signer, a local RFC 3161
timestamp authority in a thread, and a factory of receipt contents."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder_data
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from server.config_types import ReceiptsConfig
from server.receipts.document import ReceiptContent
from server.receipts.keys import DevKeys, make_dev_keys, write_dev_keys
from server.receipts.signing import ReceiptSigner

PASSPHRASE_ENV = "TURNOS_TEST_SIGNING_PASSPHRASE"
MEXICO_CITY = ZoneInfo("America/Mexico_City")
# 10:00 in Mexico City.
ISSUED = dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class TestKeys:
    keys: DevKeys
    directory: Path
    passphrase: str

    @property
    def environ(self) -> dict[str, str]:
        return {PASSPHRASE_ENV: self.passphrase}

    def config(self, **overrides) -> ReceiptsConfig:
        base = ReceiptsConfig(
            enabled=True, pkcs12=str(self.directory / "signing.p12"),
            passphrase_env=PASSPHRASE_ENV, trust_roots=(str(self.directory / "ca.pem"),),
            crls=(str(self.directory / "ca.crl.pem"),))
        return dataclasses.replace(base, **overrides)

    @property
    def trust_roots(self) -> list[asn1_x509.Certificate]:
        return [as_asn1(self.keys.ca_cert)]


def as_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def make_test_keys(directory: Path, name: str = "CSA Centro Histórico (pruebas)") -> TestKeys:
    keys = make_dev_keys(name, ca_bits=2048)
    written = write_dev_keys(keys, directory)
    return TestKeys(keys, directory, written["passphrase"].read_text().strip())


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestKeys:
    """The session's test CA and signing identity (2048-bit CA: quicker to make)."""
    return make_test_keys(tmp_path_factory.mktemp("receipt-core-keys"))


@pytest.fixture(scope="session")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> TestKeys:
    """A second CA with the same names as the first: trusting it must not help."""
    return make_test_keys(tmp_path_factory.mktemp("receipt-other-keys"))


@pytest.fixture(scope="session")
def signer(test_ca: TestKeys) -> ReceiptSigner:
    return ReceiptSigner.from_config(test_ca.config(), test_ca.environ)


def receipt(**overrides) -> ReceiptContent:
    """A realistic receipt; any field can be overridden."""
    fields = {
        "receipt_folio": "CSA-7K3M-9QXD",
        "csa_name": "Centro de Servicios Administrativos Zona Centro",
        "agency_name": "Dirección del Registro Civil",
        "service_code": "ACTA",
        "service_name": "Copia certificada de acta de nacimiento",
        "ticket_number": "A-042",
        "counter_name": "Ventanilla 17",
        "staff_name": None,
        "issued_at": ISSUED,
        "called_at": ISSUED + dt.timedelta(minutes=12),
        "started_at": ISSUED + dt.timedelta(minutes=13),
        "completed_at": ISSUED + dt.timedelta(minutes=21, seconds=30),
        "outcome": "follow_up",
        "procedure_folio": "RC-2026-118833",
        "note": "Traer identificación oficial; pagar derechos en caja. ¿Dudas? ¡Llame!",
        "verify_url": "https://turnos.csa-centro.gob.mx/verify/CSA-7K3M-9QXD",
        "timezone": MEXICO_CITY,
    }
    fields.update(overrides)
    return ReceiptContent(**fields)


def run(*command: str, path: Path | None = None, check: bool = True) -> str:
    """Output of a poppler/zbar tool (stdout and stderr together)."""
    args = [*command, str(path)] if path is not None else list(command)
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if check and done.returncode not in (0, 1, 2):
        raise AssertionError(f"{command[0]} failed: {done.stderr}")
    return done.stdout + done.stderr


# --- a local RFC 3161 timestamp authority -----------------------------------------------------


def make_tsa_identity(keys: DevKeys) -> tuple[bytes, bytes]:
    """A TSA certificate (critical timeStamping EKU) issued by the test CA: (cert, key) PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Turnos test TSA")]))
        .issuer_name(keys.ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                       critical=True)
        .sign(keys.ca_key, hashes.SHA256())
    )
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


class _TsaHandler(BaseHTTPRequestHandler):
    stamper: DummyTimeStamper

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = tsp.TimeStampReq.load(body)
        response = asyncio.run(self.stamper.async_request_tsa_response(request))
        data = response.dump()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="session")
def tsa_url(test_ca: TestKeys, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real HTTP RFC 3161 timestamp authority on localhost, signing with a test-CA cert."""
    cert_pem, key_pem = make_tsa_identity(test_ca.keys)
    directory = tmp_path_factory.mktemp("tsa")
    (directory / "tsa.pem").write_bytes(cert_pem)
    handler = type("Handler", (_TsaHandler,), {"stamper": DummyTimeStamper(
        tsa_cert=load_cert_from_pemder(str(directory / "tsa.pem")),
        tsa_key=load_private_key_from_pemder_data(key_pem, passphrase=None),
        certs_to_embed=[as_asn1(test_ca.keys.ca_cert)],
    )})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    server.shutdown()
    server.server_close()
