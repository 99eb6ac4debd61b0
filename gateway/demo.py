"""`make demo`: run the gateway daemon on the bundled example config and show what it does.

It starts a fresh ``demo-run/`` folder, runs ``gateway run``'s loops in this process, drops the
example partner files into the watched folders the way a partner would (write, then rename), and
prints the ledger, the acknowledgments written back, the ERP documents and a trace.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
from pathlib import Path

from gateway.app import Gateway
from gateway.config import load_config
from gateway.tracing import format_trace, trace_report

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
RUN = ROOT / "demo-run"


def _drop(src: Path, folder: Path, name: str | None = None) -> None:
    """Deliver a file into a watched folder as partners do: write a temp name, then rename."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name or src.name}.part"
    tmp.write_bytes(src.read_bytes())
    tmp.rename(folder / (name or src.name))


def _wait_idle(gw: Gateway, expected_files: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = gw.store.find_files(limit=10_000)
        busy = [f for f in files if f.state in ("received", "failed")]
        pending = gw.store.find_outbox(state="pending") + gw.store.find_outbox(state="failed")
        if len(files) >= expected_files and not busy and not pending:
            return
        time.sleep(0.2)
    print("(timed out waiting for the gateway to finish)")


def main() -> int:
    """Run the demo; returns the process exit code."""
    if RUN.exists():
        shutil.rmtree(RUN)
    cfg = load_config(EXAMPLES / "gateway.toml")
    samples = EXAMPLES / "samples"
    print(f"== EDI gateway demo: config {EXAMPLES / 'gateway.toml'}, store {cfg.gateway.resolved_store_url()}")
    stop = threading.Event()
    with Gateway(cfg, worker_id="demo") as gw:
        daemon = threading.Thread(target=gw.run, args=(stop,), kwargs={"with_sftp": False}, daemon=True)
        daemon.start()
        inbox = RUN / "inbox"
        print("-- ACME Retail drops a purchase order (850), and a broken one (SE01 count wrong)")
        _drop(samples / "acme_850_po4500012345.x12", inbox / "acme-retail")
        _drop(samples / "acme_850_broken_segment_count.x12", inbox / "acme-retail")
        time.sleep(1.5)
        print("-- ACME re-sends the same purchase order under a new file name (a duplicate)")
        _drop(samples / "acme_850_po4500012345.x12", inbox / "acme-retail", "acme_850_RESEND.x12")
        print("-- Swift 3PL drops the ship notice (856) for that order")
        _drop(samples / "swift_856_asn_for_4500012345.x12", inbox / "swift-3pl")
        _wait_idle(gw, expected_files=4)
        stop.set()
        daemon.join(timeout=30)

        print("\n== ledger: files")
        for f in gw.store.find_files(limit=100):
            docs = gw.store.documents_for_file(f.id)
            summary = ", ".join(f"{d.kind} {d.business_key or ''} -> {d.state}" for d in docs) or "-"
            print(f"  {f.id}  {f.filename:<40} {f.partner_id or '-':<12} {f.state:<10} {summary}")
        print("\n== acknowledgments written back to partners (outbox folders)")
        for path in sorted((RUN / "outbox").rglob("*")):
            if path.is_file():
                print(f"  {path.relative_to(RUN)}:")
                for line in path.read_text().splitlines():
                    print(f"      {line}")
        print("\n== canonical documents delivered to the ERP (JSON folder)")
        for path in sorted((RUN / "erp").rglob("*.json")):
            doc = json.loads(path.read_text())
            d = doc["document"]
            key = d.get("po_number") or d.get("shipment_id") or d.get("invoice_number")
            lines = len(d.get("lines", [])) or sum(len(o.get("packs", [])) for o in d.get("orders", []))
            print(f"  {path.relative_to(RUN)}: {doc['kind']} {key} from {doc['partner_id']} ({lines} lines/packs)")
        print("\n== alerts recorded for ops (sent by email when SMTP is reachable)")
        for a in gw.store.pending_alerts(limit=50):
            print(f"  [{a.kind}] {a.subject}")
        po = next((d for f in gw.store.find_files(limit=100) for d in gw.store.documents_for_file(f.id)
                   if d.business_key == "4500012345" and d.state != "duplicate"), None)
        if po is not None:
            print(f"\n== gateway trace {po.id}")
            report = trace_report(gw.store, po.id)
            if report is not None:
                print(format_trace(report))
        print(f"\nTry: .venv/bin/gateway status --config {EXAMPLES / 'gateway.toml'}")
        if po is not None:
            print(f"     .venv/bin/gateway trace {po.id} --config {EXAMPLES / 'gateway.toml'}")
        print(f"     .venv/bin/gateway translate {samples}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
