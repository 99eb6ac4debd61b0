"""The pipeline in a process of its own, beside `gateway run`: parsing and validation get a CPU core.

`gateway run` lands files and sends messages in threads; those threads spend their time in system
calls (fsync, SQLite, sockets), and with the CPU-bound pipeline in the same interpreter every one
of those calls waits for the GIL. So the daemon starts this module as a child process that only
processes landed files (claims, parse, dedup, acks queued), while the parent does the rest.

Rules:
- The child shares the store with its parent (SQLite writers queue on a file lock, PostgreSQL
  locks rows) and claims under its own worker id (``<parent>/pipeline``), with leases as usual.
- It dies with its parent: Linux kills it when the parent dies (``PR_SET_PDEATHSIG``), and it
  checks its parent pid on every round in any case, so a SIGKILLed daemon leaves no orphan.
- SIGTERM/SIGINT stop it after the batch in hand (the parent sends SIGTERM when it stops).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def spawn(config_path: Path, worker_id: str, log_level: str) -> subprocess.Popen[bytes]:
    """Start the pipeline process for the gateway configured by ``config_path`` (output goes to ours)."""
    return subprocess.Popen([sys.executable, "-m", "gateway.pipeline_worker", "--config", str(config_path),
                             "--worker-id", worker_id, "--parent", str(os.getpid()), "--log-level", log_level])


def stop(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Ask the pipeline process to stop and wait for it (killed after ``timeout``)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("the pipeline process did not stop within %.0f s; killing it", timeout)
            proc.kill()
            proc.wait()


def _die_with_parent(parent: int) -> None:
    """Have Linux kill this process when its parent dies; exit now if the parent is already gone."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the parent pid check in the loop still applies
        pass
    if os.getppid() != parent:
        sys.exit(0)


def main(argv: list[str] | None = None) -> int:
    """Run the pipeline loop for one gateway configuration until stopped or orphaned."""
    parser = argparse.ArgumentParser(prog="python -m gateway.pipeline_worker")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--worker-id", required=True)
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    _die_with_parent(args.parent)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stopping = threading.Event()

    def _stop(_signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    from gateway.app import Gateway
    from gateway.config import load_config

    cfg = load_config(args.config)
    def _watch_parent() -> None:  # where PR_SET_PDEATHSIG is missing
        while not stopping.wait(1.0):
            if os.getppid() != args.parent:
                stopping.set()

    threading.Thread(target=_watch_parent, name="parent-watch", daemon=True).start()
    with Gateway(cfg, worker_id=args.worker_id, migrate=False) as gw:  # the parent migrated the store
        gw.pipeline_loop(stopping)
    return 0


if __name__ == "__main__":
    sys.exit(main())
