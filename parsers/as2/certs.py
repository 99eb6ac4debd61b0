"""Certificates and private keys for AS2: load PEM, DER or PKCS#12 bytes; find certificates near expiry.

Rules:
- Bytes in, objects out: reading the files is the caller's job.
- The format is sniffed: ``-----BEGIN`` means PEM (any number of certificates and keys);
  otherwise DER certificate, DER private key, then PKCS#12, in that order.
- Anything unreadable raises ``KeyMaterialError`` with what was tried; never a library traceback.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from parsers.as2.errors import KeyMaterialError

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.DOTALL)


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """The certificates and private keys found in one blob of key material."""

    certificates: tuple[x509.Certificate, ...] = ()
    private_keys: tuple[PrivateKey, ...] = ()

    @property
    def certificate(self) -> x509.Certificate:
        """The first certificate (the leaf, for PKCS#12 and ordered PEM files)."""
        if not self.certificates:
            raise KeyMaterialError("no certificate in the key material")
        return self.certificates[0]

    @property
    def private_key(self) -> PrivateKey:
        """The first private key."""
        if not self.private_keys:
            raise KeyMaterialError("no private key in the key material")
        return self.private_keys[0]


def _checked_key(key: object, where: str) -> PrivateKey:
    """Accept RSA and EC private keys; AS2 has no use for the others."""
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        return key
    raise KeyMaterialError(f"{where}: unsupported private key type {type(key).__name__} (need RSA or EC)")


def _load_pem(data: bytes, password: bytes | None) -> KeyMaterial:
    """Every CERTIFICATE and PRIVATE KEY block of a PEM file."""
    certs: list[x509.Certificate] = []
    keys: list[PrivateKey] = []
    for number, match in enumerate(_PEM_BLOCK.finditer(data), start=1):
        label = match.group(1).decode("ascii")
        block = match.group(0)
        try:
            if label in ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"):
                certs.append(x509.load_pem_x509_certificate(block))
            elif label.endswith("PRIVATE KEY"):
                keys.append(_checked_key(serialization.load_pem_private_key(block, password), f"PEM block {number}"))
        except KeyMaterialError:
            raise
        except (ValueError, TypeError) as exc:
            raise KeyMaterialError(f"PEM block {number} ({label}) cannot be read: {exc}") from None
    if not certs and not keys:
        raise KeyMaterialError("PEM data holds no CERTIFICATE or PRIVATE KEY block")
    return KeyMaterial(tuple(certs), tuple(keys))


def _load_der(data: bytes, password: bytes | None) -> KeyMaterial:
    """A DER certificate, a DER private key or a PKCS#12 bundle."""
    try:
        return KeyMaterial(certificates=(x509.load_der_x509_certificate(data),))
    except ValueError:
        pass
    try:
        key = serialization.load_der_private_key(data, password)
        return KeyMaterial(private_keys=(_checked_key(key, "DER private key"),))
    except KeyMaterialError:
        raise
    except (ValueError, TypeError):
        pass
    try:
        key12, cert, extra = pkcs12.load_key_and_certificates(data, password)
    except (ValueError, TypeError) as exc:
        raise KeyMaterialError(
            f"not a PEM file, DER certificate, DER private key or PKCS#12 bundle ({exc})"
        ) from None
    certs = ([cert] if cert is not None else []) + list(extra)
    keys = [_checked_key(key12, "PKCS#12 private key")] if key12 is not None else []
    return KeyMaterial(tuple(certs), tuple(keys))


def load_key_material(data: bytes, password: bytes | None = None) -> KeyMaterial:
    """Read certificates and private keys from PEM, DER or PKCS#12 bytes (``password`` for keys/PKCS#12)."""
    if not data.strip():
        raise KeyMaterialError("key material is empty")
    if b"-----BEGIN" in data:
        return _load_pem(data, password)
    return _load_der(data, password)


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Only the certificates of some key material (a partner's public certificates)."""
    certs = list(load_key_material(data).certificates)
    if not certs:
        raise KeyMaterialError("no certificate in the key material")
    return certs


def expiring(
    certs: Iterable[x509.Certificate], now: dt.datetime, within_days: float
) -> list[x509.Certificate]:
    """Certificates already expired or expiring within ``within_days`` of ``now`` (soonest first)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    horizon = now + dt.timedelta(days=within_days)
    found = [c for c in certs if c.not_valid_after_utc <= horizon]
    return sorted(found, key=lambda c: c.not_valid_after_utc)


def valid_at(certs: Sequence[x509.Certificate], now: dt.datetime) -> list[x509.Certificate]:
    """Certificates whose validity period contains ``now`` (pick the signing cert during a rollover)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    return [c for c in certs if c.not_valid_before_utc <= now <= c.not_valid_after_utc]
