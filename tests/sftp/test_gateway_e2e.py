"""Issue 4 end to end: the real Gateway polls partners' SFTP folders, lands into its SQLite store,
processes, writes canonical JSON and pushes 997s back over SFTP; crashes and outages on the way.

Every test runs over both real servers (asyncssh in-process, OpenSSH sshd where installed). The
Gateway is built from a TOML file written into tmp_path, as an operator would configure it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gateway.app import Gateway
from gateway.config import GatewayConfig, load_config
from gateway.store import Store
from inbox.base import LandingReceipt, RawDocument
from inbox.sources.sftp import ConnectFailed, ConnectionLost, HostKeyRejected, SftpPoller
from outbound.senders.sftp import SftpSender
from parsers.canonical import FunctionalAck
from parsers.translate import translate_x12
from parsers.x12 import GroupStart, InterchangeStart, read_x12

from .servers import AsyncsshServer, OpenSshServer, SftpTestServer

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = Path(__file__).parent.parent / "fixtures" / "sftp"
RETAILER_850 = FIXTURES / "bigbox_850.x12"  # ISA13 000007301, GS06 7301, PO BB-900117
THREEPL_856 = FIXTURES / "fastfreight_856.x12"  # ISA13 000004402, GS06 4402, shipment FF-SHP-20250304-01

PARTNERS = {"bigbox": ("retailer", "BIGBOXSTORES"), "fastfreight": ("3pl", "FASTFREIGHT")}


# --------------------------------------------------------------------------- helpers


def _toml(value: Any) -> str:
    """A TOML literal for a str/int/float/list (JSON strings are valid TOML basic strings)."""
    return json.dumps(str(value) if isinstance(value, Path) else value)


def write_config(tmp_path: Path, server: SftpTestServer, **inbound: Any) -> GatewayConfig:
    """Write gateway.toml for the two partners, each polled in <id>/inbox and answered in <id>/out."""
    sftp = server.transport()
    common = {"host": sftp.host, "port": sftp.port, "username": sftp.username, "key_path": sftp.key_path,
              "host_key": sftp.host_key, "connect_timeout_seconds": 10.0}
    lines = [
        "[gateway]", f"data_dir = {_toml(tmp_path / 'var')}", "poll_seconds = 0.05", "retry_base_seconds = 0.2",
        "lease_seconds = 30.0", "", "[identity]", 'qualifier = "ZZ"', 'id = "EDIGATEWAY"', "",
    ]
    for partner_id, (role, isa_id) in PARTNERS.items():
        (server.root / partner_id / "inbox").mkdir(parents=True, exist_ok=True)
        (server.root / partner_id / "out").mkdir(parents=True, exist_ok=True)
        inbound_table = {**common, "remote_paths": [f"{partner_id}/inbox"], "poll_interval_seconds": 0.05,
                         **inbound}
        outbound_table = {**common, "remote_paths": [f"{partner_id}/out"]}
        lines += [
            "[[partners]]", f"id = {_toml(partner_id)}", f"role = {_toml(role)}",
            f'x12 = {{ qualifier = "ZZ", id = {_toml(isa_id)} }}',
            "inbound = [{ type = \"sftp\", " + ", ".join(f"{k} = {_toml(v)}" for k, v in inbound_table.items()) + " }]",
            "outbound = { type = \"sftp\", " + ", ".join(f"{k} = {_toml(v)}" for k, v in outbound_table.items()) + " }",
            f'sinks = [{{ type = "json_folder", path = {_toml(tmp_path / "erp")} }}]', "",
        ]
    path = tmp_path / "gateway.toml"
    path.write_text("\n".join(lines))
    return load_config(path)


def upload(server: SftpTestServer, partner_id: str, name: str, body: bytes) -> Path:
    """Drop a file in a partner's inbox on the server as the partner would (settled: mtime in the past)."""
    path = server.root / partner_id / "inbox" / name
    tmp = path.with_name(f".{name}.uploading")
    tmp.write_bytes(body)
    past = time.time() - 120
    os.utime(tmp, (past, past))
    tmp.rename(path)
    return path


def remote_names(server: SftpTestServer, partner_id: str, folder: str) -> list[str]:
    """Names in a partner's folder on the server."""
    return sorted(p.name for p in (server.root / partner_id / folder).iterdir())


