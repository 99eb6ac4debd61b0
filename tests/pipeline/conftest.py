"""Pipeline fixtures: a gateway.toml on each store backend, in-process gateways, and `gateway run` daemons."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.app import Gateway
from gateway.config import load_config
from gateway.store import Store

from .support import GatewayLayout, write_gateway_config

REPO = Path(__file__).resolve().parents[2]


def gateway_store_url(store_url: str) -> str:
    """The store URL for gateways under test: on PostgreSQL, commits do not wait for the server's WAL flush.

    That only matters if the PostgreSQL server itself crashes; these tests kill gateway processes, whose
    committed transactions stay committed either way. It keeps the 2,000-file runs fast on slow disks.
    """
    from sqlalchemy.engine import make_url

    url = make_url(store_url)
    if url.get_backend_name() != "postgresql":
        return store_url
    options = str(url.query.get("options", ""))
    return url.update_query_dict({"options": f"{options} -csynchronous_commit=off".strip()}).render_as_string(
        hide_password=False)


@pytest.fixture
def layout(tmp_path: Path, store_url: str) -> GatewayLayout:
    """A two-partner gateway.toml (retailer + 3PL) on the current store backend."""
    return write_gateway_config(tmp_path / "gw", gateway_store_url(store_url))


class FakeClock:
    """A clock the test moves by hand (UTC)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.current = start or dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, *, days: float = 0, seconds: float = 0) -> None:
        """Move time forward."""
        self.current += dt.timedelta(days=days, seconds=seconds)


GatewayFactory = Callable[..., Gateway]


@pytest.fixture
def open_gateway(tmp_path: Path) -> Iterator[GatewayFactory]:
    """Open in-process Gateways on a layout's config (closed at the end of the test)."""
    opened: list[Gateway] = []

    def factory(layout: GatewayLayout, **kwargs: Any) -> Gateway:
        kwargs.setdefault("worker_id", "test-worker")
        gw = Gateway(load_config(layout.config), **kwargs)
        opened.append(gw)
        return gw

    yield factory
    for gw in opened:
        gw.close()


def open_store(layout: GatewayLayout) -> Store:
    """The layout's store, opened by the test itself to look at the ledger (migrates it if new)."""
    return Store.open(layout.store_url, layout.data_dir / "archive")


class Daemon:
    """A real `gateway run --config X` subprocess; its output goes to a log file in the test's folder."""

    def __init__(self, layout: GatewayLayout, worker_id: str, log_dir: Path) -> None:
        self.layout = layout
        self.worker_id = worker_id
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        """Where the current run writes its output."""
        return self.log_dir / f"{self.worker_id}.{self.starts}.log"

    def start(self) -> None:
        """Start the daemon (a new process each time)."""
        assert self.proc is None or self.proc.poll() is not None, "daemon already running"
        self.starts += 1
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gateway.cli", "run", "--config", str(self.layout.config),
                 "--worker-id", self.worker_id, "--log-level", "WARNING"],
                cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)

    def running(self) -> bool:
        """True while the process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no chance to clean up (a crash)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM and wait for a clean stop; returns the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def output(self) -> str:
        """Everything every run of this daemon printed."""
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob(f"{self.worker_id}.*.log")))

    def stop_quietly(self) -> None:
        """Kill it if it is still running (test cleanup)."""
        if self.running():
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(timeout=30)


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Callable[[GatewayLayout, str], Daemon]]:
    """Make `gateway run` daemons; any still running at the end of the test is killed."""
    made: list[Daemon] = []

    def factory(layout: GatewayLayout, worker_id: str) -> Daemon:
        d = Daemon(layout, worker_id, tmp_path / "logs")
        made.append(d)
        return d

    yield factory
    for d in made:
        d.stop_quietly()
