"""Test key material for the AS2 tests (tests/as2 and tests/as2_http): RSA keys with self-signed
certificates, generated into a temporary folder at test time (never committed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from parsers.as2 import Signer


@dataclass(frozen=True)
class Party:
    """A test trading party: its key, self-signed certificate and both as PEM files (for openssl)."""

    name: str
    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    key_pem: Path
    cert_pem: Path

    @property
    def signer(self) -> Signer:
        """This party's signing identity with SHA-256."""
        return Signer(self.cert, self.key, "sha256")

    def pem_bundle(self) -> bytes:
        """Key and certificate in one PEM blob (what pyas2lib loads)."""
        return self.key_pem.read_bytes() + self.cert_pem.read_bytes()


def make_cert(key: rsa.RSAPrivateKey, name: str, not_before: dt.datetime, days: int,
              serial: int | None = None) -> x509.Certificate:
    """A self-signed certificate for ``key``."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + dt.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def make_party(directory: Path, name: str, *, not_before: dt.datetime | None = None, days: int = 365) -> Party:
    """Generate an RSA key pair with a self-signed certificate, written as PEM under ``directory``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    cert = make_cert(key, name, start, days)
    key_pem = directory / f"{name}.key.pem"
    cert_pem = directory / f"{name}.cert.pem"
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Party(name, key, cert, key_pem, cert_pem)