def pollers_by_partner(gw: Gateway) -> dict[str, SftpPoller]:
    """The gateway's own SFTP pollers, checked to land into and alert to its Store."""
    pollers: dict[str, SftpPoller] = {}
    for poller in gw.sftp_pollers():
        assert isinstance(poller, SftpPoller)
        assert poller.lander is gw.store and poller.alerter is gw.store
        pollers[poller.profile.id] = poller
    assert sorted(pollers) == sorted(PARTNERS)
    return pollers


def sftp_file_rows(store: Store, partner_id: str | None = None) -> list[Any]:
    """Ledger rows of files that came in over SFTP (for one partner's hint, or all)."""
    rows = [f for f in store.find_files(limit=10_000) if f.transport == "sftp"]
    return [f for f in rows if partner_id is None or f.partner_hint == partner_id]


def read_997(body: bytes) -> tuple[InterchangeStart, list[GroupStart], FunctionalAck]:
    """Parse a 997 file with parsers.x12: its ISA, its GS headers and the canonical ack."""
    events = read_x12(body)
    isa = [e for e in events if isinstance(e, InterchangeStart)]
    groups = [e for e in events if isinstance(e, GroupStart)]
    translations = list(translate_x12(body, name="997"))
    assert len(isa) == 1 and [t.kind for t in translations] == ["functional_ack"], translations
    assert translations[0].status == "accepted", translations[0].issues
    ack = translations[0].document
    assert isinstance(ack, FunctionalAck) and ack.ack_type == "997"
    return isa[0], groups, ack


def big_850(po_number: str, n_lines: int) -> bytes:
    """A valid 850 with ``n_lines`` PO1/PID pairs (several hundred KB): big enough to drop mid-download."""
    lines = [f"PO1*{i}*{i % 90 + 1}*EA*1.25**VN*SKU-{i:06d}~\nPID*F****ITEM NUMBER {i:06d}~"
             for i in range(1, n_lines + 1)]
    body = "\n".join([
        "ISA*00*          *00*          *ZZ*BIGBOXSTORES   *ZZ*EDIGATEWAY     *250305*0900*U*00401*000007302*0*P*>~",
        "GS*PO*BIGBOXSTORES*EDIGATEWAY*20250305*0900*7302*X*004010~", "ST*850*0001~",
        f"BEG*00*SA*{po_number}**20250305~", *lines, f"CTT*{n_lines}~", f"SE*{2 * n_lines + 4}*0001~",
        "GE*1*7302~", "IEA*1*000007302~", "",
    ])
    return body.encode()


@dataclass
class LandingSeen:
    """What was true at one Store.land call: was the remote file still there, was the blob archived."""

    remote_path: str
    remote_before: bool
    remote_after: bool
    archived_after: bool
    spool_after: bool
    receipt: LandingReceipt


class WatchedStore:
    """The gateway's Store as the poller's Lander, observed from outside (it changes nothing)."""

    def __init__(self, store: Store, server: SftpTestServer) -> None:
        self.store = store
        self.server = server
        self.seen: list[LandingSeen] = []

    def land(self, raw: RawDocument) -> LandingReceipt:
        """Record the server and archive state around the real Store.land."""
        remote = self.server.root / raw.metadata["remote_path"]
        before = remote.exists()
        receipt = self.store.land(raw)
        assert raw.body_path is not None
        self.seen.append(LandingSeen(raw.metadata["remote_path"], before, remote.exists(),
                                     self.store.archive.exists(receipt.sha256), raw.body_path.exists(), receipt))
        return receipt


class SimulatedCrash(BaseException):
    """Stands for kill -9: not an Exception, so nothing in the poller catches it."""


class CrashAfterLanding:
    """A Lander that commits through the real Store and then 'dies' before the poller can delete."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.receipts: list[LandingReceipt] = []

    def land(self, raw: RawDocument) -> LandingReceipt:
        """Land for real, then crash."""
        self.receipts.append(self.store.land(raw))
        raise SimulatedCrash(f"process killed after landing {raw.transport_id}")


def wait_for(condition: Any, timeout: float = 30.0, what: str = "condition", state: Any = None) -> None:
    """Poll ``condition()`` until true; fail after ``timeout`` seconds (a hang guard, not a speed check),
    saying what ``state()`` was then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}; {state() if state is not None else ''}")


