"""SFTP intake benchmark: poll many small files from a real OpenSSH sshd, land them, push as many back.

Run: ``.venv/bin/python -m bench.sftp_bench [n_files] [--lander memory|store|both]``. Prints figures;
asserts nothing. ``memory`` lands into a dict (the transport alone); ``store`` lands into the
gateway's real SQLite Store (archive blob fsynced + ledger row committed per file, as in
production). Falls back to the in-process asyncssh server when /usr/sbin/sshd is missing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from gateway.store import Store
from inbox.base import Lander
from inbox.sources.sftp import SftpPoller
from outbound.senders.base import OutboundMessage
from outbound.senders.sftp import SftpSender
from partners.profile import PartnerProfile
from tests.sftp.conftest import MemoryLander, RecordingAlerter
from tests.sftp.servers import SftpTestServer, make_keypair, sshd_available, start_server

BODY = (Path(__file__).parent.parent / "tests" / "fixtures" / "sftp" / "po_850.x12").read_bytes()

LanderKind = Literal["memory", "store"]


def _intake(server: SftpTestServer, work: Path, n_files: int, kind: LanderKind) -> dict[str, float]:
    """Put ``n_files`` ready files on the server and time one poll landing them into ``kind``."""
    inbox = server.root / "inbox"
    for i in range(n_files):
        (inbox / f"po{i:05d}.x12.ready").write_bytes(BODY.replace(b"PO-4711", f"PO-{kind}-{i:05d}".encode()))
    store: Store | None = None
    lander: Lander
    if kind == "store":
        store = Store.open(f"sqlite:///{(work / kind / 'gateway.db').as_posix()}", work / kind / "archive")
        lander = store
    else:
        memory = MemoryLander()
        lander = memory
    try:
        poller = SftpPoller(PartnerProfile(id="bench"), server.transport(ready_suffix=".ready"),
                            lander, RecordingAlerter(), work / kind / "spool")
        start = time.perf_counter()
        result = poller.poll_once()
        seconds = time.perf_counter() - start
        assert result.ok, result.errors
        landed = len(store.find_files(limit=n_files + 1)) if store is not None else len(memory.landed)
    finally:
        if store is not None:
            store.close()
    left = len(list(inbox.iterdir()))
    for leftover in inbox.iterdir():
        leftover.unlink()
    return {"landed": float(landed), "left_on_server": float(left), "seconds": seconds,
            "files_per_s": landed / seconds if seconds else 0.0}


def bench_sftp_intake(n_files: int = 1000, landers: Sequence[LanderKind] = ("memory", "store")) -> dict[str, float]:
    """Poll ``n_files`` small files once per lander (ready-suffix mode), push as many back; print rates."""
    kind = "openssh" if sshd_available() else "asyncssh"
    figures: dict[str, float] = {"files": float(n_files)}
    print(f"sftp bench ({kind} sshd on loopback, {len(BODY)}-byte files)")
    with tempfile.TemporaryDirectory(prefix="sftp-bench-") as tmp:
        work = Path(tmp)
        key = make_keypair(work / "id_ed25519")
        (work / "server").mkdir()
        server = start_server(kind, work / "server", key)
        try:
            for lander in landers:
                (work / lander).mkdir()
                got = _intake(server, work, n_files, lander)
                figures.update({f"intake_{lander}_{name}": value for name, value in got.items()})
                what = ("in-memory lander" if lander == "memory"
                        else "SQLite Store: blob fsync + ledger commit per file")
                print(f"  intake, {what}: {got['landed']:.0f}/{n_files} landed, {got['left_on_server']:.0f} left "
                      f"on server, {got['seconds']:.2f}s = {got['files_per_s']:.0f} files/s "
                      "(list + download + land + delete)")

            sender = SftpSender(server.transport(remote_paths=["out"]))
            (server.root / "out").mkdir()
            start = time.perf_counter()
            for i in range(n_files):
                sender.send(OutboundMessage("bench", f"asn{i:05d}.x12", BODY, f"k{i}"))
            push = time.perf_counter() - start
            sender.close()
        finally:
            server.close()
    figures.update({"push_seconds": push, "push_files_per_s": n_files / push if push else 0.0})
    print(f"  push:   {n_files} sent in {push:.2f}s = {figures['push_files_per_s']:.0f} files/s "
          f"(stat + upload temp + stat + rename, one session)")
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: number of files and which lander(s) to measure."""
    parser = argparse.ArgumentParser(prog="python -m bench.sftp_bench")
    parser.add_argument("n_files", nargs="?", type=int, default=1000)
    parser.add_argument("--lander", choices=["memory", "store", "both"], default="both")
    args = parser.parse_args(argv)
    landers: tuple[LanderKind, ...] = ("memory", "store") if args.lander == "both" else (args.lander,)
    bench_sftp_intake(args.n_files, landers)


if __name__ == "__main__":
    main()
