"""Sending with As2Sender over real HTTP: sync MDNs, async MDNs settled on our endpoint, error classes;
and the async MDNs we owe, sent by the MDN worker with retries."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from gateway.as2_service import AWAITING, MDN_KIND, MDN_WAIT_KIND
from outbound.senders.as2 import As2Sender, load_send_keys, message_id_for
from outbound.senders.base import OutboundMessage, SendError
from parsers.as2 import build_mdn, build_message, parse_mdn

from .conftest import PAYLOAD, Gateway, Party, PeerServer, Received, as2_transport, free_port


def _sender_to(url: str, us: Party, them: Party, tracker: Any = None, **overrides: Any) -> As2Sender:
    """A sender acting as THEM towards US (our gateway), or as US towards a peer playing THEM."""
    transport = as2_transport(us, them, url=url, **overrides)
    return As2Sender(transport, load_send_keys(transport), partner_id="acme", mdn_tracker=tracker)


def _partner_side(them: Party, us: Party, url: str, **overrides: Any) -> As2Sender:
    """THEM sending to our gateway: the mirror image of our profile."""
    transport = as2_transport(them, us, as2_id="US", our_as2_id="THEM", url=url, **overrides)
    return As2Sender(transport, load_send_keys(transport), partner_id="them")


def _msg(key: str = "doc-1") -> OutboundMessage:
    return OutboundMessage("acme", "po_850.x12", PAYLOAD, key)


def test_sync_send_to_our_gateway_lands_once_even_when_resent(
    us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme()])
    with _partner_side(them, us, gw.url) as sender:
        first = sender.send(_msg())
        again = sender.send(_msg())  # a resend after a crash: same Message-ID, same MDN
    assert first.size == len(PAYLOAD) and not first.already_sent
    assert again.destination == first.destination
    files = gw.files()
    assert len(files) == 1 and gw.store.archive.read(files[0].sha256) == PAYLOAD
    assert files[0].metadata["message_id"] == message_id_for("doc-1", "THEM")


def test_async_send_is_settled_when_the_partner_posts_its_mdn(
    us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    from partners.profile import PartnerProfile

    partner_gw = start_gateway([PartnerProfile(id="us", inbound=[as2_transport(them, us, as2_id="US",
                                                                               our_as2_id="THEM")])], name="them")
    gw = start_gateway([acme()], name="us")
    with _sender_to(partner_gw.url, us, them, gw.service, mdn_mode="async", async_mdn_url=gw.url) as sender:
        result = sender.send(_msg("doc-async"))
    assert result.size == len(PAYLOAD)
    (wait,) = gw.store.find_outbox(kind=MDN_WAIT_KIND)
    assert wait.state == "failed" and wait.last_error == AWAITING
    assert len(partner_gw.files()) == 1
    (queued,) = partner_gw.store.find_outbox(kind=MDN_KIND)
    assert queued.destination == gw.url

    assert partner_gw.service.run_mdn_once() == 1  # the partner's worker POSTs the MDN to us
    assert partner_gw.store.get_outbox(queued.id).state == "sent"  # type: ignore[union-attr]
    settled = gw.store.get_outbox(wait.id)
    assert settled is not None and settled.state == "sent"
    detail = gw.store.history(wait.id)[-1]["detail"]
    assert detail["mdn"].endswith("; processed") and detail["signed"] is True
    assert gw.alert_kinds() == []


def test_async_send_refused_at_once_is_settled_dead(
    us: Party, them: Party, stranger: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    from partners.profile import PartnerProfile

    partner_gw = start_gateway([PartnerProfile(id="us", inbound=[as2_transport(them, stranger, as2_id="US",
                                                                               our_as2_id="THEM")])], name="them")
    gw = start_gateway([acme()], name="us")
    sender = _sender_to(partner_gw.url, us, them, gw.service, mdn_mode="async", async_mdn_url=gw.url)
    with sender, pytest.raises(SendError) as caught:
        sender.send(_msg("doc-refused"))
    assert not caught.value.retryable and caught.value.kind == "send.as2_negative_mdn"
    assert "authentication-failed" in str(caught.value)
    (wait,) = gw.store.find_outbox(kind=MDN_WAIT_KIND)
    assert wait.state == "dead"
    assert partner_gw.files() == []


def test_tampered_async_mdn_is_refused_and_the_message_stays_unconfirmed(
    us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme()])
    gw.service.expect("acme", "sent-1@us", "AAAA, sha256", destination="x", idempotency_key="k", filename="f")
    mdn = build_mdn(mdn_message_id="m@them", original_message_id="sent-1@us", our_as2_id="THEM",
                    their_as2_id="US", received_mic="AAAA, sha256", signer=them.signer)
    ok = gw.post(mdn.headers, mdn.body.replace(b"; processed", b"; processed/error: decryption-failed"))
    assert ok.status_code == 400 and "as2.mdn_rejected" in gw.alert_kinds()
    (wait,) = gw.store.find_outbox(kind=MDN_WAIT_KIND)
    assert wait.state == "failed" and wait.last_error == AWAITING
    assert gw.post(mdn.headers, mdn.body).status_code == 200  # the genuine one settles it
    assert gw.store.get_outbox(wait.id).state == "sent"  # type: ignore[union-attr]


def test_async_mdn_with_a_different_mic_marks_the_message_dead(
    us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme()])
    gw.service.expect("acme", "sent-2@us", "AAAA, sha256", destination="x", idempotency_key="k2", filename="f")
    mdn = build_mdn(mdn_message_id="m2@them", original_message_id="sent-2@us", our_as2_id="THEM",
                    their_as2_id="US", received_mic="BBBB, sha256", signer=them.signer)
    assert gw.post(mdn.headers, mdn.body).status_code == 200
    (wait,) = gw.store.find_outbox(kind=MDN_WAIT_KIND)
    assert wait.state == "dead" and "MIC" in (wait.last_error or "")
    assert "as2.mdn_negative" in gw.alert_kinds()


def test_missing_async_mdn_becomes_dead_and_alerted_after_the_deadline(
    start_gateway: Callable[..., Gateway], acme: Callable[..., Any]
) -> None:
    gw = start_gateway([acme()], mdn_wait_seconds=0.05)
    gw.service.expect("acme", "sent-3@us", "AAAA, sha256", destination="x", idempotency_key="k3", filename="f")
    time.sleep(0.1)
    assert gw.service.run_mdn_once() == 1
    (wait,) = gw.store.find_outbox(kind=MDN_WAIT_KIND)
    assert wait.state == "dead" and "as2.mdn_overdue" in gw.alert_kinds()


Answer = Callable[[Received], tuple[int, dict[str, str], bytes]]


def _mdn_peer(them: Party, mic: str | None, tamper: bool = False) -> Answer:
    """A peer that answers every message with a signed 'processed' MDN carrying ``mic``."""

    def respond(req: Received) -> tuple[int, dict[str, str], bytes]:
        lower = {k.lower(): v for k, v in req.headers.items()}
        mdn = build_mdn(mdn_message_id="peer@them", original_message_id=lower["message-id"], our_as2_id="THEM",
                        their_as2_id="US", received_mic=mic or "", signer=them.signer)
        body = mdn.body.replace(b"processed", b"processed/error: x") if tamper else mdn.body
        return 200, mdn.headers, body

    return respond


@pytest.mark.parametrize(
    ("answer", "retryable", "kind"),
    [
        ("503", True, "send.http_status"),
        ("429", True, "send.http_status"),
        ("400", False, "send.http_status"),
        ("empty", True, "send.as2_no_mdn"),
        ("wrong-mic", False, "send.as2_mic_mismatch"),
        ("tampered-mdn", False, "send.as2_bad_mdn"),
        ("refused", True, "send.connection"),
    ],
)
def test_send_errors_are_classified(
    answer: str, retryable: bool, kind: str, us: Party, them: Party, peer: Callable[..., PeerServer]
) -> None:
    if answer == "refused":
        url = f"http://127.0.0.1:{free_port()}/as2"
    elif answer in ("503", "429", "400", "empty"):
        status = 200 if answer == "empty" else int(answer)
        url = peer(lambda r: (status, {"Content-Type": "text/plain"}, b"" if answer == "empty" else b"busy")).url
    else:
        url = peer(_mdn_peer(them, "AAAA, sha256", tamper=answer == "tampered-mdn")).url
    with _sender_to(url, us, them) as sender, pytest.raises(SendError) as caught:
        sender.send(_msg())
    assert caught.value.retryable is retryable and caught.value.kind == kind, str(caught.value)


def test_async_mdns_we_owe_are_retried_until_delivered_and_duplicates_resend_the_same_bytes(
    us: Party, them: Party, start_gateway: Callable[..., Gateway], acme: Callable[..., Any],
    peer: Callable[..., PeerServer],
) -> None:
    answers = iter([500, 200, 200])
    receipt = peer(lambda r: (next(answers), {"Content-Type": "text/plain"}, b"ok"))
    gw = start_gateway([acme()])
    msg = build_message(PAYLOAD, as2_from="THEM", as2_to="US", message_id="async-1@them", signer=them.signer,
                        encrypt_to=[us.cert], mdn_to="edi@them", async_mdn_url=receipt.url)
    response = gw.post(msg.headers, msg.body)
    assert response.status_code == 200 and b"multipart" not in response.content
    assert len(gw.files()) == 1

    assert gw.service.run_mdn_once() == 1  # receipt URL answers 500: retried later
    (row,) = gw.store.find_outbox(kind=MDN_KIND)
    assert row.state == "failed" and "500" in (row.last_error or "")
    time.sleep(0.05)
    assert gw.service.run_mdn_once() == 1
    assert gw.store.get_outbox(row.id).state == "sent"  # type: ignore[union-attr]

    assert gw.post(msg.headers, msg.body).status_code == 200  # the partner resends: a duplicate
    assert len(gw.files()) == 1
    assert gw.service.run_mdn_once() == 1
    mdns = receipt.requests  # the failed attempt, the delivery, the resend for the duplicate
    assert len(mdns) == 3
    assert mdns[0].body == mdns[1].body == mdns[2].body
    assert mdns[0].headers["Message-ID"] == mdns[2].headers["Message-ID"]
    parsed = parse_mdn(mdns[-1].headers, mdns[-1].body, their_certs=[us.cert], expected_mic=msg.mic)
    assert parsed.is_success and parsed.original_message_id == "async-1@them"
