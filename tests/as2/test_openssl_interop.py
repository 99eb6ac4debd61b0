"""Interop with the ``openssl cms`` command line (OpenSSL 3): it builds, we receive; we build, it opens."""

from __future__ import annotations

import base64
import hashlib
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from parsers.as2 import As2Partner, Disposition, build_mdn, build_message, mics_equal, receive_message
from parsers.as2.message import format_mic

from .conftest import LAX, OPENSSL, Party, as2_headers, openssl, split_smime

PAYLOAD = (Path(__file__).parent.parent / "fixtures" / "as2" / "po_850.x12").read_bytes()
ENTITY_CRLF = (
    b'Content-Type: application/edi-x12\r\nContent-Disposition: attachment; filename="po_850.x12"\r\n\r\n'
    + PAYLOAD.replace(b"\n", b"\r\n")
)
ENTITY_LF = ENTITY_CRLF.replace(b"\r\n", b"\n")

Lookup = Callable[[str, str], As2Partner | None]
# openssl reads a CRLF multipart in -binary mode only with -crlfeol (else it keeps a stray CR).
VERIFY = ("cms", "-verify", "-binary", "-crlfeol")


def _sign(tmp: Path, signer: Party, entity: bytes, *extra: str) -> bytes:
    """openssl cms -sign (detached S/MIME) of ``entity``."""
    src = tmp / "entity.txt"
    src.write_bytes(entity)
    return openssl("cms", "-sign", "-in", src, "-signer", signer.cert_pem, "-inkey", signer.key_pem,
                   "-md", "sha256", *extra)


def _encrypt(tmp: Path, recipient: Party, content: bytes, cipher: str = "-aes256") -> bytes:
    """openssl cms -encrypt (S/MIME, base64) of ``content``, byte-exact (-binary)."""
    src = tmp / "plain.bin"
    src.write_bytes(content)
    return openssl("cms", "-encrypt", "-binary", "-in", src, cipher, recipient.cert_pem)


def test_openssl_binary_signature_is_accepted(tmp_path: Path, them: Party, partner_lookup: Lookup) -> None:
    headers, body = split_smime(_sign(tmp_path, them, ENTITY_CRLF, "-binary"))
    inbound = receive_message(as2_headers(headers), body, partner_lookup, LAX)
    assert inbound.payload == PAYLOAD.replace(b"\n", b"\r\n")
    assert inbound.signed and not inbound.encrypted
    assert inbound.filename == "po_850.x12"
    assert inbound.mic == format_mic(hashlib.sha256(ENTITY_CRLF).digest(), "sha256")


def test_openssl_text_mode_signature_is_accepted(tmp_path: Path, them: Party, partner_lookup: Lookup) -> None:
    # Without -binary openssl signs the CRLF-canonical form of an LF file.
    headers, body = split_smime(_sign(tmp_path, them, ENTITY_LF))
    inbound = receive_message(as2_headers(headers), body, partner_lookup, LAX)
    assert inbound.signed
    assert inbound.payload.replace(b"\r\n", b"\n") == PAYLOAD
    assert inbound.mic == format_mic(hashlib.sha256(ENTITY_CRLF).digest(), "sha256")


def test_text_signature_over_crlf_sent_with_bare_lf_is_accepted(
    tmp_path: Path, them: Party, partner_lookup: Lookup
) -> None:
    # A sender that signed the canonical CRLF form but put bare LFs on the wire.
    headers, body = split_smime(_sign(tmp_path, them, ENTITY_CRLF, "-binary"))
    inbound = receive_message(as2_headers(headers), body.replace(b"\r\n", b"\n"), partner_lookup, LAX)
    assert inbound.signed
    assert inbound.payload == PAYLOAD.replace(b"\n", b"\r\n")  # what the signature covers is delivered
    assert inbound.mic == format_mic(hashlib.sha256(ENTITY_CRLF).digest(), "sha256")


