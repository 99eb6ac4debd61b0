"""Helpers shared by the store tests: a hand-moved clock, bulk landing, worker processes."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from gateway.store import Store
from inbox.base import RawDocument

T0 = dt.datetime(2024, 3, 1, 11, 0, tzinfo=dt.UTC)
WORKER_SCRIPT = Path(__file__).with_name("store_worker.py")


class FakeClock:
    """A clock the test moves by hand (starts at a fixed UTC time)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.current = start or dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, seconds: float = 0, *, days: float = 0) -> dt.datetime:
        """Move time forward and return the new now."""
        self.current += dt.timedelta(seconds=seconds, days=days)
        return self.current


def land_many(store: Store, count: int) -> list[str]:
    """Land ``count`` distinct small files; their ids in landing order."""
    return [store.land(RawDocument("folder", f"f{i}", f"f{i}.edi", T0, body=b"ISA*%d~" % i)).file_id
            for i in range(count)]


def run_workers(mode: str, url: str, archive_root: Path, tmp_path: Path, count: int = 0,
                workers: int = 2) -> list[list[object]]:
    """Start worker processes, release them together, return each one's JSON result."""
    go = tmp_path / f"go-{mode}"
    procs = [subprocess.Popen([sys.executable, str(WORKER_SCRIPT), mode, url, str(archive_root), f"p{i}",
                               str(go), str(count)], stdout=subprocess.PIPE, text=True)
             for i in range(workers)]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
        go.touch()
        outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    assert [proc.returncode for proc in procs] == [0] * workers
    return [json.loads(out.strip().splitlines()[-1]) for out in outputs]