def describe(gw: Gateway) -> str:
    """The ledger, outbox and alerts in one line each (for a failure message)."""
    files = [(f.filename, f.state, f.last_error) for f in gw.store.find_files()]
    outbox = [(o.kind, o.state, o.last_error) for o in gw.store.find_outbox()]
    alerts = [(a.kind, a.subject) for a in gw.store.pending_alerts()]
    return f"files={files} outbox={outbox} alerts={alerts}"


# --------------------------------------------------------------------------- the whole flow


def test_partners_upload_gateway_lands_processes_and_pushes_997s(server: SftpTestServer, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, server)
    po, asn = RETAILER_850.read_bytes(), THREEPL_856.read_bytes()
    upload(server, "bigbox", "PO_BB-900117.edi", po)
    upload(server, "fastfreight", "ASN_FF-SHP-20250304-01.edi", asn)

    with Gateway(cfg, worker_id="e2e") as gw:
        pollers = pollers_by_partner(gw)
        watched = WatchedStore(gw.store, server)
        for poller in pollers.values():
            poller.lander = watched
        first = {pid: p.poll_once() for pid, p in pollers.items()}  # sees the files: not yet known stable
        assert all(r.ok and not r.landed for r in first.values()), first
        assert remote_names(server, "bigbox", "inbox") == ["PO_BB-900117.edi"]
        second = {pid: p.poll_once() for pid, p in pollers.items()}
        for pid, result in second.items():
            assert result.ok and not result.errors, result
            assert [(f.acknowledged, f.receipt.already_landed) for f in result.landed] == [(True, False)], pid

        # Landed before deleted: while Store.land ran the file was on the server; when it returned the
        # bytes were archived (the poller's spool copy still existed, so nothing hinged on it).
        assert sorted(s.remote_path for s in watched.seen) == [
            "bigbox/inbox/PO_BB-900117.edi", "fastfreight/inbox/ASN_FF-SHP-20250304-01.edi"]
        assert all(s.remote_before and s.remote_after and s.archived_after and s.spool_after for s in watched.seen)
        assert remote_names(server, "bigbox", "inbox") == [] and remote_names(server, "fastfreight", "inbox") == []
        assert list((cfg.gateway.data_dir / "spool" / "sftp").iterdir()) == []
        by_partner = {pid: sftp_file_rows(gw.store, pid) for pid in PARTNERS}
        assert [len(rows) for rows in by_partner.values()] == [1, 1]
        assert gw.store.archive.read(by_partner["bigbox"][0].sha256) == po
        assert gw.store.archive.read(by_partner["fastfreight"][0].sha256) == asn
        assert by_partner["bigbox"][0].metadata["remote_path"] == "bigbox/inbox/PO_BB-900117.edi"

        processed = gw.drain()
        assert processed == 2
        files = sftp_file_rows(gw.store)
        assert {(f.partner_id, f.state) for f in files} == {("bigbox", "processed"), ("fastfreight", "processed")}
        docs = {d.partner_id: d for d in gw.store.find_documents(direction="in")}
        assert (docs["bigbox"].kind, docs["bigbox"].business_key) == ("purchase_order", "BB-900117")
        assert (docs["fastfreight"].kind, docs["fastfreight"].business_key) == ("ship_notice", "FF-SHP-20250304-01")
        assert {d.state for d in docs.values()} == {"delivered"}
        assert gw.store.find_outbox(state="pending") == [] and gw.store.find_outbox(state="failed") == []

    # Canonical JSON in the ERP folder.
    erp_docs = [json.loads(p.read_text()) for p in (tmp_path / "erp").glob("*.json")]
    erp = {doc["partner_id"]: doc for doc in erp_docs}
    assert len(erp_docs) == 2
    assert erp["bigbox"]["kind"] == "purchase_order" and erp["bigbox"]["document"]["po_number"] == "BB-900117"
    assert [(line["quantity"], line["unit_of_measure"]) for line in erp["bigbox"]["document"]["lines"]] == [
        ("48", "EA"), ("10", "CA")]
    assert erp["fastfreight"]["kind"] == "ship_notice"
    asn_doc = erp["fastfreight"]["document"]
    assert asn_doc["shipment_id"] == "FF-SHP-20250304-01" and asn_doc["orders"][0]["po_number"] == "BB-900117"
    assert asn_doc["orders"][0]["packs"][0]["sscc"] == "000123450000000017"

    # One 997 in each partner's SFTP out folder, acknowledging exactly the group that partner sent.
    sent = {"bigbox": ("BIGBOXSTORES", "PO", "7301"), "fastfreight": ("FASTFREIGHT", "SH", "4402")}
    for pid, (isa_id, functional_id, gs06) in sent.items():
        names = remote_names(server, pid, "out")
        assert len(names) == 1 and names[0].startswith(f"{pid}_997_") and names[0].endswith(".x12"), names
        isa, groups, ack = read_997((server.root / pid / "out" / names[0]).read_bytes())
        assert (isa.sender_id, isa.receiver_id) == ("EDIGATEWAY", isa_id)
        assert [g.functional_id_code for g in groups] == ["FA"]
        assert [(g.functional_id_code, g.group_control_number, g.status.value) for g in ack.groups] == [
            (functional_id, gs06, "A")]


