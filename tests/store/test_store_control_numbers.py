"""Control numbers: no gap, no repeat, across threads, processes and restarts; wrap-around."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from store_helpers import run_workers

from gateway.store import Store, StoreError


def test_four_threads_get_exactly_1_to_800_and_survive_reopen(store_url: str, archive_root: Path) -> None:
    stores = [Store.open(store_url, archive_root) for _ in range(4)]
    got: list[list[int]] = [[] for _ in stores]
    start = threading.Barrier(len(stores))

    def allocate(store: Store, out: list[int]) -> None:
        start.wait()
        out.extend(store.next_control_number("acme", "out", "isa") for _ in range(200))

    try:
        threads = [threading.Thread(target=allocate, args=pair) for pair in zip(stores, got, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for s in stores:
            s.close()
    everything = sorted(n for out in got for n in out)
    assert everything == list(range(1, 801))
    assert all(out == sorted(out) for out in got)  # each worker sees its own numbers increase
    with Store.open(store_url, archive_root) as reopened:
        assert reopened.next_control_number("acme", "out", "isa") == 801


def test_two_processes_share_one_sequence(store_url: str, archive_root: Path, tmp_path: Path) -> None:
    Store.open(store_url, archive_root).close()
    first, second = run_workers("numbers", store_url, archive_root, tmp_path, count=150)
    assert sorted(first + second) == list(range(1, 301))  # type: ignore[type-var]


def test_sequences_are_independent_per_partner_direction_kind(store: Store) -> None:
    assert [store.next_control_number("acme", "out", "isa") for _ in range(3)] == [1, 2, 3]
    assert store.next_control_number("acme", "out", "gs") == 1
    assert store.next_control_number("acme", "in", "isa") == 1
    assert store.next_control_number("globex", "out", "isa", start=1000) == 1000
    assert store.next_control_number("acme", "out", "isa") == 4


def test_wraps_to_start_after_maximum(store: Store) -> None:
    got = [store.next_control_number("acme", "out", "st", start=1, maximum=3) for _ in range(7)]
    assert got == [1, 2, 3, 1, 2, 3, 1]


def test_seed_continues_from_another_system(store: Store) -> None:
    store.seed_control_number("acme", "out", "isa", 41_999)
    assert store.next_control_number("acme", "out", "isa") == 42_000


def test_empty_range_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="empty"):
        store.next_control_number("acme", "out", "isa", start=10, maximum=5)


def test_allocation_by_key_is_idempotent_and_gap_free(store_url: str, archive_root: Path) -> None:
    """A retry under the same key gets the same numbers; new keys continue without a gap."""
    with Store.open(store_url, archive_root) as store:
        first = store.allocate_control_numbers("acme", "out", "ack:file1:1", sets=3)
        again = store.allocate_control_numbers("acme", "out", "ack:file1:1", sets=3)
        second = store.allocate_control_numbers("acme", "out", "ack:file2:1", sets=2)
    assert first == again
    assert (first.isa13, first.gs06, first.st_numbers) == (1, 1, [1, 2, 3])
    assert (second.isa13, second.gs06, second.st_numbers) == (2, 2, [4, 5])
    with Store.open(store_url, archive_root) as store:  # survives a restart
        assert store.allocate_control_numbers("acme", "out", "ack:file1:1", sets=3) == first
        assert store.allocate_control_numbers("acme", "out", "ack:file3:1", sets=1).isa13 == 3


def test_transaction_commits_all_or_nothing(store_url: str, archive_root: Path) -> None:
    """Calls inside Store.transaction() share one commit: an error rolls all of them back."""
    with Store.open(store_url, archive_root) as store:
        with pytest.raises(RuntimeError), store.transaction():
            store.next_control_number("acme", "out", "gs")
            store.next_control_number("acme", "out", "gs")
            raise RuntimeError("boom")
        assert store.next_control_number("acme", "out", "gs") == 1