@pytest.mark.parametrize("cipher", ["-aes128", "-aes192", "-aes256", "-des3"])
def test_openssl_encryption_is_accepted(cipher: str, tmp_path: Path, us: Party, partner_lookup: Lookup) -> None:
    headers, body = split_smime(_encrypt(tmp_path, us, ENTITY_CRLF, cipher))
    assert headers["Content-Transfer-Encoding"] == "base64"
    inbound = receive_message(as2_headers(headers), body, partner_lookup, LAX)
    assert inbound.payload == PAYLOAD.replace(b"\n", b"\r\n")
    assert inbound.encrypted and not inbound.signed
    assert inbound.mic == format_mic(hashlib.sha256(ENTITY_CRLF).digest(), "sha256")


def test_openssl_encryption_as_binary_der_is_accepted(tmp_path: Path, us: Party, partner_lookup: Lookup) -> None:
    src = tmp_path / "plain.bin"
    src.write_bytes(ENTITY_CRLF)
    der = openssl("cms", "-encrypt", "-binary", "-in", src, "-outform", "DER", "-aes256", us.cert_pem)
    headers = as2_headers({"Content-Type": "application/pkcs7-mime; smime-type=enveloped-data"})
    assert receive_message(headers, der, partner_lookup, LAX).encrypted


def test_openssl_sign_then_encrypt_is_accepted_under_the_strict_policy(
    tmp_path: Path, us: Party, them: Party, partner_lookup: Lookup
) -> None:
    signed = _sign(tmp_path, them, ENTITY_CRLF, "-binary")
    headers, body = split_smime(_encrypt(tmp_path, us, signed))
    inbound = receive_message(as2_headers(headers), body, partner_lookup)  # default: both required
    assert inbound.signed and inbound.encrypted and inbound.signer == them.cert
    assert inbound.payload == PAYLOAD.replace(b"\n", b"\r\n")
    assert inbound.mic == format_mic(hashlib.sha256(ENTITY_CRLF).digest(), "sha256")


def test_openssl_signature_with_stranger_cert_is_refused(
    tmp_path: Path, us: Party, stranger: Party, partner_lookup: Lookup
) -> None:
    from parsers.as2 import As2Error

    headers, body = split_smime(_encrypt(tmp_path, us, _sign(tmp_path, stranger, ENTITY_CRLF, "-binary")))
    with pytest.raises(As2Error) as caught:
        receive_message(as2_headers(headers), body, partner_lookup)
    assert caught.value.disposition is Disposition.AUTHENTICATION_FAILED
    assert caught.value.message_id == "msg-1@them"


def _openssl_compress_supported(tmp: Path) -> bool:
    """True when this openssl build has zlib (cms -compress); Debian/Ubuntu builds usually do not."""
    src = tmp / "probe.txt"
    src.write_bytes(b"probe")
    proc = subprocess.run([OPENSSL, "cms", "-compress", "-in", src], capture_output=True, timeout=30)
    return proc.returncode == 0


def test_openssl_compressed_is_accepted(tmp_path: Path, partner_lookup: Lookup) -> None:
    if not _openssl_compress_supported(tmp_path):
        pytest.skip("this openssl build has no zlib: `cms -compress` unsupported (our own builder is tested)")
    src = tmp_path / "entity.txt"
    src.write_bytes(ENTITY_CRLF)
    headers, body = split_smime(openssl("cms", "-compress", "-binary", "-in", src))
    inbound = receive_message(as2_headers(headers), body, partner_lookup, LAX)
    assert inbound.compressed and inbound.payload == PAYLOAD.replace(b"\n", b"\r\n")


