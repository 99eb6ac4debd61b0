"""Bad input is normal input: each broken or hostile message ends in the right RFC 4130 disposition."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.as2 import As2Error, As2Partner, Disposition, ReceivePolicy, build_message, cms, receive_message

from .conftest import LAX, Party, as2_headers

PAYLOAD = (Path(__file__).parent.parent / "fixtures" / "as2" / "po_850.x12").read_bytes()
Lookup = Callable[[str, str], As2Partner | None]


def _refused(headers: dict[str, str], body: bytes, lookup: Lookup, policy: ReceivePolicy = ReceivePolicy()
             ) -> As2Error:
    """The As2Error receive_message raises (the test fails if it accepts the message)."""
    with pytest.raises(As2Error) as caught:
        receive_message(headers, body, lookup, policy)
    return caught.value


def test_unsigned_where_signature_required(us: Party, partner_lookup: Lookup) -> None:
    out = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="u@x", encrypt_to=[us.cert],
                        mdn_to="edi@them")
    err = _refused(out.headers, out.body, partner_lookup)
    assert err.disposition is Disposition.INSUFFICIENT_MESSAGE_SECURITY
    assert "not signed" in err.message
    assert err.message_id == "u@x" and err.mdn_request is not None  # enough to answer with an error MDN


def test_unencrypted_where_encryption_required(them: Party, partner_lookup: Lookup) -> None:
    out = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="e@x", signer=them.signer)
    err = _refused(out.headers, out.body, partner_lookup)
    assert err.disposition is Disposition.INSUFFICIENT_MESSAGE_SECURITY and "not encrypted" in err.message


def test_signed_with_a_certificate_we_do_not_have(us: Party, stranger: Party, partner_lookup: Lookup) -> None:
    out = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="w@x", signer=stranger.signer,
                        encrypt_to=[us.cert])
    err = _refused(out.headers, out.body, partner_lookup)
    assert err.disposition is Disposition.AUTHENTICATION_FAILED
    assert "not one of the partner's" in err.message


def test_tampered_payload(them: Party, partner_lookup: Lookup) -> None:
    out = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="t@x", signer=them.signer)
    assert b"PO-1001" in out.body
    err = _refused(out.headers, out.body.replace(b"PO-1001", b"PO-9001"), partner_lookup, LAX)
    assert err.disposition is Disposition.INTEGRITY_CHECK_FAILED


def test_tampered_signature_value(them: Party, partner_lookup: Lookup) -> None:
    out = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="s@x", signer=them.signer)
    match = re.search(rb"filename=smime.p7s\r\n\r\n([A-Za-z0-9+/=\r\n]+)", out.body)
    assert match is not None
    signature = bytearray(base64.b64decode(b"".join(match.group(1).split())))
    signature[-5] ^= 0xFF  # inside the RSA signature value, the last field of the SignerInfo
    body = out.body[: match.start(1)] + base64.encodebytes(bytes(signature)) + out.body[match.end(1) :]
    err = _refused(out.headers, body, partner_lookup, LAX)
    assert err.disposition is Disposition.AUTHENTICATION_FAILED
    assert "does not verify" in err.message


def test_encrypted_for_someone_else(them: Party, stranger: Party, partner_lookup: Lookup) -> None:
    out = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="x@x", signer=them.signer,
                        encrypt_to=[stranger.cert])
    err = _refused(out.headers, out.body, partner_lookup)
    assert err.disposition is Disposition.DECRYPTION_FAILED and "not encrypted for our certificate" in err.message


def test_wrong_as2_to(us: Party, them: Party, partner_lookup: Lookup) -> None:
    out = build_message(PAYLOAD, as2_from="THEM", as2_to="SOMEONE-ELSE", message_id="<n@x>", signer=them.signer,
                        encrypt_to=[us.cert], mdn_to="edi@them")
    err = _refused(out.headers, out.body, partner_lookup)
    assert err.disposition is Disposition.UNKNOWN_TRADING_PARTNER
    assert "SOMEONE-ELSE" in err.message
    assert (err.as2_from, err.as2_to, err.message_id) == ("THEM", "SOMEONE-ELSE", "n@x")


@pytest.mark.parametrize("missing", ["AS2-From", "AS2-To", "Message-ID", "Content-Type"])
def test_missing_headers(missing: str, us: Party, them: Party, partner_lookup: Lookup) -> None:
    out = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="m@x", signer=them.signer)
    headers = {k: v for k, v in out.headers.items() if k != missing}
    err = _refused(headers, out.body, partner_lookup, LAX)
    assert err.disposition is Disposition.UNEXPECTED_PROCESSING_ERROR and missing in err.message


def test_decompression_bomb(partner_lookup: Lookup) -> None:
    bomb = b"\0" * (8 * 1024 * 1024)
    out = build_message(bomb, as2_from="THEM", as2_to="US", message_id="b@x", compress=True)
    assert len(out.body) < 64 * 1024
    policy = ReceivePolicy(require_signature=False, require_encryption=False, max_decompressed_bytes=1024 * 1024)
    err = _refused(out.headers, out.body, partner_lookup, policy)
    assert err.disposition is Disposition.DECOMPRESSION_FAILED and "exceeds the limit" in err.message
    # The same message within the limit is fine.
    assert receive_message(out.headers, out.body, partner_lookup, LAX).payload == bomb


def test_decompress_stops_at_the_limit_exactly() -> None:
    der = cms.compress(b"x" * 1000)
    assert cms.decompress(der, 1000) == b"x" * 1000
    with pytest.raises(As2Error, match="exceeds the limit of 999 bytes"):
        cms.decompress(der, 999)


def test_corrupt_compressed_data(partner_lookup: Lookup) -> None:
    out = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="c@x", compress=True)
    der = bytearray(base64.b64decode(out.body))
    der[-20] ^= 0x55  # inside the zlib stream
    err = _refused(out.headers, base64.encodebytes(bytes(der)), partner_lookup, LAX)
    assert err.disposition is Disposition.DECOMPRESSION_FAILED


def test_bad_base64_in_encrypted_body(partner_lookup: Lookup) -> None:
    headers = as2_headers({"Content-Type": 'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
                           "Content-Transfer-Encoding": "base64"})
    err = _refused(headers, b"MIIB!!!not*base64%%%\r\n", partner_lookup)
    assert err.disposition is Disposition.DECRYPTION_FAILED and "base64" in err.message


def test_garbage_der_as_encrypted_body(partner_lookup: Lookup) -> None:
    headers = as2_headers({"Content-Type": "application/pkcs7-mime; smime-type=enveloped-data"})
    err = _refused(headers, b"\x30\x82\xff\xff garbage that is not CMS", partner_lookup)
    assert err.disposition is Disposition.DECRYPTION_FAILED and "not valid CMS" in err.message


def test_garbage_signature_part(them: Party, partner_lookup: Lookup) -> None:
    out = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="g@x", signer=them.signer)
    body = re.sub(rb"(filename=smime.p7s\r\n\r\n)[A-Za-z0-9+/=\r\n]+", rb"\1AAAAAAAA\r\n", out.body)
    assert body != out.body
    err = _refused(out.headers, body, partner_lookup, LAX)
    assert err.disposition is Disposition.AUTHENTICATION_FAILED


def test_multipart_without_closing_boundary(them: Party, partner_lookup: Lookup) -> None:
    out = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="q@x", signer=them.signer)
    truncated = out.body[: len(out.body) // 2]
    err = _refused(out.headers, truncated, partner_lookup, LAX)
    assert err.disposition is Disposition.UNEXPECTED_PROCESSING_ERROR and "closing boundary" in err.message


def test_no_key_configured_is_our_fault(us: Party, them: Party) -> None:
    out = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="k@x", encrypt_to=[us.cert])
    err = _refused(out.headers, out.body, lambda f, t: As2Partner(their_certs=[them.cert]), LAX)
    assert err.disposition is Disposition.DECRYPTION_FAILED and err.remote is False


_CONTENT_TYPES = st.sampled_from([
    "application/pkcs7-mime; smime-type=enveloped-data",
    "application/pkcs7-mime; smime-type=compressed-data",
    "application/pkcs7-mime",
    'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="b"',
    "multipart/signed",
    "application/edi-x12",
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content_type=_CONTENT_TYPES, body=st.binary(max_size=400),
       encoding=st.sampled_from([None, "base64", "binary", "quoted-printable", "x-unknown"]))
def test_random_bodies_end_in_as2_error_or_a_message(
    content_type: str, body: bytes, encoding: str | None, partner_lookup: Lookup
) -> None:
    headers = {"Content-Type": content_type}
    if encoding:
        headers["Content-Transfer-Encoding"] = encoding
    if content_type.startswith("multipart/signed; protocol"):
        body = b"--b\r\nContent-Type: text/plain\r\n\r\n" + body + b"\r\n--b\r\n" + body + b"\r\n--b--\r\n"
    try:
        inbound = receive_message(as2_headers(headers), body, partner_lookup, LAX)
    except As2Error as err:
        assert isinstance(err.disposition, Disposition) and err.message
    else:
        assert content_type == "application/edi-x12"
        assert inbound.payload is not None
