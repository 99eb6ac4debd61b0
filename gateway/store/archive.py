"""Content-addressed, immutable archive of every byte the gateway receives or sends.

Rules:
- A blob lives at ``root/<sha256[:2]>/<sha256>`` (256 folders, as git keeps objects: after the first
  few hundred blobs no new folder is made, which costs as much as the blob itself) and is never
  rewritten: storing the
  same bytes twice finds the existing file and leaves it alone.
- A blob appears whole or not at all: it is written to a temp file in its final directory,
  fsynced, linked (or renamed) into place, and the directory is fsynced, so after ``put_*`` returns
  the bytes survive a crash or power loss.
- Blobs are made read-only (0444) to discourage hand edits; ``verify`` re-hashes one.
- Large files are hashed and copied in chunks, never read whole into memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from outbound.senders.durable import SyncPoint, fsync_path

CHUNK = 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


class ArchiveError(Exception):
    """The archive could not store or find a blob (disk trouble, a changing source, a bad id)."""


@dataclass(frozen=True, slots=True)
class ArchivedBlob:
    """A blob in the archive: its SHA-256, size in bytes and path on disk."""

    sha256: str
    size: int
    path: Path


class Archive:
    """Immutable content-addressed blob store rooted at one directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        """Where the blob with this SHA-256 lives (whether or not it exists yet)."""
        if not _SHA256.fullmatch(sha256):
            raise ArchiveError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        """True when the blob is in the archive."""
        return self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        """Open a blob for reading (binary); raises ArchiveError when it is missing."""
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError:
            raise ArchiveError(f"blob {sha256} is not in the archive at {self.root}") from None

    def read(self, sha256: str) -> bytes:
        """The whole blob (prefer ``open`` for large ones)."""
        with self.open(sha256) as fh:
            return fh.read()

    def verify(self, sha256: str) -> bool:
        """Re-hash a stored blob and say whether it still matches its name."""
        digest = hashlib.sha256()
        with self.open(sha256) as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest() == sha256

    def put_bytes(self, data: bytes) -> ArchivedBlob:
        """Store ``data`` (if not already stored) and return where it is."""
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256)
        if not target.is_file():
            self._write(target, [data], sha256)
        else:
            _sync_existing(target)
        return ArchivedBlob(sha256, len(data), target)

    def put_file(self, source: Path) -> ArchivedBlob:
        """Store the file at ``source`` (streamed; if not already stored) and return where it is.

        The source is read twice (hash, then copy) so that bytes already archived are never
        rewritten; a source that changes in between is refused rather than archived wrongly.
        """
        sha256, size = _hash_file(source)
        target = self.path(sha256)
        if not target.is_file():
            with open(source, "rb") as fh:
                self._write(target, iter(lambda: fh.read(CHUNK), b""), sha256)
        else:
            _sync_existing(target)
        return ArchivedBlob(sha256, size, target)

    def put_many(self, sources: Sequence[Path | bytes]) -> list[ArchivedBlob | Exception]:
        """Store several files (paths, streamed) or byte strings at once, with two filesystem syncs for the
        whole batch instead of two fsyncs per blob: temp files are written, synced, linked into place,
        and the links synced. Each source gets its blob, or the exception that kept it out."""
        try:
            point = SyncPoint(self.root)  # opened before anything is written: see durable.py
        except OSError as exc:
            return [ArchiveError(f"the archive at {self.root} is not usable: {exc}")] * len(sources)
        with point:
            return self._put_many(sources, point)

    def _put_many(self, sources: Sequence[Path | bytes], point: SyncPoint) -> list[ArchivedBlob | Exception]:
        """``put_many`` with its sync point open."""
        results: list[ArchivedBlob | Exception] = []
        staged: list[tuple[int, Path, Path]] = []  # (index, temp, target)
        waiting: dict[Path, list[int]] = {}  # target -> the results that depend on it being stored
        new_dirs: set[Path] = set()
        present: dict[Path, list[int]] = {}  # blobs already there: synced again with the batch
        for source in sources:
            try:
                if isinstance(source, bytes):
                    sha256, size = hashlib.sha256(source).hexdigest(), len(source)
                else:
                    sha256, size = _hash_file(source)
                target = self.path(sha256)
                blob = ArchivedBlob(sha256, size, target)
                if target in waiting:  # the same bytes twice in one batch: stored once
                    waiting[target].append(len(results))
                    results.append(blob)
                    continue
                if target.is_file():  # stored before, perhaps by a writer whose last sync is still to come
                    present.setdefault(target, []).append(len(results))
                    results.append(blob)
                    continue
                new_dirs.update(_makedirs(target.parent, self.root))
                tmp = _write_temp(target.parent, [source] if isinstance(source, bytes) else _chunks(source), sha256)
                staged.append((len(results), tmp, target))
                waiting[target] = [len(results)]
                results.append(blob)
            except FileNotFoundError as exc:
                results.append(ArchiveError(f"cannot archive {source!r}: {exc}"))
            except (OSError, ArchiveError) as exc:
                results.append(exc)
        if not staged and not present:
            return results
        try:
            if staged:
                point.sync([tmp for _, tmp, _ in staged], [d.parent for d in new_dirs])
                for _, tmp, target in staged:
                    os.chmod(tmp, 0o444)
                    _link_into_place(tmp, target)
            point.sync(list(present), {target.parent for _, _, target in staged} | new_dirs)
        except OSError as exc:
            for indexes in [*waiting.values(), *present.values()]:
                for i in indexes:
                    results[i] = ArchiveError(f"archiving failed: {exc}")
        finally:
            for _, tmp, _ in staged:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
        return results

    def _write(self, target: Path, chunks: Iterable[bytes], sha256: str) -> None:
        """Write chunks to a temp file beside ``target``, check the hash, fsync, link into place."""
        directory = target.parent
        _makedirs_durably(directory, self.root)
        tmp = _write_temp(directory, chunks, sha256)
        try:
            fsync_path(tmp)
            os.chmod(tmp, 0o444)
            _link_into_place(tmp, target)
            fsync_path(directory)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def _hash_file(source: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    try:
        with open(source, "rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        raise ArchiveError(f"cannot archive {source}: file not found") from None
    return digest.hexdigest(), size


def _sync_existing(target: Path) -> None:
    """fsync a blob that is already there and its folder: another writer may have linked it a moment
    ago and not synced it yet (cheap when it is already on disk)."""
    fsync_path(target)
    fsync_path(target.parent)


def _chunks(source: Path) -> Iterator[bytes]:
    """The bytes of a file, in chunks."""
    with open(source, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def _makedirs(directory: Path, root: Path) -> list[Path]:
    """Create ``directory`` (under ``root``) and its missing parents; returns the ones created (not synced)."""
    missing: list[Path] = []
    current = directory
    while current != root and not current.is_dir():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            path.mkdir()
    return missing


def _write_temp(directory: Path, chunks: Iterable[bytes], sha256: str) -> Path:
    """Write chunks to a new temp file in ``directory`` (not synced) and check their hash; the temp path."""
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise ArchiveError(f"source changed while being archived (expected {sha256})")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _link_into_place(tmp: Path, target: Path) -> None:
    """Link a finished temp file to its blob name; an existing blob is never replaced."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        pass  # another writer stored the same bytes first
    except OSError:
        if not target.exists():  # filesystem without hard links
            os.replace(tmp, target)


def _makedirs_durably(directory: Path, root: Path) -> None:
    """Create ``directory`` (under ``root``) and fsync each parent whose entries changed."""
    for path in _makedirs(directory, root):
        fsync_path(path.parent)