def test_our_compressed_data_is_rfc3274_for_openssl(us: Party, tmp_path: Path) -> None:
    out = build_message(PAYLOAD, as2_from="US", as2_to="THEM", message_id="z@us", compress=True)
    assert out.headers["Content-Type"].startswith("application/pkcs7-mime; smime-type=compressed-data")
    der = base64.b64decode(out.body)
    (tmp_path / "c.der").write_bytes(der)
    dump = openssl("asn1parse", "-inform", "DER", "-in", tmp_path / "c.der").decode()
    assert "id-smime-ct-compressedData" in dump
    assert "zlib compression" in dump or "1.2.840.113549.1.9.16.3.8" in dump
    if _openssl_compress_supported(tmp_path):
        plain = openssl("cms", "-uncompress", "-inform", "DER", "-in", tmp_path / "c.der", "-binary")
        assert plain.endswith(PAYLOAD)


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha384", "sha512"])
@pytest.mark.parametrize("cipher", ["aes128_cbc", "aes256_cbc", "tripledes_cbc"])
def test_our_message_decrypts_and_verifies_with_openssl(
    digest: str, cipher: str, tmp_path: Path, us: Party, them: Party
) -> None:
    from parsers.as2 import Signer

    out = build_message(PAYLOAD, as2_from="US", as2_to="THEM", message_id="o@us",
                        signer=Signer(us.cert, us.key, digest), encrypt_to=[them.cert],
                        encryption_algorithm=cipher, filename="po_850.x12")
    (tmp_path / "msg.der").write_bytes(out.body)
    decrypted = openssl("cms", "-decrypt", "-binary", "-inform", "DER", "-in", tmp_path / "msg.der",
                        "-recip", them.cert_pem, "-inkey", them.key_pem)
    assert b"multipart/signed" in decrypted.split(b"\r\n\r\n", 1)[0]
    (tmp_path / "signed.eml").write_bytes(decrypted)
    content = openssl(*VERIFY, "-in", tmp_path / "signed.eml", "-CAfile", us.cert_pem,
                      "-purpose", "any")
    assert content.endswith(PAYLOAD)
    assert content.startswith(b"Content-Type: application/edi-x12")
    # The MIC we expect back is the digest of exactly what openssl verified.
    assert mics_equal(out.mic, format_mic(hashlib.new(digest, content).digest(), digest))


def test_our_signature_is_rejected_by_openssl_when_tampered(tmp_path: Path, us: Party) -> None:
    out = build_message(PAYLOAD, as2_from="US", as2_to="THEM", message_id="t@us", signer=us.signer)
    smime = "".join(f"{k}: {v}\r\n" for k, v in out.headers.items()).encode() + b"\r\n" + out.body
    (tmp_path / "ok.eml").write_bytes(smime)
    openssl(*VERIFY, "-in", tmp_path / "ok.eml", "-CAfile", us.cert_pem, "-purpose", "any")
    (tmp_path / "bad.eml").write_bytes(smime.replace(b"PO-1001", b"PO-1002"))
    with pytest.raises(AssertionError, match="failed"):
        openssl(*VERIFY, "-in", tmp_path / "bad.eml", "-CAfile", us.cert_pem, "-purpose", "any")


def test_our_signed_mdn_verifies_with_openssl(tmp_path: Path, us: Party) -> None:
    mdn = build_mdn(mdn_message_id="mdn-1@us", original_message_id="<msg-1@them>", our_as2_id="US",
                    their_as2_id="THEM", received_mic="q83vEjRWeJA=, sha256", signer=us.signer)
    smime = "".join(f"{k}: {v}\r\n" for k, v in mdn.headers.items()).encode() + b"\r\n" + mdn.body
    (tmp_path / "mdn.eml").write_bytes(smime)
    report = openssl(*VERIFY, "-in", tmp_path / "mdn.eml", "-CAfile", us.cert_pem,
                     "-purpose", "any")
    assert b"multipart/report; report-type=disposition-notification" in report
    assert b"Original-Message-ID: <msg-1@them>" in report
    assert b"Received-Content-MIC: q83vEjRWeJA=, sha256" in report
    assert b"Disposition: automatic-action/MDN-sent-automatically; processed\r\n" in report