def test_daemon_threads_poll_process_and_answer_by_themselves(server: SftpTestServer, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, server)
    upload(server, "bigbox", "po.edi", RETAILER_850.read_bytes())
    upload(server, "fastfreight", "asn.edi", THREEPL_856.read_bytes())
    stop = threading.Event()
    with Gateway(cfg, worker_id="daemon") as gw:
        daemon = threading.Thread(target=gw.run, args=(stop,), name="gateway-daemon", daemon=True)
        daemon.start()
        try:
            wait_for(lambda: all(remote_names(server, pid, "out") for pid in PARTNERS), what="997s on the server",
                     state=lambda: describe(gw))
            wait_for(lambda: len(list((tmp_path / "erp").glob("*.json"))) == 2, what="canonical JSON",
                     state=lambda: describe(gw))
        finally:
            stop.set()
            daemon.join(60)
        assert not daemon.is_alive()
        assert [len(sftp_file_rows(gw.store, pid)) for pid in PARTNERS] == [1, 1]
        assert {d.state for d in gw.store.find_documents(direction="in")} == {"delivered"}
    for pid in PARTNERS:
        assert remote_names(server, pid, "inbox") == []
        (name,) = remote_names(server, pid, "out")
        _, _, ack = read_997((server.root / pid / "out" / name).read_bytes())
        assert ack.groups[0].group_control_number == {"bigbox": "7301", "fastfreight": "4402"}[pid]


# --------------------------------------------------------------------------- crash and restart


def test_connection_dropped_mid_download_then_restart_lands_once(server: SftpTestServer, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, server)
    body = big_850("BB-BIG-1", 6000)
    assert len(body) > 300 * 1024
    upload(server, "bigbox", "big_po.edi", body)
    dropped: list[int] = []

    def drop(path: str, done: int, total: int) -> None:
        if done > 128 * 1024 and not dropped:
            assert isinstance(server, OpenSshServer)
            dropped.append(server.drop_connections())

    with Gateway(cfg, worker_id="before-crash") as gw:
        poller = pollers_by_partner(gw)["bigbox"]
        assert poller.poll_once().ok  # first sight: not yet stable
        if isinstance(server, AsyncsshServer):
            server.faults.abort_read_after = 256 * 1024
        else:
            poller.progress = drop
        result = poller.poll_once()
        assert isinstance(result.failure, ConnectionLost), result
        assert sftp_file_rows(gw.store) == [] and gw.store.pending_alerts() == []  # one failure: no alert yet
        assert list((cfg.gateway.data_dir / "spool" / "sftp").iterdir()) == []  # partial download discarded
        assert (server.root / "bigbox" / "inbox" / "big_po.edi").read_bytes() == body
    if isinstance(server, AsyncsshServer):
        server.faults.abort_read_after = None
    else:
        assert dropped and dropped[0] >= 1

    with Gateway(cfg, worker_id="after-restart") as gw:  # a new process: new store object, new pollers
        poller = pollers_by_partner(gw)["bigbox"]
        results = [poller.poll_once(), poller.poll_once(), poller.poll_once()]
        assert all(r.ok for r in results), results
        assert [len(r.landed) for r in results] == [0, 1, 0]
        (row,) = sftp_file_rows(gw.store)
        assert gw.store.archive.read(row.sha256) == body
        assert remote_names(server, "bigbox", "inbox") == []
        assert gw.drain() == 1
        (doc,) = gw.store.find_documents(direction="in")
        assert (doc.business_key, doc.state) == ("BB-BIG-1", "delivered")
    assert len(remote_names(server, "bigbox", "out")) == 1


