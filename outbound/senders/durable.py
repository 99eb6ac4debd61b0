"""Durability for a batch of new files with one filesystem sync, instead of an fsync per file and per folder.

Every file the gateway writes (archive blobs, ERP JSON, acks in a partner's folder) must survive a
power loss before the ledger records it. One ``fsync`` per file plus one per folder is two journal
commits per file; for a batch of small files Linux's ``syncfs(2)`` does the same for all of them
at once: it flushes every dirty page and all metadata of one filesystem. Writers use a
``SyncPoint`` in two phases, so that no final name can ever hold a partial file: open the sync
point -> write temp files -> ``sync`` -> rename/link them into place -> ``sync``.

Rules:
- The sync point is opened BEFORE the files are written: ``syncfs`` reports a write-back error
  only to descriptors opened before it happened (Linux >= 5.8), so a descriptor opened later
  could miss the failure of our own pages.
- ``syncfs`` is used only on local filesystems known to implement it fully (ext4, xfs, btrfs, ...);
  on network and FUSE mounts (NFS, SMB, sshfs ...) it may return without flushing to the server,
  so there, on kernels before 5.8, off Linux, or with ``GATEWAY_SYNC=fsync`` (a data folder on a
  filesystem other programs write a lot to, which ``syncfs`` would flush too), every file and
  folder is fsynced instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

SYNCFS_FILESYSTEMS = frozenset({"ext4", "ext3", "ext2", "xfs", "btrfs", "f2fs", "tmpfs", "zfs", "bcachefs"})


def _load_syncfs() -> Callable[[int], int] | None:
    """libc's syncfs when the kernel reports write-back errors through it (Linux >= 5.8), else None."""
    if platform.system() != "Linux":
        return None
    try:
        major, minor = (int(part) for part in platform.release().split(".")[:2])
    except ValueError:
        return None
    if (major, minor) < (5, 8):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        func: Callable[[int], int] = libc.syncfs
    except (OSError, AttributeError):
        return None
    return func


_SYNCFS = None if os.environ.get("GATEWAY_SYNC") == "fsync" else _load_syncfs()


def filesystem_type(path: Path) -> str | None:
    """The type of the filesystem ``path`` is on (from /proc/self/mounts), or None when unknown."""
    try:
        target = os.path.realpath(path)
        best, kind = "", None
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as mounts:
            for line in mounts:
                fields = line.split()
                if len(fields) < 3:
                    continue
                mount_point = fields[1].replace("\\040", " ")
                inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
                if inside and len(mount_point) >= len(best):
                    best, kind = mount_point, fields[2]
        return kind
    except OSError:
        return None


def fsync_path(path: Path) -> None:
    """fsync one file or folder by path."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SyncPoint:
    """Makes files written after it was opened durable: ``syncfs`` on a descriptor opened first, or
    an fsync per file and folder where ``syncfs`` cannot be trusted (see the module rules)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._fd: int | None = None
        if _SYNCFS is not None and filesystem_type(self.folder) in SYNCFS_FILESYSTEMS:
            self._fd = os.open(self.folder, os.O_RDONLY)

    @property
    def uses_syncfs(self) -> bool:
        """True when ``sync`` is one syncfs call (else fsyncs)."""
        return self._fd is not None

    def sync(self, files: Iterable[Path] = (), folders: Iterable[Path] = ()) -> None:
        """Make the contents of ``files`` and the entries of ``folders`` (all on this folder's filesystem)
        durable; OSError when that fails, including a write-back error since this point was opened."""
        if self._fd is not None and _SYNCFS is not None:
            if _SYNCFS(self._fd) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"syncfs on {self.folder} failed: {os.strerror(err)}")
            return
        files = list(files)
        for path in files:
            fsync_path(path)
        for folder in {Path(f) for f in folders} | {f.parent for f in files}:
            fsync_path(folder)

    def close(self) -> None:
        """Release the descriptor."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> SyncPoint:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
