"""Refusals over real HTTP: each gets the right disposition (or 413), lands nothing, and raises an alert;
a replayed Message-ID gets the identical MDN and lands once."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from parsers.as2 import ReceivedMdn, build_message, parse_mdn

from .conftest import PAYLOAD, Gateway, Party


def _message(us: Party, signer: Any, **kwargs: Any) -> Any:
    """A message from THEM to US built with our codec (the partner's side)."""
    payload = kwargs.pop("payload", PAYLOAD)
    values: dict[str, Any] = dict(as2_from="THEM", as2_to="US", message_id="neg-1@them", filename="po.x12",
                                  signer=signer, encrypt_to=[us.cert], mdn_to="edi@them")
    return build_message(payload, **{**values, **kwargs})


def _mdn(response: httpx.Response, us: Party, **kwargs: Any) -> ReceivedMdn:
    assert response.status_code == 200, response.text
    return parse_mdn(dict(response.headers), response.content, their_certs=[us.cert], **kwargs)


def _refused(gw: Gateway, response: httpx.Response, us: Party, modifier: str, *, signed: bool = True) -> None:
    mdn = _mdn(response, us, expected_message_id="neg-1@them", require_signature=signed)
    assert mdn.status == "processed/error" and mdn.modifier == modifier
    assert mdn.signed is signed
    assert gw.files() == []
    assert "as2.rejected" in gw.alert_kinds()


def test_unsigned_message_is_refused_when_a_signature_is_required(
    us: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme()])
    msg = _message(us, None)
    _refused(gw, gw.post(msg.headers, msg.body), us, "insufficient-message-security")


def test_unencrypted_message_is_refused_when_encryption_is_required(
    us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme()])
    msg = _message(us, them.signer, encrypt_to=())
    _refused(gw, gw.post(msg.headers, msg.body), us, "insufficient-message-security")


def test_signature_by_the_wrong_certificate_is_refused(
    us: Party, stranger: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme()])
    msg = _message(us, stranger.signer)
    _refused(gw, gw.post(msg.headers, msg.body), us, "authentication-failed")


def test_message_encrypted_to_someone_else_is_refused(
    us: Party, them: Party, stranger: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme()])
    msg = _message(us, them.signer, encrypt_to=[stranger.cert])
    _refused(gw, gw.post(msg.headers, msg.body), us, "decryption-failed")


def test_tampered_payload_is_refused(
    us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme(require_encryption=False)])
    msg = _message(us, them.signer, encrypt_to=())
    tampered = msg.body.replace(b"PO-2001", b"PO-9001")
    assert tampered != msg.body
    _refused(gw, gw.post(msg.headers, tampered), us, "integrity-check-failed")


def test_wrong_as2_to_is_an_unknown_trading_partner(
    us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme()])
    msg = _message(us, them.signer, as2_to="SOMEONE-ELSE")
    mdn = _mdn(gw.post(msg.headers, msg.body), us, require_signature=False)
    assert mdn.modifier == "unknown-trading-partner" and not mdn.signed  # we do not know whose key to use
    assert gw.files() == [] and "as2.rejected" in gw.alert_kinds()


def test_unknown_as2_from_is_an_unknown_trading_partner(
    us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme()])
    msg = _message(us, them.signer, as2_from="MALLORY")
    mdn = _mdn(gw.post(msg.headers, msg.body), us, require_signature=False)
    assert mdn.modifier == "unknown-trading-partner"
    assert gw.files() == [] and "as2.rejected" in gw.alert_kinds()


def test_decompression_bomb_is_refused(
    us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme(max_decompressed_bytes=100_000)])
    msg = _message(us, them.signer, payload=b"0" * 5_000_000, compress=True)
    assert len(msg.body) < 100_000  # small on the wire ...
    _refused(gw, gw.post(msg.headers, msg.body), us, "decompression-failed")  # ... huge when opened


def test_garbage_body_is_refused_without_a_traceback(
    us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme()])
    msg = _message(us, them.signer)
    response = gw.post(msg.headers, b"\x00\x01 this is not CMS at all")
    mdn = _mdn(response, us, expected_message_id="neg-1@them")
    assert mdn.status == "processed/error" and mdn.modifier == "decryption-failed"
    assert b"Traceback" not in response.content and gw.files() == []