def test_crash_after_landing_before_remote_delete(server: SftpTestServer, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, server)
    po = RETAILER_850.read_bytes()
    upload(server, "bigbox", "po.edi", po)

    with Gateway(cfg, worker_id="doomed") as gw:
        poller = pollers_by_partner(gw)["bigbox"]
        crashing = CrashAfterLanding(gw.store)
        poller.lander = crashing
        assert poller.poll_once().ok
        with pytest.raises(SimulatedCrash):
            poller.poll_once()
        assert [r.already_landed for r in crashing.receipts] == [False]
        (row,) = sftp_file_rows(gw.store)
        assert remote_names(server, "bigbox", "inbox") == ["po.edi"]  # landed, never deleted

    with Gateway(cfg, worker_id="reborn") as gw:
        poller = pollers_by_partner(gw)["bigbox"]
        assert poller.poll_once().landed == []  # fresh memory: first sight again
        result = poller.poll_once()
        assert result.ok and not result.errors, result
        (landed,) = result.landed
        assert landed.receipt.already_landed and landed.acknowledged
        assert landed.receipt.file_id == row.id
        assert remote_names(server, "bigbox", "inbox") == []
        assert [f.id for f in sftp_file_rows(gw.store)] == [row.id]
        assert gw.drain() == 1
        assert [d.business_key for d in gw.store.find_documents(direction="in")] == ["BB-900117"]
        assert len(gw.store.find_outbox(kind="ack")) == 1
    assert len(remote_names(server, "bigbox", "out")) == 1


KILLED_AFTER_LANDING = """
import os, signal, sys
from pathlib import Path
from gateway.app import Gateway
from gateway.config import load_config


class KillAfterLanding:
    def __init__(self, store):
        self.store = store

    def land(self, raw):
        receipt = self.store.land(raw)
        print(receipt.file_id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)


gw = Gateway(load_config(Path(sys.argv[1])), worker_id="killed")
(poller,) = [p for p in gw.sftp_pollers() if p.profile.id == "bigbox"]
poller.lander = KillAfterLanding(gw.store)
poller.poll_once()
poller.poll_once()
print("survived", flush=True)
"""


