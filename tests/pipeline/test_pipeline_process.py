"""`gateway run` processes landed files in a child process (gateway.pipeline_worker): it never outlives the
daemon, and if it dies the daemon takes its work over."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Daemon, open_store
from .support import GatewayLayout, drop, make_batch, wait_for

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _pipeline_children(parent: int) -> list[int]:
    """Live processes started by ``parent`` that run gateway.pipeline_worker."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"gateway.pipeline_worker" in cmdline and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def _processed(layout: GatewayLayout, count: int) -> bool:
    with open_store(layout) as store:
        files = store.find_files(limit=10_000)
    return len(files) >= count and all(f.state == "processed" for f in files)


def _start_with_child(daemons: Callable[[GatewayLayout, str], Daemon], layout: GatewayLayout) -> tuple[Daemon, int]:
    daemon = daemons(layout, "parent")
    daemon.start()
    assert daemon.proc is not None
    pid = daemon.proc.pid
    wait_for(lambda: bool(_pipeline_children(pid)) or not daemon.running(), 30, "the pipeline process to start")
    assert daemon.running(), daemon.output()[-3000:]
    (child,) = _pipeline_children(pid)
    return daemon, child


@pytest.mark.parametrize("store_kind", ["sqlite"])
def test_the_pipeline_process_processes_files_and_dies_with_a_killed_daemon(
        layout: GatewayLayout, daemons: Callable[[GatewayLayout, str], Daemon]) -> None:
    batch = make_batch(20)
    daemon, child = _start_with_child(daemons, layout)
    for name, data in batch.files.items():
        drop(layout.inbox(), name, data)
    wait_for(lambda: _processed(layout, 20), 60, "the files to be processed")
    with open_store(layout) as store:
        files = store.find_files()
    assert {(f.claimed_by, f.attempts) for f in files} == {(None, 1)}  # each claimed once, lease released
    assert _pipeline_children(daemon.proc.pid if daemon.proc else 0) == [child]  # the child never had to be replaced
    daemon.kill()  # SIGKILL: no chance to stop its child itself
    wait_for(lambda: not _alive(child), 10, "the pipeline process to die with the daemon")


@pytest.mark.parametrize("store_kind", ["sqlite"])
def test_the_daemon_takes_over_when_its_pipeline_process_dies(
        layout: GatewayLayout, daemons: Callable[[GatewayLayout, str], Daemon]) -> None:
    daemon, child = _start_with_child(daemons, layout)
    os.kill(child, signal.SIGKILL)
    batch = make_batch(10)
    for name, data in batch.files.items():
        drop(layout.inbox(), name, data)
    wait_for(lambda: _processed(layout, 10), 60, "the daemon itself to process the files")
    assert daemon.terminate() == 0, daemon.output()[-3000:]
    assert "the pipeline process exited" in daemon.output()


@pytest.mark.parametrize("store_kind", ["sqlite"])
def test_a_stopped_daemon_stops_its_pipeline_process(
        layout: GatewayLayout, daemons: Callable[[GatewayLayout, str], Daemon]) -> None:
    daemon, child = _start_with_child(daemons, layout)
    assert daemon.terminate() == 0, daemon.output()[-3000:]
    assert not _alive(child)
    assert "Traceback" not in daemon.output()
