"""Development keys: a local CA and the CSA's receipt-signing certificate.

Real deployments sign with a certificate issued by the state's CA (configured in
[receipts]); this module only makes the stand-in that `turnos keys init` writes under
instance/keys/ for development and the demo, and that the tests make for themselves.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from server.config_types import ReceiptsConfig

# Adobe's "Authentic Documents Trust" document-signing EKU (1.2.840.113583.1.1.5).
DOCUMENT_SIGNING = ObjectIdentifier("1.2.840.113583.1.1.5")

CA_CERT = "ca.pem"
CA_KEY = "ca.key.pem"
CA_CRL = "ca.crl.pem"
SIGNING_P12 = "signing.p12"
PASSPHRASE_FILE = "signing.passphrase"


@dataclass(frozen=True, slots=True)
class DevKeys:
    """The development CA and signing identity, in memory."""

    ca_key: rsa.RSAPrivateKey
    ca_cert: x509.Certificate
    signing_key: rsa.RSAPrivateKey
    signing_cert: x509.Certificate
    crl: x509.CertificateRevocationList


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "MX"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def make_dev_keys(csa_name: str, *, now: dt.datetime | None = None, ca_bits: int = 3072,
                  ca_name: str = "Turnos CA de desarrollo") -> DevKeys:
    """A CA valid 10 years and a signing certificate (RSA 2048, non-repudiation) it issued."""
    now = now or dt.datetime.now(dt.UTC)
    start = now - dt.timedelta(days=1)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=ca_bits)
    ca_subject = _name(ca_name, "Turnos (desarrollo, sin validez oficial)")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_subject)
        .issuer_name(ca_subject)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3653))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signing_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(csa_name[:64], csa_name[:64]))
        .issuer_name(ca_subject)
        .public_key(signing_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3 * 365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING,
                                              ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signing_key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    crl = make_crl(ca_key, ca_cert, now=now)
    return DevKeys(ca_key, ca_cert, signing_key, signing_cert, crl)


def make_crl(ca_key: rsa.RSAPrivateKey, ca_cert: x509.Certificate, *,
             now: dt.datetime | None = None, days: int = 365) -> x509.CertificateRevocationList:
    """An empty CRL of the CA: validation data for B-LT receipts of the development CA."""
    now = now or dt.datetime.now(dt.UTC)
    return (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + dt.timedelta(days=days))
        .add_extension(x509.CRLNumber(1), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def _write_private(path: Path, data: bytes) -> None:
    """Create `path` readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def key_directory(config: ReceiptsConfig, config_path: Path) -> Path:
    """Where `turnos keys init` writes: the folder of [receipts] pkcs12 when set, else
    instance/keys next to config.toml."""
    if config.pkcs12:
        return Path(config.pkcs12).parent
    return config_path.resolve().parent / "instance" / "keys"


def existing_files(directory: Path) -> list[Path]:
    """The files `write_dev_keys` would replace."""
    names = (CA_CERT, CA_KEY, CA_CRL, SIGNING_P12, PASSPHRASE_FILE)
    return [directory / name for name in names if (directory / name).exists()]


def write_dev_keys(keys: DevKeys, directory: Path) -> dict[str, Path]:
    """Write the CA (cert, key, CRL) and the signing PKCS#12 with a random passphrase.

    The passphrase goes to signing.passphrase (mode 0600) for `make run`, which exports it as
    the environment variable the config names; real deployments set that variable themselves.
    """
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    passphrase = secrets.token_urlsafe(24)
    pem = serialization.Encoding.PEM
    written = {
        "ca_cert": directory / CA_CERT,
        "ca_key": directory / CA_KEY,
        "crl": directory / CA_CRL,
        "signing": directory / SIGNING_P12,
        "passphrase": directory / PASSPHRASE_FILE,
    }
    written["ca_cert"].write_bytes(keys.ca_cert.public_bytes(pem))
    written["crl"].write_bytes(keys.crl.public_bytes(pem))
    _write_private(written["ca_key"], keys.ca_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    _write_private(written["signing"], pkcs12.serialize_key_and_certificates(
        b"turnos-receipts", keys.signing_key, keys.signing_cert, [keys.ca_cert],
        serialization.BestAvailableEncryption(passphrase.encode())))
    _write_private(written["passphrase"], passphrase.encode() + b"\n")
    return written
