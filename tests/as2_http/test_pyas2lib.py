"""Interop with pyas2lib (test-only, GPL) as the trading partner, over real HTTP both ways.

pyas2lib needs oscrypto, whose PyPI release cannot parse OpenSSL 3.x.y version strings; the
``import_pyas2lib`` fixture patches that at import time (see conftest).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from gateway.as2_service import MDN_KIND, MDN_WAIT_KIND
from outbound.senders.as2 import As2Sender, load_send_keys
from outbound.senders.base import OutboundMessage

from .conftest import PAYLOAD, Gateway, Party, PeerServer, Received, as2_transport, import_pyas2lib


@pytest.fixture
def as2lib() -> Any:
    """The pyas2lib module (skips when it is not installed)."""
    return import_pyas2lib()


def _them_org(as2lib: Any, them: Party, mdn_url: str | None = None) -> Any:
    return as2lib.Organization(as2_name="THEM", sign_key=them.pem_bundle(), decrypt_key=them.pem_bundle(),
                               mdn_url=mdn_url, domain="them.example")


def _us_partner(as2lib: Any, us: Party, mdn_mode: str = "SYNC") -> Any:
    cert = us.cert_pem.read_bytes()
    return as2lib.Partner(as2_name="US", verify_cert=cert, encrypt_cert=cert, validate_certs=False, sign=True,
                          encrypt=True, enc_alg="aes_256_cbc", digest_alg="sha256", mdn_mode=mdn_mode,
                          mdn_digest_alg="sha256")


def _raw(headers: dict[str, str], body: bytes) -> bytes:
    """HTTP headers + body the way pyas2lib's parse() takes them."""
    return "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n" + body


def test_pyas2lib_sends_to_us_with_a_sync_mdn(
    as2lib: Any, us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme()])
    message = as2lib.Message(_them_org(as2lib, them), _us_partner(as2lib, us))
    message.build(PAYLOAD, filename="po_850.x12", content_type="application/edi-x12")
    response = httpx.post(gw.url, headers=message.headers, content=message.content, timeout=30)
    assert response.status_code == 200

    status, detail = as2lib.Mdn().parse(_raw(dict(response.headers), response.content), lambda mid, rcpt: message)
    assert (status, detail) == ("processed", None)
    (landed,) = gw.files()
    assert gw.store.archive.read(landed.sha256).replace(b"\r\n", b"\n") == PAYLOAD
    assert landed.filename == "po_850.x12" and landed.metadata["message_id"] == message.message_id


def test_pyas2lib_sends_to_us_with_an_async_mdn(
    as2lib: Any, us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any],
    peer: Callable[..., PeerServer],
) -> None:
    receipts = peer()
    gw = start_gateway([acme()])
    message = as2lib.Message(_them_org(as2lib, them, mdn_url=receipts.url), _us_partner(as2lib, us, "ASYNC"))
    message.build(PAYLOAD, filename="po_850.x12", content_type="application/edi-x12")
    response = httpx.post(gw.url, headers=message.headers, content=message.content, timeout=30)
    assert response.status_code == 200 and b"multipart" not in response.content
    assert len(gw.files()) == 1
    assert gw.service.run_mdn_once() == 1
    (row,) = gw.store.find_outbox(kind=MDN_KIND)
    assert row.state == "sent"
    (posted,) = receipts.requests
    status, detail = as2lib.Mdn().parse(_raw(posted.headers, posted.body), lambda mid, rcpt: message)
    assert (status, detail) == ("processed", None)


def _pyas2lib_peer(as2lib: Any, us: Party, them: Party, got: list[Any]) -> Callable[[Received], Any]:
    """A partner server: pyas2lib opens our message and answers with its MDN."""
    org = _them_org(as2lib, them)
    cert = us.cert_pem.read_bytes()
    partner = as2lib.Partner(as2_name="US", verify_cert=cert, encrypt_cert=cert, validate_certs=False,
                             sign=True, encrypt=True, digest_alg="sha256", mdn_digest_alg="sha256")

    def respond(req: Received) -> tuple[int, dict[str, str], bytes]:
        message = as2lib.Message()
        status, exception, mdn = message.parse(_raw(req.headers, req.body), find_org_cb=lambda name: org,
                                               find_partner_cb=lambda name: partner)
        got.append((status, exception, message))
        if mdn is None:
            return 200, {"Content-Type": "text/plain"}, b""
        return 200, dict(mdn.headers), mdn.content

    return respond


def test_we_send_to_pyas2lib_with_a_sync_mdn(
    as2lib: Any, us: Party, them: Party, peer: Callable[..., PeerServer]
) -> None:
    got: list[Any] = []
    server = peer(_pyas2lib_peer(as2lib, us, them, got))
    transport = as2_transport(us, them, url=server.url)
    with As2Sender(transport, load_send_keys(transport), partner_id="acme") as sender:
        result = sender.send(OutboundMessage("acme", "invoice_810.x12", PAYLOAD, "out-1"))
        assert sender.last_mdn is not None and sender.last_mdn.signed and sender.last_mdn.mic_matches
    assert not result.already_sent
    ((status, exception, message),) = got
    assert status == "processed", exception
    assert message.content == PAYLOAD
    assert message.signed and message.encrypted


def test_we_send_to_pyas2lib_with_an_async_mdn_settled_on_our_endpoint(
    as2lib: Any, us: Party, them: Party, peer: Callable[..., PeerServer],
    start_gateway: Callable[..., Gateway], acme: Callable[..., Any],
) -> None:
    gw = start_gateway([acme()])
    got: list[Any] = []
    answer = _pyas2lib_peer(as2lib, us, them, got)
    mdns: list[Any] = []

    def respond(req: Received) -> tuple[int, dict[str, str], bytes]:
        _status, headers, body = answer(req)
        mdns.append((headers, body))  # pyas2lib built an async MDN: deliver it after answering
        return 200, {"Content-Type": "text/plain"}, b""

    server = peer(respond)
    transport = as2_transport(us, them, url=server.url, mdn_mode="async", async_mdn_url=gw.url)
    with As2Sender(transport, load_send_keys(transport), partner_id="acme", mdn_tracker=gw.service) as sender:
        sender.send(OutboundMessage("acme", "invoice_810.x12", PAYLOAD, "out-async"))
    (wait,) = gw.store.find_outbox(kind=MDN_WAIT_KIND)
    assert wait.state == "failed"
    ((headers, body),) = mdns
    assert httpx.post(gw.url, headers=headers, content=body, timeout=30).status_code == 200
    settled = gw.store.get_outbox(wait.id)
    assert settled is not None and settled.state == "sent", gw.store.history(wait.id)
