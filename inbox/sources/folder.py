"""Watched folders: take a file once it is complete, land it, and only then move it away.

Rules:
- A file is complete when the writer closed it (inotify close-after-write), renamed it into the
  folder, or, for writers that do neither visibly, when its size and mtime stayed the same for
  ``stable_seconds``. Files already present at start-up are taken the same way.
- Temp names are never taken: dot-files, ``*.tmp``, ``*.part``, ``*.partial``, ``*.filepart``,
  ``*.crdownload``, ``~*``.
- ``transport_id`` is ``<path>:<size>:<mtime_ns>``: landing it twice (a crash between landing and
  moving) yields the first receipt, and the file is then moved as if nothing happened.
- The file leaves the folder (moved to ``done_path`` or deleted) only after the Lander returned.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inbox.base import Alerter, Lander, RawDocument

log = logging.getLogger(__name__)

TEMP_SUFFIXES = (".tmp", ".part", ".partial", ".filepart", ".crdownload", ".swp")


def is_temp_name(name: str) -> bool:
    """True for names writers use while a file is still being written."""
    lower = name.lower()
    return name.startswith((".", "~")) or lower.endswith(TEMP_SUFFIXES)


@dataclass(slots=True)
class _Seen:
    size: int
    mtime_ns: int
    since: float  # monotonic time the (size, mtime) was first seen like this
    closed: bool = False  # a close-after-write or move-in event came after the last change


class FolderWatcher:
    """Watches one inbound folder for one partner and lands complete files."""

    def __init__(self, folder: Path, lander: Lander, *, partner_id: str | None, done_path: Path | None = None,
                 patterns: list[str] | None = None, stable_seconds: float = 2.0, alerter: Alerter | None = None,
                 scan_interval: float = 1.0, max_file_bytes: int = 512 * 1024 * 1024) -> None:
        self.folder = Path(folder)
        self.lander = lander
        self.partner_id = partner_id
        self.done_path = done_path
        self.patterns = patterns or ["*"]
        self.stable_seconds = stable_seconds
        self.alerter = alerter
        self.scan_interval = scan_interval
        self.max_file_bytes = max_file_bytes
        self._seen: dict[str, _Seen] = {}
        self._closed: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._observer: object | None = None
        self.landed = 0

    # -- watchdog wiring (the driver is imported here only) ----------------------------------

    def start_observer(self) -> None:
        """Start inotify (watchdog) notifications; scanning works without them, only slower."""
        from watchdog.events import FileClosedEvent, FileMovedEvent, FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        watcher = self

        class _Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.is_directory:
                    return
                if isinstance(event, FileClosedEvent):
                    watcher._mark_closed(str(event.src_path))
                elif isinstance(event, FileMovedEvent):
                    watcher._mark_closed(str(event.dest_path))
                watcher._wake.set()

        self.folder.mkdir(parents=True, exist_ok=True)
        try:  # full events: a rename into the folder from elsewhere is a move (complete), not a create
            from watchdog.observers.inotify import InotifyObserver

            observer: Any = InotifyObserver(generate_full_events=True)
        except (ImportError, OSError, TypeError):
            observer = Observer()
        # Only the events that can complete a file: close-after-write and moves (renames into the folder).
        # Creations, modifications and deletions (ours, after landing) would only wake the loop for nothing;
        # files written without either event are found by the periodic scan once their size is stable.
        observer.schedule(_Handler(), str(self.folder), recursive=False,
                          event_filter=[FileClosedEvent, FileMovedEvent])
        observer.daemon = True
        observer.start()
        self._observer = observer

    def stop_observer(self) -> None:
        """Stop inotify notifications."""
        observer = self._observer
        if observer is not None:
            observer.stop()  # type: ignore[attr-defined]
            observer.join(timeout=5)  # type: ignore[attr-defined]
            self._observer = None

    def _mark_closed(self, path: str) -> None:
        with self._lock:
            self._closed.add(os.path.basename(path))

    # -- scanning ------------------------------------------------------------------------------

    def _wanted(self, name: str) -> bool:
        return not is_temp_name(name) and any(fnmatch.fnmatch(name, p) for p in self.patterns)

    def ready_files(self, now: float | None = None) -> list[tuple[Path, os.stat_result]]:
        """Files in the folder that are complete now (oldest first)."""
        now = time.monotonic() if now is None else now
        ready: list[tuple[Path, os.stat_result]] = []
        present: set[str] = set()
        try:
            entries = list(os.scandir(self.folder))
        except FileNotFoundError:
            return []
        with self._lock:
            closed = self._closed
            self._closed = set()
        for entry in entries:
            name = entry.name
            if not self._wanted(name):
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            present.add(name)
            seen = self._seen.get(name)
            if seen is None or seen.size != st.st_size or seen.mtime_ns != st.st_mtime_ns:
                seen = _Seen(st.st_size, st.st_mtime_ns, now)
                self._seen[name] = seen
            if name in closed:
                seen.closed = True
            if seen.closed or now - seen.since >= self.stable_seconds:
                ready.append((Path(entry.path), st))
        for gone in set(self._seen) - present:
            del self._seen[gone]
        ready.sort(key=lambda item: (item[1].st_mtime_ns, item[0].name))
        return ready

    def take(self, path: Path, st: os.stat_result) -> bool:
        """Land one complete file, then move it away; False if it could not be landed now."""
        if not self._land(path, st):
            return False
        self._release(path)
        self._seen.pop(path.name, None)
        self.landed += 1
        return True

    def _raw(self, path: Path, st: os.stat_result) -> RawDocument | None:
        """The RawDocument for a complete file; None (and an alert) when it is over the size limit."""
        if st.st_size > self.max_file_bytes:
            self._alert("folder.oversized", f"file {path.name} is {st.st_size} bytes, over the limit of "
                        f"{self.max_file_bytes}; it was left in {self.folder}", path)
            self._seen.pop(path.name, None)
            return None
        received = dt.datetime.fromtimestamp(st.st_mtime_ns / 1e9, tz=dt.UTC)
        return RawDocument(transport="folder", transport_id=f"{path}:{st.st_size}:{st.st_mtime_ns}",
                           filename=path.name, received_at=received, body_path=path,
                           partner_hint=self.partner_id, metadata={"folder": str(self.folder)})

    def _land(self, path: Path, st: os.stat_result) -> bool:
        """Land one complete file (archive + ledger row); False if it is gone or refused."""
        raw = self._raw(path, st)
        if raw is None:
            return False
        try:
            self.lander.land(raw)
        except FileNotFoundError:
            self._seen.pop(path.name, None)
            return False
        return True

    def _land_many(self, land_many: Callable[[list[RawDocument]], list[Any]],
                   chunk: list[tuple[Path, os.stat_result]]) -> list[Path]:
        """Land a batch of complete files with one call; the paths that landed (the others stay for later)."""
        wanted: list[tuple[Path, RawDocument]] = []
        for path, st in chunk:
            raw = self._raw(path, st)
            if raw is not None:
                wanted.append((path, raw))
        landed: list[Path] = []
        for (path, _), result in zip(wanted, land_many([raw for _, raw in wanted]), strict=True):
            if isinstance(result, Exception):
                if path.exists():
                    log.warning("landing %s failed (tried again on the next scan): %s", path, result)
                else:  # gone before it was archived: nothing to land
                    self._seen.pop(path.name, None)
                continue
            landed.append(path)
        return landed

    def _release(self, path: Path) -> None:
        """Move a landed file to the done folder (or delete it)."""
        try:
            if self.done_path is None:
                path.unlink(missing_ok=True)
                return
            self.done_path.mkdir(parents=True, exist_ok=True)
            target = self.done_path / path.name
            if target.exists():
                target = self.done_path / f"{path.stem}.{time.time_ns()}{path.suffix}"
            shutil.move(str(path), str(target))
        except FileNotFoundError as exc:
            if not path.exists():  # another worker watching this folder landed it too and moved it first
                log.debug("%s was already moved away by another worker", path)
                return
            self._alert("folder.release_failed", f"landed {path.name} but could not move it out of "
                        f"{self.folder}: {exc}", path)
        except OSError as exc:
            self._alert("folder.release_failed", f"landed {path.name} but could not move it out of "
                        f"{self.folder}: {exc}", path)

    def _alert(self, kind: str, message: str, path: Path) -> None:
        log.warning("%s", message)
        if self.alerter is not None:
            self.alerter.alert(kind, message, message, partner_id=self.partner_id,
                               dedup_key=f"{kind}:{path}")

    def scan_once(self, batch: int = 64) -> int:
        """Land every complete file now (``batch`` per commit when the lander can batch); returns how many."""
        ready = self.ready_files()
        count = 0
        land_many = getattr(self.lander, "land_many", None)
        for start in range(0, len(ready), batch):
            chunk = ready[start : start + batch]
            if land_many is not None:  # archived together, one commit; files move only after it
                landed = self._land_many(land_many, chunk)
            else:
                landed = [path for path, st in chunk if self._land(path, st)]
            for path in landed:
                self._release(path)
                self._seen.pop(path.name, None)
                self.landed += 1
            count += len(landed)
        return count

    def run(self, stop: threading.Event) -> None:
        """Scan until ``stop`` is set; inotify events wake the loop early."""
        self.start_observer()
        try:
            while not stop.is_set():
                try:
                    self.scan_once()
                except Exception:  # a failing folder must not kill the daemon
                    log.exception("scanning %s failed", self.folder)
                self._wake.wait(self.scan_interval)
                self._wake.clear()
        finally:
            self.stop_observer()
