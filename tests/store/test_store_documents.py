"""Documents within a file: idempotent on (file, seq), compare-and-set states, lookups, trace."""

from __future__ import annotations

import pytest
from store_helpers import land_many

from gateway.store import NotFound, Store, StoreError


def test_add_document_is_idempotent_per_file_position(store: Store) -> None:
    (file_id,) = land_many(store, 1)
    first = store.add_document(file_id, 1, kind="purchase_order", partner_id="acme", isa13="000000101",
                               gs06="101", st02="0001", business_key="PO-1", canonical_json='{"po": "PO-1"}')
    again = store.add_document(file_id, 1, kind="purchase_order", partner_id="acme", business_key="CHANGED")
    second = store.add_document(file_id, 2, kind="purchase_order", partner_id="acme", st02="0002")
    assert again == first != second
    docs = store.documents_for_file(file_id)
    assert [(d.id, d.seq, d.business_key) for d in docs] == [(first, 1, "PO-1"), (second, 2, None)]
    assert docs[0].canonical_json == '{"po": "PO-1"}'
    created = [e for e in store.history(file_id) if e["document_id"] is not None]
    assert len(created) == 2


def test_document_for_unknown_file_is_refused(store: Store) -> None:
    with pytest.raises(NotFound, match="not in the ledger"):
        store.add_document("01NOSUCHFILE0000000000000", 1, kind="invoice")
    (file_id,) = land_many(store, 1)
    with pytest.raises(StoreError, match="direction"):
        store.add_document(file_id, 1, kind="invoice", direction="sideways")  # type: ignore[arg-type]


def test_document_state_changes_are_compare_and_set_with_events(store: Store) -> None:
    (file_id,) = land_many(store, 1)
    original = store.add_document(file_id, 1, kind="purchase_order", partner_id="acme")
    doc = store.add_document(file_id, 2, kind="purchase_order", partner_id="acme")
    assert store.set_document_state(doc, "parsed", expect="received")
    assert not store.set_document_state(doc, "delivered", expect="received")
    assert store.set_document_state(doc, "duplicate", expect=("parsed", "received"), duplicate_of=original)
    assert store.set_document_state(original, "failed", error="sink down")
    row = store.get_document(doc)
    assert row is not None and (row.state, row.duplicate_of) == ("duplicate", original)
    failed = store.get_document(original)
    assert failed is not None and (failed.attempts, failed.last_error) == (1, "sink down")
    trace = [(e["state_from"], e["state_to"]) for e in store.history(doc)]
    assert trace == [(None, "received"), ("received", "parsed"), ("parsed", "duplicate")]
    assert store.history(original)[-1]["detail"] == {"error": "sink down"}
    with pytest.raises(NotFound):
        store.set_document_state("01NOSUCHDOC00000000000000", "parsed")


def test_find_documents_filters_and_counts(store: Store) -> None:
    file_a, file_b = land_many(store, 2)
    store.add_document(file_a, 1, kind="purchase_order", partner_id="acme", business_key="PO-1")
    inv = store.add_document(file_a, 2, kind="invoice", partner_id="acme", direction="out")
    store.add_document(file_b, 1, kind="purchase_order", partner_id="globex", business_key="PO-1")
    store.set_document_state(inv, "sent")
    assert [d.partner_id for d in store.find_documents(business_key="PO-1")] == ["acme", "globex"]
    assert [d.id for d in store.find_documents(partner_id="acme", direction="out")] == [inv]
    assert [d.kind for d in store.find_documents(partner_id="acme", state="received")] == ["purchase_order"]
    assert store.find_documents(partner_id="nobody") == []
    assert store.counts_by_partner_and_state() == [("acme", "received", 1), ("acme", "sent", 1),
                                                   ("globex", "received", 1)]
