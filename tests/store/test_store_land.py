"""Landing: archive + ledger row in one commit, idempotent on (transport, transport_id)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from gateway.store import Store, StoreError
from inbox.base import RawDocument

T0 = dt.datetime(2024, 3, 1, 11, 59, tzinfo=dt.UTC)


def raw(transport_id: str, body: bytes = b"ISA*00~", **kw: object) -> RawDocument:
    """A RawDocument as a folder source would make it."""
    return RawDocument("folder", transport_id, kw.pop("filename", "po.edi"), T0, body=body, **kw)  # type: ignore[arg-type]


def test_land_twice_returns_first_receipt(store: Store) -> None:
    first = store.land(raw("in/po.edi:42:1700000000"))
    again = store.land(raw("in/po.edi:42:1700000000"))
    assert not first.already_landed
    assert again.already_landed
    assert (again.file_id, again.sha256, again.size) == (first.file_id, first.sha256, first.size)
    assert len(store.find_files()) == 1
    assert [e["state_to"] for e in store.history(first.file_id)] == ["received"]
    row = store.get_file(first.file_id)
    assert row is not None
    assert (row.state, row.transport, row.received_at, row.attempts) == ("received", "folder", T0, 0)


def test_land_from_spool_file_streams_into_archive(store: Store, tmp_path: Path) -> None:
    spool = tmp_path / "spool.edi"
    spool.write_bytes(b"ISA*" + b"X" * 300_000 + b"~")
    receipt = store.land(RawDocument("sftp", "host:/out/a.edi:300005:1", "a.edi", T0, body_path=spool,
                                     partner_hint="acme", metadata={"remote_path": "/out/a.edi"}))
    assert receipt.sha256 == hashlib.sha256(spool.read_bytes()).hexdigest()
    assert receipt.size == 300_005
    assert store.archive.read(receipt.sha256) == spool.read_bytes()
    row = store.get_file(receipt.file_id)
    assert row is not None
    assert row.partner_hint == "acme"
    assert row.partner_id is None
    assert row.metadata == {"remote_path": "/out/a.edi"}


def test_same_bytes_under_two_transport_ids_are_two_files_one_blob(store: Store, archive_root: Path) -> None:
    a = store.land(raw("one"))
    b = store.land(raw("two"))
    assert a.file_id != b.file_id
    assert a.sha256 == b.sha256
    assert len([p for p in archive_root.rglob("*") if p.is_file()]) == 1
    assert {f.id for f in store.find_files(sha256=a.sha256)} == {a.file_id, b.file_id}


def test_very_long_transport_id_is_stored_as_hash_and_kept_in_metadata(store: Store) -> None:
    long_id = "host:/" + "deep/" * 400 + "file.edi"
    first = store.land(raw(long_id))
    assert store.land(raw(long_id)).already_landed
    row = store.get_file(first.file_id)
    assert row is not None
    assert row.transport_id.startswith("sha256:")
    assert row.metadata["transport_id"] == long_id


def test_land_refuses_documents_without_bytes_or_with_naive_time(store: Store) -> None:
    with pytest.raises(StoreError, match="neither body nor body_path"):
        store.land(RawDocument("folder", "x", "x.edi", T0))
    with pytest.raises(StoreError, match="naive"):
        store.land(RawDocument("folder", "y", "y.edi", T0.replace(tzinfo=None), body=b"x"))
    assert store.find_files() == []


def test_replay_creates_child_file_once(store: Store) -> None:
    original = store.land(raw("orig"))
    replay = store.replay_file(original.file_id, "replay-1", reason="partner fixed their profile")
    assert not replay.already_landed
    assert store.replay_file(original.file_id, "replay-1").already_landed
    child = store.get_file(replay.file_id)
    assert child is not None
    assert (child.parent_id, child.sha256, child.transport, child.state) == (
        original.file_id, original.sha256, "replay", "received")
    assert store.history(replay.file_id)[0]["detail"]["replay_of"] == original.file_id


def test_partner_identification_is_recorded(store: Store) -> None:
    receipt = store.land(raw("p"))
    store.set_file_partner(receipt.file_id, "acme")
    row = store.get_file(receipt.file_id)
    assert row is not None and row.partner_id == "acme"
    assert store.counts_by_partner_and_state("files") == [("acme", "received", 1)]
