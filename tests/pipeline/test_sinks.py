"""Sinks: the JSON folder is written atomically, one file per document; webhooks get an Idempotency-Key,
are retried with backoff, go dead with an alert; one partner's failing webhook never holds up another's."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gateway.app import Gateway

from .conftest import FakeClock, GatewayFactory, gateway_store_url
from .support import (
    RETAILER,
    THREEPL,
    THREEPL_ID,
    interchange_850,
    land_bytes,
    purchase_order,
    sink_documents,
    write_gateway_config,
)


@dataclass
class Hit:
    """One request the ERP webhook received."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Erp:
    """A real local HTTP server standing in for the ERP: answers each path from a script of status codes."""

    url: str
    scripts: dict[str, list[int]] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str) -> int:
        """The next status for ``path`` (the last one repeats; 200 when unscripted)."""
        with self.lock:
            script = self.scripts.get(path, [200])
            return script.pop(0) if len(script) > 1 else script[0]

    def at(self, path: str) -> list[Hit]:
        """Requests made to ``path``."""
        with self.lock:
            return [h for h in self.hits if h.path == path]


@pytest.fixture
def erp() -> Iterator[Erp]:
    """Start the ERP webhook server on a free loopback port."""
    state: dict[str, Erp] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            server = state["erp"]
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with server.lock:
                server.hits.append(Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status = server.answer(self.path)
            payload = b'{"ok": true}' if status < 300 else b'{"error": "ERP is having a bad day"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["erp"] = Erp(f"http://127.0.0.1:{httpd.server_address[1]}")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state["erp"]
    httpd.shutdown()
    httpd.server_close()


def _outbox_retry_gaps(gw: Gateway, outbox_id: str) -> list[float]:
    """Seconds between each failure and the retry time it set (from the ledger's events)."""
    gaps = []
    for e in gw.store.history(outbox_id):
        if e["state_to"] == "failed":
            retry_at = dt.datetime.fromisoformat(e["detail"]["retry_at"])
            at = e["at"] if e["at"].tzinfo else e["at"].replace(tzinfo=dt.UTC)
            gaps.append(round((retry_at - at).total_seconds(), 3))
    return gaps


def test_json_folder_sink_is_atomic_with_one_file_per_document(
        tmp_path: Path, store_url: str, open_gateway: GatewayFactory) -> None:
    layout = write_gateway_config(tmp_path / "gw", gateway_store_url(store_url))
    gw = open_gateway(layout)
    for i in range(60):
        land_bytes(gw, f"po{i}.x12", interchange_850(100 + i, [[purchase_order(f"PO-{i:03d}", lines=40)]]))
    layout.erp.mkdir(parents=True)
    stop = threading.Event()
    torn: list[str] = []
    seen: set[str] = set()

    def reader() -> None:  # an ERP import job polling the folder while the gateway writes into it
        while not stop.is_set():
            for name in os.listdir(layout.erp):
                if name.startswith(".") or not name.endswith(".json"):
                    continue
                try:
                    json.loads((layout.erp / name).read_bytes())
                    seen.add(name)
                except FileNotFoundError:
                    continue
                except ValueError:
                    torn.append(name)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        gw.drain()
    finally:
        stop.set()
        thread.join(timeout=10)
    assert torn == [], f"the reader saw partial files: {torn[:3]}"
    assert seen, "the reader never saw a file (the test would prove nothing)"
    docs = gw.store.find_documents(partner_id=RETAILER)
    assert sorted(os.listdir(layout.erp)) == sorted(f"{d.id}.json" for d in docs)  # no temp files left
    for d in sink_documents(layout.erp):
        assert (layout.erp / f"{d['document_id']}.json").exists()
        assert d["partner_id"] == RETAILER and d["kind"] == "purchase_order" and len(d["document"]["lines"]) == 40
    # Sending again (a crash between writing and recording) rewrites the same name: still one file each.
    for m in gw.store.find_outbox(kind="sink"):
        from gateway.delivery import deliver_to_sink

        deliver_to_sink(json.loads(m.destination), m, (layout.erp / f"{m.document_id}.json").read_bytes())
    assert len(os.listdir(layout.erp)) == len(docs) == 60


def _webhook_layout(tmp_path: Path, store_url: str, erp: Erp, *, retailer_url: str,
                    retailer_attempts: int = 5) -> Any:
    return write_gateway_config(
        tmp_path / "gw", gateway_store_url(store_url), gateway={"retry_base_seconds": 0.5},
        retailer={"sinks": [{"type": "webhook", "url": retailer_url, "max_attempts": retailer_attempts}]},
        threepl={"sinks": [{"type": "webhook", "url": f"{erp.url}/threepl"}]})


def test_webhook_posts_with_idempotency_key_and_retries_with_backoff_on_500(
        tmp_path: Path, store_url: str, erp: Erp, open_gateway: GatewayFactory) -> None:
    erp.scripts["/retailer"] = [500, 503, 200]
    layout = _webhook_layout(tmp_path, store_url, erp, retailer_url=f"{erp.url}/retailer")
    clock = FakeClock()
    gw = open_gateway(layout, clock=clock)
    land_bytes(gw, "po.x12", interchange_850(200, [[purchase_order("PO-HOOK")]]))
    gw.drain()
    [doc] = gw.store.find_documents(partner_id=RETAILER)
    [msg] = gw.store.find_outbox(kind="sink")
    assert (msg.state, msg.attempts, doc.state) == ("failed", 1, "acknowledged")
    assert gw.delivery.run_once() == 0  # not due before its retry time
    clock.advance(seconds=0.5)
    assert gw.delivery.run_once() == 1  # second attempt: 503
    clock.advance(seconds=0.99)
    assert gw.delivery.run_once() == 0  # backoff doubled: 1.0 s now
    clock.advance(seconds=0.01)
    assert gw.delivery.run_once() == 1  # third attempt: 200

    msg = gw.store.get_outbox(msg.id)
    assert (msg.state, msg.attempts) == ("sent", 3)
    assert gw.store.get_document(doc.id).state == "delivered"
    assert _outbox_retry_gaps(gw, msg.id) == [0.5, 1.0]
    hits = erp.at("/retailer")
    assert len(hits) == 3
    assert {h.headers["idempotency-key"] for h in hits} == {f"sink:{doc.id}:0"}
    assert {h.headers["x-gateway-document-id"] for h in hits} == {doc.id}
    assert len({h.body for h in hits}) == 1
    body = json.loads(hits[0].body)
    assert body["document_id"] == doc.id and body["document"]["po_number"] == "PO-HOOK"


def test_webhook_goes_dead_after_max_attempts_with_an_alert(
        tmp_path: Path, store_url: str, erp: Erp, open_gateway: GatewayFactory) -> None:
    erp.scripts["/retailer"] = [500]
    layout = _webhook_layout(tmp_path, store_url, erp, retailer_url=f"{erp.url}/retailer", retailer_attempts=3)
    clock = FakeClock()
    gw = open_gateway(layout, clock=clock)
    land_bytes(gw, "po.x12", interchange_850(300, [[purchase_order("PO-DEAD")]]))
    gw.drain()
    for _ in range(5):
        clock.advance(seconds=60)
        gw.delivery.run_once()
    [msg] = gw.store.find_outbox(kind="sink")
    assert (msg.state, msg.attempts) == ("dead", 3)
    assert len(erp.at("/retailer")) == 3
    [alert] = [a for a in gw.store.pending_alerts() if a.kind == "sink.dead"]
    assert alert.partner_id == RETAILER and "3 attempt" in alert.subject and "500" in alert.body
    [doc] = gw.store.find_documents(partner_id=RETAILER)
    assert doc.state == "acknowledged"  # not delivered: replay it once the ERP is fixed


def test_webhook_client_error_is_dead_at_once(
        tmp_path: Path, store_url: str, erp: Erp, open_gateway: GatewayFactory) -> None:
    erp.scripts["/retailer"] = [422]
    layout = _webhook_layout(tmp_path, store_url, erp, retailer_url=f"{erp.url}/retailer")
    gw = open_gateway(layout, clock=FakeClock())
    land_bytes(gw, "po.x12", interchange_850(400, [[purchase_order("PO-422")]]))
    gw.drain()
    [msg] = gw.store.find_outbox(kind="sink")
    assert (msg.state, msg.attempts) == ("dead", 1)
    assert "422" in (msg.last_error or "")


@pytest.mark.parametrize("failure", ["http_500", "connection_refused"])
def test_a_failing_partner_webhook_never_holds_up_another_partners_deliveries(
        tmp_path: Path, store_url: str, erp: Erp, open_gateway: GatewayFactory, failure: str, store_kind: str,
        request: pytest.FixtureRequest) -> None:
    if failure == "http_500":
        erp.scripts["/retailer"] = [500]
        retailer_url = f"{erp.url}/retailer"
    else:
        import socket

        with socket.socket() as s:  # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            retailer_url = f"http://127.0.0.1:{s.getsockname()[1]}/retailer"
    layout = _webhook_layout(tmp_path, store_url, erp, retailer_url=retailer_url, retailer_attempts=50)
    clock = FakeClock()
    gw = open_gateway(layout, clock=clock)
    for i in range(30):  # a backlog of retailer documents whose webhook fails ...
        land_bytes(gw, f"r{i}.x12", interchange_850(500 + i, [[purchase_order(f"PO-R{i}")]]))
    for i in range(3):  # ... queued before the 3PL's
        land_bytes(gw, f"t{i}.x12", interchange_850(600 + i, [[purchase_order(f"PO-T{i}")]], sender=THREEPL_ID),
                   partner=THREEPL)
    gw.drain()
    for _ in range(3):
        clock.advance(seconds=120)
        gw.drain()
    assert sorted(json.loads(h.body)["document"]["po_number"] for h in erp.at("/threepl")) == [
        "PO-T0", "PO-T1", "PO-T2"]
    assert {d.state for d in gw.store.find_documents(partner_id=THREEPL)} == {"delivered"}
    assert {d.state for d in gw.store.find_documents(partner_id=RETAILER)} == {"acknowledged"}
    retailer_msgs = [m for m in gw.store.find_outbox(kind="sink") if m.partner_id == RETAILER]
    assert len(retailer_msgs) == 30 and {m.state for m in retailer_msgs} == {"failed"}
    assert all(m.attempts == 4 for m in retailer_msgs)
    # acks to the retailer's folder are a different transport: they were sent all the same
    assert {m.state for m in gw.store.find_outbox(kind="ack")} == {"sent"}


@pytest.mark.parametrize("store_kind", ["sqlite"])  # the delivery loop's order, not the store, is under test
def test_a_hanging_partner_webhook_does_not_hold_up_another_partners_deliveries(
        tmp_path: Path, store_url: str, store_kind: str, erp: Erp, open_gateway: GatewayFactory) -> None:
    import socket

    import httpx

    hung: list[socket.socket] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    arrivals: list[str] = []

    def accept_and_say_nothing() -> None:  # an ERP endpoint that takes the connection and never answers
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            hung.append(conn)
            arrivals.append("retailer")

    threading.Thread(target=accept_and_say_nothing, daemon=True).start()
    layout = _webhook_layout(tmp_path, store_url, erp, retailer_url=f"http://127.0.0.1:{listener.getsockname()[1]}/r")
    gw = open_gateway(layout, clock=FakeClock())
    gw.delivery.http = httpx.Client(timeout=1.0)
    try:
        for i in range(4):
            land_bytes(gw, f"r{i}.x12", interchange_850(700 + i, [[purchase_order(f"PO-H{i}")]]))
        land_bytes(gw, "t.x12", interchange_850(800, [[purchase_order("PO-T")]], sender=THREEPL_ID), partner=THREEPL)
        gw.pipeline.process_batch()
        original_answer = erp.answer

        def answer(path: str) -> int:
            arrivals.append("threepl")
            return original_answer(path)

        erp.answer = answer  # type: ignore[method-assign]
        gw.delivery.run_once()
    finally:
        listener.close()
        for conn in hung:
            conn.close()
        gw.delivery.http.close()
    assert "threepl" in arrivals
    # The 3PL's document must not wait behind every one of the retailer's hanging requests.
    assert arrivals.index("threepl") < len([a for a in arrivals if a == "retailer"])
