"""Durability for a batch of new files with one filesystem sync, instead of an fsync per file and per folder.

Every file the gateway writes (archive blobs, ERP JSON, acks in a partner's folder) must survive a
power loss before the ledger records it. One ``fsync`` per file plus one per folder is two journal
commits per file; for a batch of small files Linux's ``syncfs(2)`` does the same for all of them
at once: it flushes every dirty page and all metadata of one filesystem and (since Linux 5.8)
reports write-back errors. Writers use it in two phases so that no final name can ever hold a
partial file: write temp files -> ``sync_batch`` -> rename/link them into place -> ``sync_batch``.
Where ``syncfs`` is missing (not Linux, kernel before 5.8), or ``GATEWAY_SYNC=fsync`` is set (a data
folder on a filesystem other programs write a lot to, which ``syncfs`` would flush too), each file
and folder is fsynced instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
from collections.abc import Callable, Iterable
from pathlib import Path


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


def fsync_path(path: Path) -> None:
    """fsync one file or folder by path."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_batch(files: Iterable[Path], folders: Iterable[Path]) -> None:
    """Make the contents of ``files`` and the entries of ``folders`` durable; OSError when that fails.

    With ``syncfs``: one call per filesystem the folders (and the files' folders) are on.
    Otherwise: an fsync per file and per folder.
    """
    files = list(files)
    folders = {Path(f) for f in folders} | {f.parent for f in files}
    if _SYNCFS is None:
        for path in files:
            fsync_path(path)
        for folder in folders:
            fsync_path(folder)
        return
    done: set[int] = set()
    for folder in sorted(folders):
        fd = os.open(folder, os.O_RDONLY)
        try:
            device = os.fstat(fd).st_dev
            if device in done:
                continue
            if _SYNCFS(fd) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"syncfs on {folder} failed: {os.strerror(err)}")
            done.add(device)
        finally:
            os.close(fd)
