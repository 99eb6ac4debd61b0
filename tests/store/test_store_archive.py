"""The content-addressed archive: layout, dedup, durability steps, streaming and bad ids."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from gateway.store import Archive, ArchiveError


def test_put_bytes_stores_under_hash_path(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a")
    data = b"ISA*00*          *00*          *ZZ*SENDER~"
    blob = archive.put_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    assert blob.sha256 == digest
    assert blob.size == len(data)
    assert blob.path == tmp_path / "a" / digest[:2] / digest
    assert archive.read(digest) == data
    with archive.open(digest) as fh:
        assert fh.read() == data
    assert archive.verify(digest)
    assert not stat.S_IMODE(blob.path.stat().st_mode) & 0o222  # read-only


def test_identical_bytes_are_stored_once_and_never_rewritten(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    first = archive.put_bytes(b"same bytes")
    before = first.path.stat()
    source = tmp_path / "incoming.edi"
    source.write_bytes(b"same bytes")
    second = archive.put_file(source)
    third = archive.put_bytes(b"same bytes")
    assert first == second == third
    after = first.path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    blobs = [p for p in tmp_path.rglob("*") if p.is_file() and p != source]
    assert blobs == [first.path]


def test_put_file_streams_large_file_and_leaves_no_temp_files(tmp_path: Path) -> None:
    source = tmp_path / "big.edi"
    chunk = os.urandom(1024 * 1024)
    with source.open("wb") as fh:
        for i in range(5):
            fh.write(chunk[i:] + chunk[:i])
    archive = Archive(tmp_path / "archive")
    blob = archive.put_file(source)
    assert blob.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert blob.size == 5 * 1024 * 1024
    assert archive.verify(blob.sha256)
    leftovers = [p.name for p in (tmp_path / "archive").rglob(".tmp-*")]
    assert leftovers == []


def test_verify_detects_tampering(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    blob = archive.put_bytes(b"original")
    blob.path.chmod(0o644)
    blob.path.write_bytes(b"tampered")
    assert not archive.verify(blob.sha256)


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ABCDEF" * 10 + "abcd", "00" * 31, ""])
def test_bad_blob_ids_are_refused(tmp_path: Path, bad: str) -> None:
    archive = Archive(tmp_path)
    with pytest.raises(ArchiveError, match="not a SHA-256"):
        archive.path(bad)


def test_missing_blob_and_missing_source_raise_archive_error(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    with pytest.raises(ArchiveError, match="not in the archive"):
        archive.read("0" * 64)
    with pytest.raises(ArchiveError, match="file not found"):
        archive.put_file(tmp_path / "nope.edi")
