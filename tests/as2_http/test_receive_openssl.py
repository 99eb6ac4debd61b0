"""Receiving over real HTTP: messages built by the ``openssl cms`` CLI are landed once, and our MDN
verifies with ``openssl cms -verify``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from parsers.as2 import parse_mdn
from parsers.as2.message import format_mic

from .conftest import PAYLOAD, Gateway, Party, as2_headers, openssl, split_smime

ENTITY_CRLF = (b'Content-Type: application/edi-x12\r\nContent-Disposition: attachment; filename="po_850.x12"\r\n\r\n'
               + PAYLOAD.replace(b"\n", b"\r\n"))
ENTITY_LF = ENTITY_CRLF.replace(b"\r\n", b"\n")
VERIFY = ("cms", "-verify", "-binary", "-crlfeol", "-purpose", "any")


def _sign(tmp: Path, signer: Party, entity: bytes, binary: bool) -> bytes:
    src = tmp / "entity.txt"
    src.write_bytes(entity)
    return openssl("cms", "-sign", "-in", src, "-signer", signer.cert_pem, "-inkey", signer.key_pem, "-md", "sha256",
                   *(["-binary"] if binary else []))


def _encrypt(tmp: Path, recipient: Party, content: bytes) -> bytes:
    src = tmp / "plain.bin"
    src.write_bytes(content)
    return openssl("cms", "-encrypt", "-binary", "-in", src, "-aes256", recipient.cert_pem)


def _verify_mdn_with_openssl(tmp: Path, us: Party, headers: dict[str, str], body: bytes) -> bytes:
    """Verify our MDN's signature with openssl; returns the verified multipart/report."""
    smime = f"Content-Type: {headers['content-type']}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body
    (tmp / "mdn.eml").write_bytes(smime)
    return openssl(*VERIFY, "-in", tmp / "mdn.eml", "-CAfile", us.cert_pem)


CASES = {
    "signed-binary+encrypted": dict(sign=True, binary=True, encrypt=True),
    "signed-text+encrypted": dict(sign=True, binary=False, encrypt=True),
    "signed-only": dict(sign=True, binary=True, encrypt=False),
    "encrypted-only": dict(sign=False, binary=True, encrypt=True),
}


@pytest.mark.parametrize("case", list(CASES))
def test_openssl_built_message_is_landed_once_and_our_mdn_verifies(
    case: str, tmp_path: Path, us: Party, them: Party, start_gateway: Callable[..., Gateway],
    acme: Callable[..., object],
) -> None:
    opts = CASES[case]
    gw = start_gateway([acme(require_signature=opts["sign"], require_encryption=opts["encrypt"])])
    content = _sign(tmp_path, them, ENTITY_CRLF if opts["binary"] else ENTITY_LF, opts["binary"]) if opts["sign"] \
        else ENTITY_CRLF
    if opts["encrypt"]:
        content = _encrypt(tmp_path, us, content)
    headers, body = split_smime(content)

    response = gw.post(as2_headers(headers, message_id=f"<{case}@them>"), body)

    assert response.status_code == 200
    files = gw.files()
    assert len(files) == 1
    landed = gw.store.archive.read(files[0].sha256)
    assert landed.replace(b"\r\n", b"\n") == PAYLOAD
    assert files[0].filename == "po_850.x12" and files[0].partner_hint == "acme"
    assert files[0].transport_id == f"acme/{case}@them"
    # The MIC covers the signed entity (canonical CRLF) or, unsigned, the decrypted entity.
    expected_mic = format_mic(hashlib.sha256(ENTITY_CRLF).digest(), "sha256")
    assert files[0].metadata["mic"] == expected_mic
    mdn = parse_mdn(dict(response.headers), response.content, their_certs=[us.cert],
                    expected_message_id=f"{case}@them", expected_mic=expected_mic)
    assert mdn.is_success and mdn.signed and mdn.as2_from == "US" and mdn.as2_to == "THEM"
    report = _verify_mdn_with_openssl(tmp_path, us, dict(response.headers), response.content)
    assert f"Original-Message-ID: <{case}@them>".encode() in report
    assert f"Received-Content-MIC: {expected_mic}".encode() in report
    assert gw.alert_kinds() == []


def test_tampered_mdn_fails_openssl_verification(
    tmp_path: Path, us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., object],
) -> None:
    gw = start_gateway([acme()])
    headers, body = split_smime(_encrypt(tmp_path, us, _sign(tmp_path, them, ENTITY_CRLF, True)))
    response = gw.post(as2_headers(headers), body)
    assert response.status_code == 200
    _verify_mdn_with_openssl(tmp_path, us, dict(response.headers), response.content)
    tampered = response.content.replace(b"; processed", b"; processed/error: decryption-failed")
    assert tampered != response.content
    with pytest.raises(AssertionError, match="failed"):
        _verify_mdn_with_openssl(tmp_path, us, dict(response.headers), tampered)
