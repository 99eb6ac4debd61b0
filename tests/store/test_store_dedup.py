"""Dedup keys: first claim wins (race-free), repeats name the original, the window expires."""

from __future__ import annotations

import threading

import pytest
from store_helpers import FakeClock

from gateway.store import Store, StoreError


def test_duplicate_names_the_original_and_rerun_is_not_a_duplicate(store: Store) -> None:
    assert store.claim_dedup_key("acme", "transaction", "000000101/101/0001", "DOC-A") is None
    assert store.claim_dedup_key("acme", "transaction", "000000101/101/0001", "DOC-B") == "DOC-A"
    assert store.claim_dedup_key("acme", "transaction", "000000101/101/0001", "DOC-A") is None  # crash re-run
    # keys are per partner and per layer
    assert store.claim_dedup_key("globex", "transaction", "000000101/101/0001", "DOC-C") is None
    assert store.claim_dedup_key("acme", "business", "000000101/101/0001", "DOC-D") is None


def test_window_expiry_replaces_the_old_record(store: Store, clock: FakeClock) -> None:
    assert store.claim_dedup_key("acme", "business", "PO-1", "OLD", window_days=30) is None
    clock.advance(days=29)
    assert store.claim_dedup_key("acme", "business", "PO-1", "NEW", window_days=30) == "OLD"
    clock.advance(days=2)  # 31 days after OLD was seen
    assert store.claim_dedup_key("acme", "business", "PO-1", "NEW", window_days=30) is None
    assert store.claim_dedup_key("acme", "business", "PO-1", "NEWER", window_days=30) == "NEW"


def test_file_level_keys_return_the_original_file(store: Store) -> None:
    assert store.claim_dedup_key("acme", "content", "ab" * 32, file_id="FILE-1") is None
    assert store.claim_dedup_key("acme", "content", "ab" * 32, file_id="FILE-2") == "FILE-1"


def test_long_keys_are_hashed_consistently(store: Store) -> None:
    key = "PO|" + "X" * 2000
    assert store.claim_dedup_key("acme", "business", key, "A") is None
    assert store.claim_dedup_key("acme", "business", key, "B") == "A"
    assert store.claim_dedup_key("acme", "business", key + "Y", "C") is None


def test_bad_arguments_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="unknown dedup layer"):
        store.claim_dedup_key("acme", "po", "k", "A")  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="document_id or file_id"):
        store.claim_dedup_key("acme", "business", "k")


def test_concurrent_claims_have_exactly_one_winner(store_url: str, archive_root: object) -> None:
    stores = [Store.open(store_url, archive_root) for _ in range(6)]  # type: ignore[arg-type]
    results: dict[str, str | None] = {}
    start = threading.Barrier(len(stores))

    def claim(store: Store, doc: str) -> None:
        start.wait()
        results[doc] = store.claim_dedup_key("acme", "interchange", "000000777", doc)

    try:
        threads = [threading.Thread(target=claim, args=(s, f"DOC-{i}")) for i, s in enumerate(stores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for s in stores:
            s.close()
    winners = [doc for doc, original in results.items() if original is None]
    assert len(results) == 6 and len(winners) == 1
    assert all(original == winners[0] for doc, original in results.items() if doc != winners[0])
