"""Outbox: idempotent enqueue with archived payload, leases, retries, dead letters."""

from __future__ import annotations

import datetime as dt

from store_helpers import FakeClock, land_many

from gateway.store import Store


def test_enqueue_is_idempotent_and_archives_payload(store: Store) -> None:
    (file_id,) = land_many(store, 1)
    doc = store.add_document(file_id, 1, kind="purchase_order", partner_id="acme")
    first = store.enqueue("ack", "acme", "sftp:acme", "997:acme:000000101", b"ISA*997~", document_id=doc)
    again = store.enqueue("ack", "acme", "sftp:acme", "997:acme:000000101", b"ISA*997 DIFFERENT~", document_id=doc)
    assert first == again
    assert len(store.find_outbox()) == 1
    row = store.get_outbox(first)
    assert row is not None
    assert (row.state, row.kind, row.destination, row.attempts) == ("pending", "ack", "sftp:acme", 0)
    assert store.outbox_payload(row) == b"ISA*997~"
    # the message shows up in the file's trace
    assert [e["state_to"] for e in store.history(file_id) if e["outbox_id"] == first] == ["pending"]


def test_claim_send_and_fencing(store: Store) -> None:
    msg = store.enqueue("sink", "acme", "json:/out", "sink:1", None)
    other = store.enqueue("document", "acme", "as2:acme", "856:1", b"ISA*856~")
    assert [r.id for r in store.claim_outbox("w1", 10, 60, kinds=["sink"])] == [msg]
    assert store.claim_outbox("w2", 10, 60, kinds=["sink"]) == []
    assert not store.mark_sent(msg, worker="w2")
    assert store.mark_sent(msg, worker="w1")
    assert not store.mark_sent(msg)  # already final
    sent = store.get_outbox(msg)
    assert sent is not None and sent.state == "sent" and sent.sent_at is not None and sent.claimed_by is None
    assert [r.id for r in store.claim_outbox("w2", 10, 60)] == [other]


def test_failed_message_is_retried_when_due_then_dead(store: Store, clock: FakeClock) -> None:
    msg = store.enqueue("document", "acme", "as2:acme", "856:2", b"ISA*856~")
    store.claim_outbox("w1", 1, 60)
    assert store.mark_failed(msg, "HTTP 503", clock() + dt.timedelta(minutes=10))
    assert store.claim_outbox("w1", 1, 60) == []
    clock.advance(10 * 60)
    (row,) = store.claim_outbox("w1", 1, 60)
    assert (row.attempts, row.last_error, row.state) == (2, "HTTP 503", "failed")
    assert store.mark_dead(msg, "gave up after 2 attempts")
    clock.advance(days=30)
    assert store.claim_outbox("w1", 1, 60) == []
    assert not store.mark_sent(msg)
    assert [e["state_to"] for e in store.history(msg)] == ["pending", "failed", "dead"]


def test_expired_outbox_lease_is_reclaimed(store: Store, clock: FakeClock) -> None:
    msg = store.enqueue("mdn", "acme", "https://partner/as2", "mdn:<id@x>", b"MDN")
    store.claim_outbox("crashed", 1, 30)
    clock.advance(31)
    (row,) = store.claim_outbox("w2", 1, 30)
    assert (row.id, row.claimed_by) == (msg, "w2")