def test_missing_headers_without_mdn_request_get_a_plain_400(
    start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme()])
    response = gw.post({"Content-Type": "application/edi-x12"}, b"ISA*...")
    assert response.status_code == 400
    assert "no AS2-From header" in response.text
    assert gw.files() == [] and gw.alert_kinds() == ["as2.rejected"]


def test_oversized_body_is_refused_with_413(
    us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme(max_body_bytes=20_000)])
    msg = _message(us, them.signer, payload=PAYLOAD * 100)
    assert len(msg.body) > 20_000
    response = gw.post(msg.headers, msg.body)
    assert response.status_code == 413
    assert gw.files() == [] and gw.alert_kinds() == ["as2.too_large"]


def test_oversized_chunked_body_is_refused_while_streaming(
    us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme(max_body_bytes=20_000)])
    msg = _message(us, them.signer, payload=PAYLOAD * 100)

    def chunks() -> Any:  # no Content-Length: the limit must hold while reading
        for i in range(0, len(msg.body), 4096):
            yield msg.body[i:i + 4096]

    response = httpx.post(gw.url, headers=msg.headers, content=chunks(), timeout=30)
    assert response.status_code == 413
    assert gw.files() == [] and "as2.too_large" in gw.alert_kinds()


def test_replayed_message_id_gets_the_identical_mdn_and_lands_once(
    us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme()])
    msg = _message(us, them.signer)
    first = gw.post(msg.headers, msg.body)
    second = gw.post(msg.headers, msg.body)
    assert _mdn(first, us, expected_mic=msg.mic).is_success
    assert second.status_code == 200
    assert second.content == first.content
    assert second.headers["message-id"] == first.headers["message-id"]
    assert len(gw.files()) == 1
    # A re-built message (new signature, same Message-ID) is the same document too.
    again = _message(us, them.signer)
    assert gw.post(again.headers, again.body).content == first.content
    assert len(gw.files()) == 1


def test_same_message_id_from_another_partner_is_not_a_duplicate(
    us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    from partners.profile import PartnerProfile

    from .conftest import as2_transport

    other = PartnerProfile(id="other", inbound=[as2_transport(us, them, as2_id="OTHER")])
    gw = start_gateway([acme(), other])
    a = _message(us, them.signer)
    b = _message(us, them.signer, as2_from="OTHER")
    assert _mdn(gw.post(a.headers, a.body), us).is_success
    assert _mdn(gw.post(b.headers, b.body), us).is_success
    assert sorted(f.partner_hint for f in gw.files()) == ["acme", "other"]


def test_unreadable_key_file_is_our_fault_and_alerted(
    us: Party, them: Party, tmp_path: Any, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    broken = tmp_path / "broken.pem"
    broken.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    gw = start_gateway([acme(our_key=broken)])
    msg = _message(us, them.signer)
    mdn = _mdn(gw.post(msg.headers, msg.body), us, require_signature=False)
    assert mdn.modifier == "unexpected-processing-error"
    assert gw.files() == [] and gw.alert_kinds() == ["as2.config"]


@pytest.mark.parametrize("path", ["/as2", "/as2/acme/inbox"])
def test_any_path_under_as2_is_the_endpoint(
    path: str, us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme()])
    msg = _message(us, them.signer)
    assert _mdn(gw.post(msg.headers, msg.body, path=path), us).is_success
    assert httpx.get(gw.base_url + "/healthz").status_code == 200


def test_client_that_disconnects_mid_body_lands_nothing(
    us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme()])
    msg = _message(us, them.signer)
    head = "".join(f"{k}: {v}\r\n" for k, v in msg.headers.items())
    request = (f"POST /as2 HTTP/1.1\r\nHost: x\r\nContent-Length: {len(msg.body)}\r\n{head}\r\n").encode()
    port = int(gw.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request + msg.body[: len(msg.body) // 2])
    # The connection is gone; the next (complete) request is served normally and nothing half-read landed.
    assert _mdn(gw.post(msg.headers, msg.body), us).is_success
    assert len(gw.files()) == 1
