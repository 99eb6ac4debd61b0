"""MDNs: we build them, we read them (ours and openssl-signed ones), and tampering is caught."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from parsers.as2 import (
    As2Error,
    As2Partner,
    Disposition,
    build_mdn,
    build_message,
    parse_mdn,
    receive_message,
)

from .conftest import Party, openssl, split_smime

PAYLOAD = (Path(__file__).parent.parent / "fixtures" / "as2" / "po_850.x12").read_bytes()
Lookup = Callable[[str, str], As2Partner | None]


def test_full_exchange_message_then_signed_mdn(us: Party, them: Party, partner_lookup: Lookup) -> None:
    # THEM sends to US; US answers with a signed MDN; THEM checks it against the MIC it computed.
    out = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="x-1@them", signer=them.signer,
                        encrypt_to=[us.cert], compress=True, mdn_to="edi@them")
    inbound = receive_message(out.headers, out.body, partner_lookup)
    mdn = build_mdn(mdn_message_id="mdn-1@us", original_message_id=inbound.message_id, our_as2_id="US",
                    their_as2_id="THEM", received_mic=inbound.mic, signer=us.signer)
    assert mdn.headers["AS2-From"] == "US" and mdn.headers["AS2-To"] == "THEM"
    assert mdn.headers["Content-Type"].startswith("multipart/signed")
    receipt = parse_mdn(mdn.headers, mdn.body, their_certs=[us.cert], expected_message_id="<x-1@them>",
                        expected_mic=out.mic)
    assert receipt.is_success and receipt.signed and receipt.mic_matches
    assert receipt.status == "processed" and receipt.modifier is None
    assert receipt.original_message_id == "x-1@them"
    assert (receipt.as2_from, receipt.as2_to) == ("US", "THEM")
    assert "received and processed" in receipt.text


def test_error_mdn_carries_the_disposition(us: Party) -> None:
    mdn = build_mdn(mdn_message_id="m2@us", original_message_id="o2@them", our_as2_id="US", their_as2_id="THEM",
                    error=Disposition.DECRYPTION_FAILED, error_text="not encrypted\r\nfor us", signer=us.signer)
    receipt = parse_mdn(mdn.headers, mdn.body, their_certs=[us.cert], expected_message_id="o2@them")
    assert receipt.status == "processed/error" and receipt.modifier == "decryption-failed"
    assert receipt.disposition == "automatic-action/MDN-sent-automatically; processed/error: decryption-failed"
    assert not receipt.is_success and receipt.received_mic is None
    assert "not encrypted for us" in receipt.text


def test_mic_mismatch_is_reported(us: Party) -> None:
    mdn = build_mdn(mdn_message_id="m3@us", original_message_id="o3@them", our_as2_id="US", their_as2_id="THEM",
                    received_mic="AAAA, sha256", signer=us.signer)
    receipt = parse_mdn(mdn.headers, mdn.body, their_certs=[us.cert], expected_mic="BBBB, sha-256")
    assert receipt.mic_matches is False and not receipt.is_success
    same = parse_mdn(mdn.headers, mdn.body, their_certs=[us.cert], expected_mic="AAAA, sha-256")
    assert same.mic_matches is True  # "sha-256" and "sha256" name the same algorithm


def test_unsigned_mdn(us: Party) -> None:
    mdn = build_mdn(mdn_message_id="m4@us", original_message_id="o4@them", our_as2_id="US", their_as2_id="THEM")
    assert mdn.headers["Content-Type"].startswith("multipart/report; report-type=disposition-notification")
    receipt = parse_mdn(mdn.headers, mdn.body, their_certs=[], require_signature=False)
    assert receipt.status == "processed" and not receipt.signed
    with pytest.raises(As2Error) as caught:
        parse_mdn(mdn.headers, mdn.body, their_certs=[us.cert])
    assert caught.value.disposition is Disposition.INSUFFICIENT_MESSAGE_SECURITY


def test_tampered_mdn_is_refused(us: Party) -> None:
    mdn = build_mdn(mdn_message_id="m5@us", original_message_id="o5@them", our_as2_id="US", their_as2_id="THEM",
                    error=Disposition.AUTHENTICATION_FAILED, signer=us.signer)
    forged = mdn.body.replace(b"; processed/error: authentication-failed", b"; processed")
    assert forged != mdn.body
    with pytest.raises(As2Error) as caught:
        parse_mdn(mdn.headers, forged, their_certs=[us.cert])
    assert caught.value.disposition is Disposition.INTEGRITY_CHECK_FAILED


def test_mdn_signed_by_someone_else_is_refused(us: Party, stranger: Party) -> None:
    mdn = build_mdn(mdn_message_id="m6@us", original_message_id="o6@them", our_as2_id="US", their_as2_id="THEM",
                    signer=stranger.signer)
    with pytest.raises(As2Error) as caught:
        parse_mdn(mdn.headers, mdn.body, their_certs=[us.cert])
    assert caught.value.disposition is Disposition.AUTHENTICATION_FAILED


def test_mdn_for_another_message_is_refused(us: Party) -> None:
    mdn = build_mdn(mdn_message_id="m7@us", original_message_id="o7@them", our_as2_id="US", their_as2_id="THEM",
                    signer=us.signer)
    with pytest.raises(As2Error, match="expected <other@them>"):
        parse_mdn(mdn.headers, mdn.body, their_certs=[us.cert], expected_message_id="other@them")


def test_mdn_that_is_not_a_report_is_refused() -> None:
    with pytest.raises(As2Error, match="not multipart/report"):
        parse_mdn({"Content-Type": "text/html"}, b"<html>Server error</html>", their_certs=[],
                  require_signature=False)


def test_openssl_signed_mdn_is_read(tmp_path: Path, them: Party) -> None:
    # A partner MDN signed by openssl in text mode, LF line ends on the wire.
    report = (
        b'Content-Type: multipart/report; report-type=disposition-notification; boundary="rpt"\n\n'
        b"--rpt\nContent-Type: text/plain\n\nYour message was received.\n"
        b"--rpt\nContent-Type: message/disposition-notification\n\n"
        b"Reporting-UA: Partner AS2 server\nOriginal-Recipient: rfc822; THEM\nFinal-Recipient: rfc822; THEM\n"
        b"Original-Message-ID: <o8@us>\nReceived-Content-MIC: 3q2+7w==, sha-256\n"
        b"Disposition: automatic-action/MDN-sent-automatically;\n processed\n"
        b"--rpt--\n"
    )
    (tmp_path / "report.txt").write_bytes(report)
    signed = openssl("cms", "-sign", "-in", tmp_path / "report.txt", "-signer", them.cert_pem,
                     "-inkey", them.key_pem, "-md", "sha256")
    headers, body = split_smime(signed)
    receipt = parse_mdn({**headers, "AS2-From": "THEM", "AS2-To": "US"}, body, their_certs=[them.cert],
                        expected_message_id="o8@us", expected_mic="3q2+7w==, sha256")
    assert receipt.is_success and receipt.signed and receipt.reporting_ua == "Partner AS2 server"
    assert receipt.disposition == "automatic-action/MDN-sent-automatically; processed"
