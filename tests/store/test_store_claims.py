"""Claiming files: leases, retries, compare-and-set, and races between threads and processes."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from store_helpers import FakeClock, land_many, run_workers

from gateway.store import Store


def test_claim_leases_and_counts_attempts(store: Store, clock: FakeClock) -> None:
    ids = land_many(store, 3)
    claimed = store.claim_files("w1", 2, lease_seconds=60)
    assert [r.id for r in claimed] == ids[:2]
    assert all(r.claimed_by == "w1" and r.attempts == 1 for r in claimed)
    assert claimed[0].claimed_until == clock() + dt.timedelta(seconds=60)
    assert [r.id for r in store.claim_files("w2", 10, 60)] == ids[2:]
    assert store.claim_files("w3", 10, 60) == []


def test_expired_lease_is_claimed_again(store: Store, clock: FakeClock) -> None:
    (file_id,) = land_many(store, 1)
    store.claim_files("crashed", 1, lease_seconds=30)
    clock.advance(29)
    assert store.claim_files("w2", 1, 30) == []
    clock.advance(2)
    (again,) = store.claim_files("w2", 1, 30)
    assert (again.id, again.claimed_by, again.attempts) == (file_id, "w2", 2)
    # the crashed worker's late write is fenced off; the lease holder's goes through
    assert not store.set_file_state(file_id, "parsed", worker="crashed")
    assert store.set_file_state(file_id, "parsed", worker="w2")


def test_extend_lease_only_for_holder(store: Store, clock: FakeClock) -> None:
    (file_id,) = land_many(store, 1)
    store.claim_files("w1", 1, 30)
    assert not store.extend_file_lease(file_id, "w2", 300)
    assert store.extend_file_lease(file_id, "w1", 300)
    clock.advance(100)
    assert store.claim_files("w2", 1, 30) == []


def test_failed_file_is_retried_when_due(store: Store, clock: FakeClock) -> None:
    (file_id,) = land_many(store, 1)
    store.claim_files("w1", 1, 30)
    retry_at = clock() + dt.timedelta(minutes=5)
    assert store.set_file_state(file_id, "failed", error="disk full", retry_at=retry_at, release=True)
    assert store.claim_files("w1", 1, 30) == []
    clock.advance(5 * 60)
    (row,) = store.claim_files("w1", 1, 30)
    assert (row.id, row.state, row.last_error, row.attempts) == (file_id, "failed", "disk full", 2)
    store.set_file_state(file_id, "failed", error="still full", release=True)  # no retry time: parked
    clock.advance(days=1)
    assert store.claim_files("w1", 1, 30) == []


def test_set_file_state_compare_and_set_and_events(store: Store) -> None:
    (file_id,) = land_many(store, 1)
    assert store.set_file_state(file_id, "parsed", expect="received", detail={"documents": 2})
    assert not store.set_file_state(file_id, "parsed", expect="received")
    assert store.set_file_state(file_id, "delivered", expect="parsed")
    trace = [(e["state_from"], e["state_to"]) for e in store.history(file_id)]
    assert trace == [(None, "received"), ("received", "parsed"), ("parsed", "delivered")]
    assert store.history(file_id)[1]["detail"] == {"documents": 2}


def test_other_states_can_be_made_claimable(store: Store) -> None:
    ids = land_many(store, 2)
    store.set_file_state(ids[0], "parsed")
    assert [r.id for r in store.claim_files("w", 10, 30, states=("parsed",))] == [ids[0]]


def _claim_until_empty(store: Store, worker: str, out: list[str], start: threading.Barrier) -> None:
    """Claim in small batches (holding every lease) until nothing is left; the cap stops a broken store.

    SQLite's busy handler is not fair, so on a loaded machine one worker may take every batch; the
    test still fails if a lease is ever handed out twice (a store that ignores live leases lets
    even a lone worker re-claim its own files until the cap).
    """
    start.wait()
    while len(out) <= 1000 and (rows := store.claim_files(worker, 5, 300)):
        out.extend(row.id for row in rows)


def test_two_threads_never_claim_the_same_file(store_url: str, archive_root: Path) -> None:
    with Store.open(store_url, archive_root) as setup:
        ids = land_many(setup, 500)
    results: dict[str, list[str]] = {"a": [], "b": []}
    start = threading.Barrier(2)
    stores = [Store.open(store_url, archive_root) for _ in results]
    try:
        threads = [threading.Thread(target=_claim_until_empty, args=(s, name, results[name], start))
                   for s, name in zip(stores, results, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not set(results["a"]) & set(results["b"])
        assert sorted(results["a"] + results["b"]) == sorted(ids)
        owners = {f.id: (f.claimed_by, f.attempts) for f in stores[0].find_files()}
        assert owners == {i: ("a" if i in set(results["a"]) else "b", 1) for i in ids}
    finally:
        for s in stores:
            s.close()



def test_two_processes_never_claim_the_same_file(store_url: str, archive_root: Path, tmp_path: Path) -> None:
    with Store.open(store_url, archive_root) as setup:
        ids = land_many(setup, 500)
    first, second = run_workers("claim", store_url, archive_root, tmp_path)
    assert not set(first) & set(second)
    assert sorted(first + second) == sorted(ids)