def test_kill_9_after_landing_then_restart_deletes_without_landing_again(server: SftpTestServer,
                                                                        tmp_path: Path) -> None:
    cfg = write_config(tmp_path, server)
    assert cfg.source_path is not None
    upload(server, "bigbox", "po.edi", RETAILER_850.read_bytes())
    proc = subprocess.run([sys.executable, "-c", KILLED_AFTER_LANDING, str(cfg.source_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "survived" not in proc.stdout
    file_id = proc.stdout.split()[0]
    assert remote_names(server, "bigbox", "inbox") == ["po.edi"]

    with Gateway(cfg, worker_id="after-kill") as gw:
        assert [f.id for f in sftp_file_rows(gw.store)] == [file_id]
        poller = pollers_by_partner(gw)["bigbox"]
        poller.poll_once()
        (landed,) = poller.poll_once().landed
        assert landed.receipt.already_landed and landed.acknowledged and landed.receipt.file_id == file_id
        assert remote_names(server, "bigbox", "inbox") == []
        assert [f.id for f in sftp_file_rows(gw.store)] == [file_id]
        assert gw.drain() == 1
    assert len(remote_names(server, "bigbox", "out")) == 1


def test_new_file_under_a_reused_name_size_and_mtime_is_landed_not_deleted(server: SftpTestServer,
                                                                          tmp_path: Path) -> None:
    """A partner re-using one file name, with the same size and mtime (``put -p``, coarse clocks),
    must not have its new file taken for the old one and deleted unlanded."""
    cfg = write_config(tmp_path, server)
    first = RETAILER_850.read_bytes()
    second = first.replace(b"BB-900117", b"BB-900118").replace(b"7301", b"7303")
    assert len(second) == len(first) and second != first
    mtime = upload(server, "bigbox", "orders.edi", first).stat().st_mtime
    with Gateway(cfg, worker_id="reused-name") as gw:
        poller = pollers_by_partner(gw)["bigbox"]
        poller.poll_once()
        assert len(poller.poll_once().landed) == 1
        os.utime(upload(server, "bigbox", "orders.edi", second), (mtime, mtime))
        poller.poll_once()
        (landed,) = poller.poll_once().landed
        assert not landed.receipt.already_landed and landed.acknowledged
        rows = sftp_file_rows(gw.store)
        assert sorted(gw.store.archive.read(f.sha256) for f in rows) == sorted([first, second])
        assert gw.drain() == 2
        assert sorted(d.business_key for d in gw.store.find_documents(direction="in")) == ["BB-900117", "BB-900118"]


# --------------------------------------------------------------------------- outages


def test_unreachable_server_backs_off_and_alerts_once_in_the_store(server: SftpTestServer, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, server, poll_interval_seconds=5.0, failures_before_alert=3)
    upload(server, "fastfreight", "asn.edi", THREEPL_856.read_bytes())
    server.stop()
    with Gateway(cfg, worker_id="outage") as gw:
        poller = pollers_by_partner(gw)["fastfreight"]
        delays = []
        for _ in range(5):
            assert isinstance(poller.poll_once().failure, ConnectFailed)
            delays.append(poller.next_delay())
        assert delays == [10.0, 20.0, 40.0, 80.0, 160.0]
        alerts = [a for a in gw.store.pending_alerts() if a.kind.startswith("sftp.")]
        assert [(a.kind, a.partner_id, a.repeats) for a in alerts] == [("sftp.unreachable", "fastfreight", 1)]
        assert "3 consecutive" in alerts[0].body and f"127.0.0.1:{server.port}" in alerts[0].subject

    with Gateway(cfg, worker_id="outage-restarted") as gw:  # a restart while still down: same open alert
        poller = pollers_by_partner(gw)["fastfreight"]
        for _ in range(3):
            poller.poll_once()
        alerts = [a for a in gw.store.pending_alerts() if a.kind.startswith("sftp.")]
        assert [(a.kind, a.repeats) for a in alerts] == [("sftp.unreachable", 2)]
        server.start()
        results = [poller.poll_once(), poller.poll_once()]
        assert [len(r.landed) for r in results] == [0, 1] and poller.next_delay() == 5.0
        assert len(sftp_file_rows(gw.store)) == 1


def test_changed_host_key_alerts_at_once_and_lands_nothing(server: SftpTestServer, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, server)
    upload(server, "bigbox", "po.edi", RETAILER_850.read_bytes())
    server.restart(new_host_key=True)
    with Gateway(cfg, worker_id="mitm") as gw:
        poller = pollers_by_partner(gw)["bigbox"]
        results = [poller.poll_once() for _ in range(3)]
        assert all(isinstance(r.failure, HostKeyRejected) for r in results)
        alerts = [a for a in gw.store.pending_alerts() if a.kind.startswith("sftp.")]
        assert [(a.kind, a.partner_id) for a in alerts] == [("sftp.host_key_rejected", "bigbox")]
        assert "CHANGED" in alerts[0].body
        assert sftp_file_rows(gw.store) == []
    assert remote_names(server, "bigbox", "inbox") == ["po.edi"]


def test_997_push_retries_when_partner_server_is_down(server: SftpTestServer, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, server)
    upload(server, "bigbox", "po.edi", RETAILER_850.read_bytes())
    now = [dt.datetime.now(dt.UTC)]
    with Gateway(cfg, worker_id="push", clock=lambda: now[0]) as gw:
        poller = pollers_by_partner(gw)["bigbox"]
        poller.poll_once()
        assert len(poller.poll_once().landed) == 1
        server.stop()
        gw.drain()
        (ack_row,) = gw.store.find_outbox(kind="ack")
        assert ack_row.state == "failed" and "cannot connect" in (ack_row.last_error or "")
        assert isinstance(gw.delivery._senders["bigbox"], SftpSender)
        assert gw.delivery.run_once() == 0  # backing off: not due yet
        server.start()
        now[0] += dt.timedelta(seconds=60)
        gw.drain()
        assert gw.store.get_outbox(ack_row.id).state == "sent"  # type: ignore[union-attr]
    (name,) = remote_names(server, "bigbox", "out")
    _, _, ack = read_997((server.root / "bigbox" / "out" / name).read_bytes())
    assert ack.groups[0].group_control_number == "7301"

