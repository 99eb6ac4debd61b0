"""The watched inbound folder: complete files only, temp names ignored, files present at start-up taken,
and a file leaves the folder (done_path or delete) only after it is landed."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from gateway.store import Store
from inbox.base import LandingReceipt, RawDocument
from inbox.sources.folder import FolderWatcher

from .conftest import GatewayFactory, gateway_store_url
from .support import RETAILER, drop, interchange_850, purchase_order, wait_for, write_gateway_config


def _layout(tmp_path: Path, store_url: str, **kw: Any) -> Any:
    return write_gateway_config(tmp_path / "gw", gateway_store_url(store_url), **kw)


def _watcher(gw: Any) -> FolderWatcher:
    [watcher] = [w for w in gw.folder_watchers() if w.partner_id == RETAILER]
    return watcher


def test_a_growing_file_is_not_taken_until_its_size_stays_put(
        tmp_path: Path, store_url: str, open_gateway: GatewayFactory) -> None:
    layout = _layout(tmp_path, store_url, stable_seconds=5.0)
    gw = open_gateway(layout)
    watcher = _watcher(gw)
    data = interchange_850(1, [[purchase_order("PO-GROW", lines=20)]])
    path = layout.inbox() / "grow.x12"
    layout.inbox().mkdir(parents=True)
    with path.open("wb") as fh:  # a writer that neither renames nor closes between writes
        t = 1000.0
        for i in range(0, len(data), 100):
            fh.write(data[i:i + 100])
            fh.flush()
            os.utime(path, ns=(int(t * 1e9), int(t * 1e9)))  # mtime moves with each write, as it would
            assert watcher.ready_files(now=t) == []
            t += 4.9  # each write comes just before the file would count as stable
        last_change = t - 4.9
        assert watcher.ready_files(now=last_change + 4.9) == []
        [(ready, st)] = watcher.ready_files(now=last_change + 5.1)  # unchanged for stable_seconds
    assert ready == path and st.st_size == len(data)
    assert watcher.take(ready, st)
    [f] = gw.store.find_files()
    assert gw.store.archive.read(f.sha256) == data and f.size == len(data)
    assert not path.exists() and (layout.done() / "grow.x12").read_bytes() == data


def test_a_file_still_being_written_is_taken_only_once_complete_by_the_running_watcher(
        tmp_path: Path, store_url: str, open_gateway: GatewayFactory) -> None:
    layout = _layout(tmp_path, store_url, stable_seconds=0.8)
    gw = open_gateway(layout)
    watcher = _watcher(gw)
    watcher.scan_interval = 0.1
    stop = threading.Event()
    runner = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    runner.start()
    try:
        data = interchange_850(2, [[purchase_order("PO-SLOW", lines=30)]])
        layout.inbox().mkdir(parents=True, exist_ok=True)
        path = layout.inbox() / "slow.x12"
        with path.open("wb") as fh:
            for i in range(0, len(data), 64):
                fh.write(data[i:i + 64])
                fh.flush()
                time.sleep(0.05)  # well inside stable_seconds: the size keeps changing
                assert gw.store.find_files() == [], "took a file that was still being written"
        wait_for(lambda: bool(gw.store.find_files()), 20, "the closed file to be landed")
    finally:
        stop.set()
        runner.join(timeout=10)
    [f] = gw.store.find_files()
    assert gw.store.archive.read(f.sha256) == data
    assert not path.exists()


def test_temp_names_are_never_taken(tmp_path: Path, store_url: str, open_gateway: GatewayFactory) -> None:
    layout = _layout(tmp_path, store_url, stable_seconds=0.0)
    gw = open_gateway(layout)
    data = interchange_850(3, [[purchase_order("PO-TMP")]])
    temp_names = [".hidden.x12", "po.x12.tmp", "po.x12.part", "po.partial", "po.filepart", "po.crdownload",
                  "~po.x12", "PO.X12.TMP", ".po.x12.swp"]
    layout.inbox().mkdir(parents=True)
    for name in temp_names:
        (layout.inbox() / name).write_bytes(data)
    (layout.inbox() / "subfolder").mkdir()
    watcher = _watcher(gw)
    assert watcher.scan_once() == 0
    assert watcher.scan_once() == 0
    assert gw.store.find_files() == []
    assert sorted(os.listdir(layout.inbox())) == sorted([*temp_names, "subfolder"])
    # The writer's final rename is what makes it a file to take.
    os.replace(layout.inbox() / "po.x12.part", layout.inbox() / "po.x12")
    assert watcher.scan_once() == 1
    assert [f.filename for f in gw.store.find_files()] == ["po.x12"]


def test_files_present_at_start_up_are_taken(tmp_path: Path, store_url: str, open_gateway: GatewayFactory) -> None:
    layout = _layout(tmp_path, store_url, stable_seconds=0.3)
    names = [f"early_{i}.x12" for i in range(5)]
    for i, name in enumerate(names):
        drop(layout.inbox(), name, interchange_850(10 + i, [[purchase_order(f"PO-EARLY-{i}")]]))
    gw = open_gateway(layout)  # the gateway starts after the files arrived
    stop = threading.Event()
    runner = threading.Thread(target=gw.run, args=(stop,), kwargs={"with_sftp": False}, daemon=True)
    runner.start()
    try:
        wait_for(lambda: len(os.listdir(layout.done())) == 5 if layout.done().exists() else False, 30,
                 "the files present at start-up to be taken")
        wait_for(lambda: len(gw.store.find_documents(state="delivered")) == 5, 30, "their documents delivered")
    finally:
        stop.set()
        runner.join(timeout=30)
    assert sorted(f.filename for f in gw.store.find_files()) == names
    assert os.listdir(layout.inbox()) == []


class _FlakyLander:
    """The real store as Lander, first failing once (the database is down), recording what the folder held."""

    def __init__(self, store: Store, inbox: Path) -> None:
        self.store = store
        self.inbox = inbox
        self.fail_next = True
        self.present_at_landing: list[bool] = []

    def land(self, raw: RawDocument) -> LandingReceipt:
        """Land through the store unless told to fail; note whether the file was still in the folder."""
        assert raw.body_path is not None
        self.present_at_landing.append(raw.body_path.exists())
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("ledger unavailable")
        return self.store.land(raw)


@pytest.mark.parametrize("done", [True, False], ids=["done_path", "delete"])
def test_a_file_leaves_the_folder_only_after_it_is_landed(
        tmp_path: Path, store_url: str, open_gateway: GatewayFactory, done: bool) -> None:
    layout = _layout(tmp_path, store_url, stable_seconds=0.0, done_path=done)
    gw = open_gateway(layout)
    data = interchange_850(4, [[purchase_order("PO-LAND")]])
    path = drop(layout.inbox(), "land.x12", data)
    lander = _FlakyLander(gw.store, layout.inbox())
    watcher = FolderWatcher(layout.inbox(), lander, partner_id=RETAILER, done_path=layout.done() if done else None,
                            stable_seconds=0.0)
    with pytest.raises(ConnectionError):
        watcher.scan_once()
    assert path.exists(), "the file left the folder although landing failed"
    assert gw.store.find_files() == []
    assert watcher.scan_once() == 1
    assert lander.present_at_landing == [True, True]
    assert not path.exists()
    assert (layout.done() / "land.x12").exists() == done
    [f] = gw.store.find_files()
    assert gw.store.archive.read(f.sha256) == data


def test_a_second_watcher_tolerates_the_first_having_taken_the_file(
        tmp_path: Path, store_url: str, open_gateway: GatewayFactory) -> None:
    """Two workers watch one folder: whoever lands second gets the first receipt and finds the file gone."""
    layout = _layout(tmp_path, store_url, stable_seconds=0.0)
    gw_a = open_gateway(layout, worker_id="a")
    gw_b = open_gateway(layout, worker_id="b")
    first, second = _watcher(gw_a), _watcher(gw_b)
    path = drop(layout.inbox(), "shared.x12", interchange_850(5, [[purchase_order("PO-SHARED")]]))
    [(ready, st)] = second.ready_files()  # b sees the file ...
    assert first.scan_once() == 1  # ... a lands it and moves it away ...
    assert not path.exists()
    second.take(ready, st)  # ... then b tries: no second ledger row, no error, no alert
    assert len(gw_a.store.find_files()) == 1
    assert [a.kind for a in gw_a.store.pending_alerts()] == []
    assert os.listdir(layout.done()) == ["shared.x12"]
