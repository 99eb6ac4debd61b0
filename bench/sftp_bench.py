"""SFTP intake benchmark: poll many small files from a real OpenSSH sshd into an in-memory lander.

Run: ``.venv/bin/python -m bench.sftp_bench [n_files]``. Prints figures; asserts nothing.
Falls back to the in-process asyncssh server when /usr/sbin/sshd is missing.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from inbox.sources.sftp import SftpPoller
from outbound.senders.base import OutboundMessage
from outbound.senders.sftp import SftpSender
from partners.profile import PartnerProfile
from tests.sftp.conftest import MemoryLander, RecordingAlerter
from tests.sftp.servers import make_keypair, sshd_available, start_server

BODY = (Path(__file__).parent.parent / "tests" / "fixtures" / "sftp" / "po_850.x12").read_bytes()


def bench_sftp_intake(n_files: int = 1000) -> dict[str, float]:
    """Poll ``n_files`` small files (one poll, ready-suffix mode) and push as many back; print rates."""
    kind = "openssh" if sshd_available() else "asyncssh"
    with tempfile.TemporaryDirectory(prefix="sftp-bench-") as tmp:
        work = Path(tmp)
        key = make_keypair(work / "id_ed25519")
        (work / "server").mkdir()
        server = start_server(kind, work / "server", key)
        try:
            inbox = server.root / "inbox"
            for i in range(n_files):
                (inbox / f"po{i:05d}.x12.ready").write_bytes(BODY.replace(b"PO-4711", f"PO-{i:05d}".encode()))
            lander = MemoryLander()
            poller = SftpPoller(PartnerProfile(id="bench"), server.transport(ready_suffix=".ready"),
                                lander, RecordingAlerter(), work / "spool")
            start = time.perf_counter()
            result = poller.poll_once()
            intake = time.perf_counter() - start
            assert result.ok, result.errors
            landed = len(lander.landed)
            left = len(list(inbox.iterdir()))

            sender = SftpSender(server.transport(remote_paths=["out"]))
            (server.root / "out").mkdir()
            start = time.perf_counter()
            for i in range(n_files):
                sender.send(OutboundMessage("bench", f"asn{i:05d}.x12", BODY, f"k{i}"))
            push = time.perf_counter() - start
            sender.close()
        finally:
            server.close()
    figures = {
        "files": float(n_files), "landed": float(landed), "left_on_server": float(left),
        "intake_seconds": intake, "intake_files_per_s": landed / intake if intake else 0.0,
        "push_seconds": push, "push_files_per_s": n_files / push if push else 0.0,
    }
    print(f"sftp bench ({kind} sshd on loopback, {len(BODY)}-byte files)")
    print(f"  intake: {landed}/{n_files} landed, {left} left on server, {intake:.2f}s "
          f"= {figures['intake_files_per_s']:.0f} files/s (list + download + land + delete)")
    print(f"  push:   {n_files} sent in {push:.2f}s = {figures['push_files_per_s']:.0f} files/s "
          f"(stat + upload temp + stat + rename, one session)")
    return figures


if __name__ == "__main__":
    bench_sftp_intake(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
