"""Batch paths of the hot loop: Archive.put_many, Store.land_many, FolderSender.send_many, sync_batch, RawSql."""

from __future__ import annotations

import datetime as dt
import hashlib
import stat
from pathlib import Path

import pytest
from sqlalchemy.dialects import postgresql, sqlite

import outbound.senders.durable as durable
from gateway.store import Archive, ArchiveError, Store
from gateway.store.rawsql import RawSql
from inbox.base import LandingReceipt, RawDocument
from outbound.senders.base import FolderSender, OutboundMessage, SendError, SendResult

T0 = dt.datetime(2024, 3, 1, 11, 59, tzinfo=dt.UTC)


@pytest.fixture(params=["syncfs", "fsync"])
def sync_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with syncfs (where the kernel has it) and with the fsync-per-file fallback."""
    if request.param == "fsync":
        monkeypatch.setattr(durable, "_SYNCFS", None)
    elif durable._SYNCFS is None:
        pytest.skip("syncfs is not available here")
    return str(request.param)


def test_put_many_stores_paths_and_bytes_once_each(tmp_path: Path, sync_mode: str) -> None:
    archive = Archive(tmp_path / "a")
    src = tmp_path / "po.edi"
    src.write_bytes(b"ISA*from-a-file~")
    results = archive.put_many([src, b"ISA*in-memory~", b"ISA*in-memory~", tmp_path / "missing.edi"])
    first, second, same, missing = results
    assert not isinstance(first, Exception) and not isinstance(second, Exception)
    assert not isinstance(same, Exception)
    assert first.sha256 == hashlib.sha256(b"ISA*from-a-file~").hexdigest()
    assert archive.read(first.sha256) == b"ISA*from-a-file~"
    assert archive.read(second.sha256) == b"ISA*in-memory~"
    assert same.sha256 == second.sha256 and same.path == second.path
    assert isinstance(missing, ArchiveError)
    assert "missing.edi" in str(missing)
    assert not stat.S_IMODE(first.path.stat().st_mode) & 0o222  # read-only like put_bytes
    files = sorted(p.name for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files == sorted([first.sha256, second.sha256])  # no temp files left behind
    again = archive.put_many([b"ISA*in-memory~"])[0]
    assert not isinstance(again, Exception) and again.path == second.path


def test_put_many_reports_a_failed_sync_for_every_staged_blob(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    archive = Archive(tmp_path / "a")

    def broken(self: object, files: object = (), folders: object = ()) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(durable.SyncPoint, "sync", broken)
    results = archive.put_many([b"ISA*one~", b"ISA*one~", b"ISA*two~"])
    assert all(isinstance(r, ArchiveError) and "Input/output error" in str(r) for r in results)
    assert not [p for p in (tmp_path / "a").rglob("*") if p.is_file()]  # nothing half-stored


def test_land_many_lands_each_once_in_one_batch(store: Store, tmp_path: Path) -> None:
    spool = tmp_path / "b.edi"
    spool.write_bytes(b"ISA*b~")
    earlier = store.land(RawDocument("folder", "in/a:1:1", "a.edi", T0, body=b"ISA*a~"))
    raws = [RawDocument("folder", "in/a:1:1", "a.edi", T0, body=b"ISA*a~"),
            RawDocument("folder", "in/b:1:1", "b.edi", T0, body_path=spool),
            RawDocument("folder", "in/c:1:1", "c.edi", T0, body_path=tmp_path / "gone.edi"),
            RawDocument("folder", "in/d:1:1", "d.edi", T0, body=b"ISA*d~", partner_hint="acme")]
    results = store.land_many(raws)
    assert isinstance(results[0], LandingReceipt) and results[0].already_landed
    assert results[0].file_id == earlier.file_id
    assert isinstance(results[1], LandingReceipt) and not results[1].already_landed
    assert isinstance(results[2], Exception)
    assert isinstance(results[3], LandingReceipt)
    assert store.archive.read(results[1].sha256) == b"ISA*b~"
    assert {f.filename for f in store.find_files()} == {"a.edi", "b.edi", "d.edi"}
    row = store.get_file(results[3].file_id)
    assert row is not None and row.partner_hint == "acme" and row.state == "received"
    assert [e["state_to"] for e in store.history(results[3].file_id)] == ["received"]
    again = store.land_many(raws[1:2])[0]
    assert isinstance(again, LandingReceipt) and again.already_landed and again.file_id == results[1].file_id


def msg(name: str, body: bytes) -> OutboundMessage:
    """An outbound message for the folder sender."""
    return OutboundMessage("acme", name, body, f"key:{name}")


def test_folder_send_many_writes_whole_files_and_reports_each(tmp_path: Path, sync_mode: str) -> None:
    (tmp_path / "taken.x12").write_bytes(b"someone else's")
    (tmp_path / "sent.x12").write_bytes(b"ISA*sent~")
    sender = FolderSender(tmp_path)
    results = sender.send_many([msg("a.x12", b"ISA*a~"), msg("sent.x12", b"ISA*sent~"),
                                msg("taken.x12", b"ISA*mine~"), msg("../escape.x12", b"x"), msg("b.x12", b"ISA*b~")])
    a, sent, taken, escape, b = results
    assert isinstance(a, SendResult) and not a.already_sent and (tmp_path / "a.x12").read_bytes() == b"ISA*a~"
    assert isinstance(sent, SendResult) and sent.already_sent
    assert isinstance(taken, SendError) and not taken.retryable and taken.kind == "send.name_taken"
    assert isinstance(escape, SendError) and escape.kind == "send.bad_filename"
    assert isinstance(b, SendResult) and (tmp_path / "b.x12").read_bytes() == b"ISA*b~"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_folder_send_many_turns_a_failed_sync_into_retryable_errors(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: object, files: object = (), folders: object = ()) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(durable.SyncPoint, "sync", broken)
    results = FolderSender(tmp_path).send_many([msg("a.x12", b"ISA*a~"), msg("b.x12", b"ISA*b~")])
    assert all(isinstance(r, SendError) and r.retryable and "No space" in str(r) for r in results)
    assert not list(tmp_path.iterdir())  # neither a final name nor a temp file


def test_rawsql_converts_named_parameters_for_psycopg_only() -> None:
    sql = "SELECT '50%' FROM t WHERE a = :a AND b = :b_2 AND c::text = 'x'"
    assert RawSql(sqlite.dialect()).text(sql) == sql
    assert RawSql(postgresql.psycopg.dialect()).text(sql) == (
        "SELECT '50%%' FROM t WHERE a = %(a)s AND b = %(b_2)s AND c::text = 'x'")
    naive = RawSql(sqlite.dialect()).ts(T0)
    aware = RawSql(postgresql.psycopg.dialect()).ts(T0)
    assert naive == "2024-03-01 11:59:00.000000"
    assert aware == T0


def test_sqlite_writers_in_one_process_share_one_lock_per_database(tmp_path: Path) -> None:
    import threading

    from gateway.store.store import _writer_lock

    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    with Store.open(url, tmp_path / "a") as one, Store.open(url, tmp_path / "a") as two:
        assert one._writer_lock is two._writer_lock  # both stores queue on the same lock
        with Store.open(f"sqlite:///{tmp_path / 'other.db'}", tmp_path / "b") as other:
            assert other._writer_lock is not one._writer_lock
        errors: list[BaseException] = []

        def land(store: Store, prefix: str) -> None:
            try:
                for i in range(50):
                    name = f"{prefix}{i}.edi"
                    store.land(RawDocument("folder", f"{prefix}:{i}", name, T0, body=name.encode()))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=land, args=(s, p)) for s, p in ((one, "x"), (two, "y"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(one.find_files(limit=1000)) == 100
    assert _writer_lock(one.engine) is one._writer_lock


def test_folder_send_many_sends_a_repeated_file_name_after_the_others(tmp_path: Path, sync_mode: str) -> None:
    results = FolderSender(tmp_path).send_many([msg("a.x12", b"ISA*a~"), msg("a.x12", b"ISA*a~"),
                                                msg("b.x12", b"ISA*b~")])
    first, again, other = results
    assert isinstance(first, SendResult) and not first.already_sent
    assert isinstance(again, SendResult) and again.already_sent  # the same bytes: already there
    assert isinstance(other, SendResult) and (tmp_path / "b.x12").read_bytes() == b"ISA*b~"
    clash = FolderSender(tmp_path).send_many([msg("c.x12", b"ISA*c1~"), msg("c.x12", b"ISA*c2~")])
    assert isinstance(clash[0], SendResult) and (tmp_path / "c.x12").read_bytes() == b"ISA*c1~"
    assert isinstance(clash[1], SendError) and clash[1].kind == "send.name_taken"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_land_many_refuses_a_naive_time_for_that_document_only(store: Store) -> None:
    naive = dt.datetime(2024, 3, 1, 11, 59)
    results = store.land_many([RawDocument("folder", "in/ok:1:1", "ok.edi", T0, body=b"ISA*ok~"),
                               RawDocument("folder", "in/naive:1:1", "naive.edi", naive, body=b"ISA*n~")])
    assert isinstance(results[0], LandingReceipt)
    assert isinstance(results[1], Exception) and "naive" in str(results[1])
    assert [f.filename for f in store.find_files()] == ["ok.edi"]


def test_syncfs_only_where_the_filesystem_is_known_to_honour_it(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    kind = durable.filesystem_type(tmp_path)
    assert kind  # this machine's mounts are readable
    monkeypatch.setattr(durable, "filesystem_type", lambda path: "nfs4")
    with durable.SyncPoint(tmp_path) as point:
        assert not point.uses_syncfs  # a network mount: fsync each file and folder
        (tmp_path / "f").write_bytes(b"x")
        point.sync([tmp_path / "f"], [tmp_path])
    if durable._SYNCFS is not None:
        monkeypatch.setattr(durable, "filesystem_type", lambda path: "ext4")
        with durable.SyncPoint(tmp_path) as point:
            assert point.uses_syncfs
            point.sync()
