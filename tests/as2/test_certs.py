"""Key material: PEM, DER and PKCS#12 in; clear errors for anything else; expiry checks."""

from __future__ import annotations

import datetime as dt

import pytest
from as2_keys import make_cert
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from parsers.as2 import KeyMaterialError, expiring, load_certificates, load_key_material, valid_at

from .conftest import NOW, Party

DER = serialization.Encoding.DER
PEM = serialization.Encoding.PEM
PKCS8 = serialization.PrivateFormat.PKCS8


def test_pem_with_key_and_certificate(us: Party) -> None:
    blob = us.key_pem.read_bytes() + b"\n" + us.cert_pem.read_bytes()
    material = load_key_material(blob)
    assert material.certificate == us.cert
    assert material.private_key.public_key().public_numbers() == us.key.public_key().public_numbers()


def test_der_certificate_and_der_key(us: Party) -> None:
    assert load_certificates(us.cert.public_bytes(DER)) == [us.cert]
    key = load_key_material(us.key.private_bytes(DER, PKCS8, serialization.NoEncryption())).private_key
    assert key.private_numbers() == us.key.private_numbers()  # type: ignore[union-attr]


def test_encrypted_pem_key_needs_its_password(us: Party) -> None:
    blob = us.key.private_bytes(PEM, PKCS8, serialization.BestAvailableEncryption(b"s3cret"))
    assert load_key_material(blob, b"s3cret").private_keys
    with pytest.raises(KeyMaterialError, match="PRIVATE KEY"):
        load_key_material(blob)


def test_pkcs12_bundle(us: Party, them: Party) -> None:
    bundle = pkcs12.serialize_key_and_certificates(
        b"us", us.key, us.cert, [them.cert], serialization.BestAvailableEncryption(b"pw")
    )
    material = load_key_material(bundle, b"pw")
    assert material.certificates == (us.cert, them.cert)
    assert len(material.private_keys) == 1
    with pytest.raises(KeyMaterialError, match="PKCS#12"):
        load_key_material(bundle, b"wrong")


@pytest.mark.parametrize("blob", [b"", b"   \n", b"hello, not a key", b"\x30\x03\x02\x01\x01",
                                  b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                                  b"-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n"])
def test_garbage_is_a_key_material_error(blob: bytes) -> None:
    with pytest.raises(KeyMaterialError):
        load_key_material(blob)


def test_expiring_and_valid_at(us: Party) -> None:
    old = make_cert(us.key, "old", NOW - dt.timedelta(days=400), 365)  # expired 35 days ago
    soon = make_cert(us.key, "soon", NOW - dt.timedelta(days=350), 360)  # expires in 10 days
    later = make_cert(us.key, "later", NOW - dt.timedelta(days=10), 365)
    assert expiring([later, soon, old], NOW, 30) == [old, soon]
    assert expiring([later, soon, old], NOW, 5) == [old]
    assert expiring([later], NOW, 400) == [later]
    assert expiring([later], NOW.replace(tzinfo=None), 30) == []
    assert valid_at([old, soon, later], NOW) == [soon, later]
