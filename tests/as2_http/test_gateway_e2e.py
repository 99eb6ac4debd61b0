"""Issue 6 end to end: the daemon (Gateway.run) serves AS2 to a retailer played by pyas2lib.

The retailer sends an 850 over AS2 (signed, encrypted, sync MDN); the running gateway lands and
processes it (canonical order in the JSON sink), sends the 997 back over AS2 asking for an ASYNC
MDN, which the retailer's own HTTP server posts to our endpoint. A 3PL (folder transport) then
ships the order; the gateway routes its 856 to the retailer over AS2, again with an async MDN.
Everything is real: uvicorn on a loopback port started by Gateway.run, a SQLite store, a stdlib
HTTP server for the retailer, pyas2lib (an independent AS2 implementation) on the retailer side.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from gateway.app import Gateway
from gateway.as2_service import MDN_SYNC_KIND, MDN_WAIT_KIND
from gateway.config import GatewayConfig, load_config
from gateway.http import HttpServerError
from parsers.canonical import FunctionalAck, ShipNotice
from parsers.translate import translate_x12

from .conftest import Party, PeerServer, Received, free_port, import_pyas2lib, make_party

FIXTURES = Path(__file__).parent.parent / "fixtures" / "as2_http"
PO_850 = FIXTURES / "po_850.x12"  # THEM -> US, ISA13 000000101, GS06 101, PO-2001
THREEPL_856 = FIXTURES / "threepl_856.x12"  # FASTFREIGHT3PL -> US, shipment SHP-7001 for PO-2001
REPO = Path(__file__).resolve().parents[2]


def _toml(value: Any) -> str:
    """A TOML literal for a str/int/float/bool/list (JSON strings are valid TOML basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value) if isinstance(value, Path) else value)


def _inline(table: dict[str, Any]) -> str:
    """A TOML inline table."""
    return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in table.items()) + " }"


def write_config(root: Path, us: Party, them: Party, *, port: int, retailer_url: str,
                 http_enabled: bool = True) -> Path:
    """gateway.toml as an operator writes it: the retailer on AS2 (async MDNs for what we send), a 3PL on folders."""
    as2 = {"type": "as2", "as2_id": "THEM", "our_as2_id": "US", "their_signing_certs": [them.cert_pem],
           "their_encryption_cert": them.cert_pem, "our_key": us.key_pem, "our_cert": us.cert_pem}
    outbound = {**as2, "url": retailer_url, "mdn_mode": "async", "async_mdn_url": f"http://127.0.0.1:{port}/as2"}
    lines = [
        "[gateway]", f"data_dir = {_toml(root / 'var')}", "poll_seconds = 0.05", "retry_base_seconds = 0.2",
        "lease_seconds = 30.0", "",
        "[identity]", 'qualifier = "ZZ"', 'id = "US"', "",
        "[http]", f"enabled = {_toml(http_enabled)}", 'host = "127.0.0.1"', f"port = {port}", "",
        "[[partners]]", 'id = "retailer"', 'role = "retailer"', 'x12 = { qualifier = "ZZ", id = "THEM" }',
        f"inbound = [{_inline(as2)}]", f"outbound = {_inline(outbound)}",
        f"sinks = [{_inline({'type': 'json_folder', 'path': root / 'erp'})}]", "",
        "[[partners]]", 'id = "threepl"', 'role = "3pl"', 'x12 = { qualifier = "ZZ", id = "FASTFREIGHT3PL" }',
        f"inbound = [{_inline({'type': 'folder', 'path': root / '3pl' / 'in', 'stable_seconds': 0.1})}]",
        f"outbound = {_inline({'type': 'folder', 'path': root / '3pl' / 'out'})}",
        f"sinks = [{_inline({'type': 'json_folder', 'path': root / 'erp'})}]", "",
    ]
    (root / "3pl" / "in").mkdir(parents=True, exist_ok=True)
    path = root / "gateway.toml"
    path.write_text("\n".join(lines))
    return path


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 30.0, gw: Gateway | None = None) -> Any:
    """Poll until ``condition()`` is truthy and return it; fail after ``timeout`` s (a hang guard only),
    showing the gateway's ledger when given."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}" + (f"\n{ledger(gw)}" if gw is not None else ""))


def ledger(gw: Gateway) -> str:
    """Files, documents, outbox rows and alerts of a gateway, one line each (for failure messages)."""
    s = gw.store
    lines = [f"file {f.id} {f.transport} {f.filename} {f.partner_id} {f.state}" for f in s.find_files(limit=100)]
    lines += [f"doc {d.id} {d.direction} {d.kind} {d.business_key} {d.partner_id} {d.state}"
              for d in s.find_documents(limit=100)]
    lines += [f"outbox {r.id} {r.kind} {r.partner_id} {r.state} {r.last_error or ''}" for r in s.find_outbox()]
    lines += [f"alert {a.kind}: {a.subject}: {a.body}" for a in s.pending_alerts()]
    return "\n".join(lines)


def _raw(headers: dict[str, str], body: bytes) -> bytes:
    """HTTP headers + body the way pyas2lib's parse() takes them."""
    return "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n" + body


# --------------------------------------------------------------------------- the retailer (pyas2lib)


@dataclass
class Retailer:
    """The retailer's AS2 side: pyas2lib objects, the server we send to, what it received and answered."""

    as2lib: Any
    org: Any  # THEM, as pyas2lib's Organization
    partner: Any  # US, as pyas2lib's Partner
    server: PeerServer | None = None
    received: list[tuple[str, Any, Any]] = field(default_factory=list)  # (status, exception, message)
    mdn_posts: list[tuple[str, int]] = field(default_factory=list)  # (receipt URL, our HTTP status)

    def handle(self, req: Received) -> tuple[int, dict[str, str], bytes]:
        """Open our message with pyas2lib; answer 200 at once and POST the async MDN it asks for afterwards."""
        message = self.as2lib.Message()
        status, exception, mdn = message.parse(_raw(req.headers, req.body), find_org_cb=lambda name: self.org,
                                               find_partner_cb=lambda name: self.partner)
        self.received.append((status, exception, message))
        url = {k.lower(): v for k, v in req.headers.items()}.get("receipt-delivery-option")
        if mdn is not None and url:
            threading.Thread(target=self._post_mdn, args=(url, dict(mdn.headers), mdn.content), daemon=True).start()
            return 200, {"Content-Type": "text/plain"}, b"received; MDN follows\n"
        if mdn is not None:
            return 200, dict(mdn.headers), mdn.content
        return 200, {"Content-Type": "text/plain"}, b""

    def _post_mdn(self, url: str, headers: dict[str, str], body: bytes) -> None:
        """Deliver an async MDN to the receipt URL our message named."""
        time.sleep(0.05)  # after our POST has had its answer, as a real partner's queue would
        response = httpx.post(url, headers=headers, content=body, timeout=30)
        self.mdn_posts.append((url, response.status_code))

    def build(self, payload: bytes, filename: str) -> Any:
        """A signed + encrypted AS2 message to the gateway asking for a signed synchronous MDN."""
        message = self.as2lib.Message(self.org, self.partner)
        message.build(payload, filename=filename, content_type="application/edi-x12")
        return message

    def payloads(self) -> list[bytes]:
        """The payloads of every message pyas2lib opened successfully, in arrival order."""
        return [m.content for status, _exc, m in self.received if status == "processed"]


@pytest.fixture
def retailer(us: Party, them: Party, peer: Callable[..., PeerServer]) -> Retailer:
    """pyas2lib as the retailer THEM, with an HTTP server for the messages we send it."""
    as2lib = import_pyas2lib()
    cert = us.cert_pem.read_bytes()
    org = as2lib.Organization(as2_name="THEM", sign_key=them.pem_bundle(), decrypt_key=them.pem_bundle(),
                              domain="them.example")
    partner = as2lib.Partner(as2_name="US", verify_cert=cert, encrypt_cert=cert, validate_certs=False, sign=True,
                             encrypt=True, enc_alg="aes_256_cbc", digest_alg="sha256", mdn_mode="SYNC",
                             mdn_digest_alg="sha256")
    r = Retailer(as2lib, org, partner)
    r.server = peer(r.handle)
    return r


@dataclass
class Daemon:
    """A Gateway running its daemon loops in a thread (as `gateway run` does)."""

    gw: Gateway
    stop: threading.Event
    thread: threading.Thread
    base_url: str
    errors: list[BaseException]


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Callable[[GatewayConfig], Daemon]]:
    """Factory: start Gateway.run in a thread; stopped (and checked to stop) after the test."""
    running: list[Daemon] = []

    def start(cfg: GatewayConfig) -> Daemon:
        gw = Gateway(cfg, worker_id="e2e")
        stop = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            try:
                gw.run(stop, with_sftp=False)
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=run, name="gateway-run", daemon=True)
        thread.start()
        d = Daemon(gw, stop, thread, f"http://{cfg.http.host}:{cfg.http.port}", errors)
        running.append(d)
        return d

    yield start
    for d in running:
        d.stop.set()
        d.thread.join(timeout=60)
        assert not d.thread.is_alive(), "Gateway.run did not stop"
        d.gw.close()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _outbox_by_key(gw: Gateway) -> dict[str, Any]:
    """Every outbox row by idempotency key."""
    return {r.idempotency_key: r for r in gw.store.find_outbox(limit=10_000)}


def _mdn_wait_for(gw: Gateway, idempotency_key: str) -> Any:
    """The async-MDN expectation recorded when the outbox message with this key was sent."""
    for row in gw.store.find_outbox(kind=MDN_WAIT_KIND):
        if json.loads(gw.store.outbox_payload(row) or b"{}").get("idempotency_key") == idempotency_key:
            return row
    return None


# --------------------------------------------------------------------------- the whole flow


def test_retailer_850_over_as2_997_and_routed_856_back_with_async_mdns(
    tmp_path: Path, us: Party, them: Party, retailer: Retailer, daemon: Callable[[GatewayConfig], Daemon]
) -> None:
    assert retailer.server is not None
    port = free_port()
    cfg = load_config(write_config(tmp_path, us, them, port=port, retailer_url=retailer.server.url))
    d = daemon(cfg)
    gw = d.gw
    wait_for(lambda: _healthy(d.base_url) or d.errors, "the gateway's HTTP server")
    assert not d.errors, d.errors

    # 1. the retailer sends its 850 and gets a signed synchronous MDN that pyas2lib verifies
    po = retailer.build(PO_850.read_bytes(), "PO-2001.x12")
    response = httpx.post(d.base_url + "/as2", headers=po.headers, content=po.content, timeout=30)
    assert response.status_code == 200
    status, detail = retailer.as2lib.Mdn().parse(_raw(dict(response.headers), response.content),
                                                 lambda mid, rcpt: po)
    assert (status, detail) == ("processed", None)
    (landed,) = [f for f in gw.store.find_files() if f.transport == "as2"]
    assert landed.metadata["message_id"] == po.message_id and landed.metadata["encrypted"] == "true"
    assert [r.state for r in gw.store.find_outbox(kind=MDN_SYNC_KIND)] == ["sent"]

    # 2. the daemon processes it: the canonical order reaches the JSON sink
    def po_in_sink() -> dict[str, Any] | None:
        for path in sorted((tmp_path / "erp").glob("*.json")):
            body = json.loads(path.read_text())
            if body["kind"] == "purchase_order":
                return body
        return None

    sunk = wait_for(po_in_sink, "the purchase order in the JSON sink")
    assert sunk["partner_id"] == "retailer" and sunk["document"]["po_number"] == "PO-2001"
    assert sunk["document"]["lines"][0]["product_ids"] == [{"qualifier": "VP", "value": "SKU-1"}]

    # 3. the 997 goes back to the retailer over AS2; pyas2lib opens it; its async MDN settles our expectation
    wait_for(lambda: retailer.payloads(), "the 997 at the retailer")
    ((status, exc, ack_message),) = retailer.received
    assert status == "processed", exc
    assert ack_message.signed and ack_message.encrypted
    (ack_t,) = translate_x12(ack_message.content, name="997")
    assert ack_t.status == "accepted" and isinstance(ack_t.document, FunctionalAck)
    (group,) = ack_t.document.groups
    assert (group.functional_id_code, group.group_control_number, group.status.value) == ("PO", "101", "A")
    (ack_row,) = gw.store.find_outbox(kind="ack", limit=10)
    assert ack_row.partner_id == "retailer"
    wait_for(lambda: (r := _mdn_wait_for(gw, ack_row.idempotency_key)) is not None and r.state == "sent",
             "the async MDN for the 997")
    assert wait_for(lambda: gw.store.get_outbox(ack_row.id).state == "sent", "the 997 outbox row sent")  # type: ignore[union-attr]
    wait_row = _mdn_wait_for(gw, ack_row.idempotency_key)
    assert wait_for(lambda: retailer.mdn_posts, "the retailer to see our answer") == [
        (f"http://127.0.0.1:{port}/as2", 200)]
    settled = gw.store.history(wait_row.id)[-1]  # the MDN's disposition and MIC are on the record
    assert settled["state_to"] == "sent" and settled["detail"]["mdn"].endswith("processed"), settled
    assert settled["detail"]["signed"] is True

    # 4. a 3PL ships the order; the gateway routes its 856 to the retailer over AS2 (async MDN again)
    wait_for(lambda: any(doc.state in ("acknowledged", "delivered")
                         for doc in gw.store.find_documents(kind="purchase_order")), "the PO to be delivered")
    drop = tmp_path / "3pl" / "in" / ".SHP-7001.tmp"
    drop.write_bytes(THREEPL_856.read_bytes())
    drop.rename(drop.with_name("SHP-7001.x12"))
    wait_for(lambda: len(retailer.payloads()) >= 2, "the routed 856 at the retailer", gw=gw)
    status, exc, asn_message = retailer.received[1]
    assert status == "processed", exc
    assert asn_message.signed and asn_message.encrypted
    (asn_t,) = translate_x12(asn_message.content, name="856")
    assert asn_t.status == "accepted", asn_t.issues
    notice = asn_t.document
    assert isinstance(notice, ShipNotice)
    assert notice.shipment_id == "SHP-7001" and notice.po_numbers == ["PO-2001"]
    assert b"*ZZ*US             *ZZ*THEM           *" in asn_message.content  # from us, to the retailer
    (doc_row,) = [r for r in gw.store.find_outbox(kind="document") if r.partner_id == "retailer"]
    wait_for(lambda: (r := _mdn_wait_for(gw, doc_row.idempotency_key)) is not None and r.state == "sent",
             "the async MDN for the 856")
    wait_for(lambda: gw.store.get_outbox(doc_row.id).state == "sent", "the 856 outbox row sent")  # type: ignore[union-attr]
    wait_for(lambda: len(retailer.mdn_posts) == 2, "the retailer to see our answer to its second MDN")
    assert all(status == 200 for _url, status in retailer.mdn_posts)

    # nothing went wrong on the way: no AS2 alerts, no dead messages
    assert not [a.kind for a in gw.store.pending_alerts() if a.kind.startswith(("as2.", "mdn.", "ack.", "document."))]
    assert not gw.store.find_outbox(state="dead")


# --------------------------------------------------------------------------- the daemon's HTTP side


def test_gateway_run_cli_serves_as2_and_stops_on_sigterm(tmp_path: Path, us: Party, them: Party,
                                                         retailer: Retailer) -> None:
    """`gateway run` (a real process) answers an AS2 message with a verified sync MDN and exits 0 on SIGTERM."""
    port = free_port()
    config = write_config(tmp_path, us, them, port=port, retailer_url="http://127.0.0.1:9/as2")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "run", "--config", str(config),
                             "--log-level", "WARNING"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _healthy(base) or proc.poll() is not None, "`gateway run` to listen")
        assert proc.poll() is None, proc.communicate(timeout=10)
        po = retailer.build(PO_850.read_bytes(), "PO-2001.x12")
        response = httpx.post(base + "/as2", headers=po.headers, content=po.content, timeout=30)
        assert response.status_code == 200
        status, detail = retailer.as2lib.Mdn().parse(_raw(dict(response.headers), response.content),
                                                     lambda mid, rcpt: po)
        assert (status, detail) == ("processed", None)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, err = proc.communicate()
            pytest.fail(f"`gateway run` did not stop on SIGTERM: {err.decode(errors='replace')[-2000:]}")
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    assert b"Traceback" not in err, err.decode(errors="replace")[-2000:]


def test_address_in_use_is_a_clear_start_up_error(tmp_path: Path, us: Party, them: Party) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg = load_config(write_config(tmp_path, us, them, port=port, retailer_url="http://127.0.0.1:9/as2"))
        with Gateway(cfg, worker_id="clash") as gw:
            with pytest.raises(HttpServerError, match=re.escape(f"cannot listen on 127.0.0.1:{port}")):
                gw.run(threading.Event(), with_sftp=False)
            assert _outbox_by_key(gw) == {}  # nothing started, nothing half-done


def test_http_over_tls_when_configured(tmp_path: Path, us: Party, them: Party) -> None:
    """[http] tls_cert/tls_key: the daemon serves HTTPS; the client verifies our certificate."""
    server = make_party(tmp_path, "tls")  # reuse its key; issue a certificate valid for 127.0.0.1
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(server.key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(server.key, hashes.SHA256()))
    cert_pem = tmp_path / "tls.crt"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    port = free_port()
    path = write_config(tmp_path, us, them, port=port, retailer_url="http://127.0.0.1:9/as2")
    text = path.read_text().replace(f"port = {port}\n",
                                    f"port = {port}\ntls_cert = {_toml(cert_pem)}\ntls_key = {_toml(server.key_pem)}\n")
    path.write_text(text)
    cfg = load_config(path)
    trust = ssl.create_default_context(cafile=str(cert_pem))
    with Gateway(cfg, worker_id="tls") as gw:
        stop = threading.Event()
        thread = threading.Thread(target=gw.run, args=(stop,), kwargs={"with_sftp": False}, daemon=True)
        thread.start()
        try:
            def answered() -> httpx.Response | None:
                try:
                    return httpx.get(f"https://127.0.0.1:{port}/as2", verify=trust, timeout=2)
                except httpx.ConnectError:
                    return None

            response = wait_for(answered, "the HTTPS endpoint")
            assert response.status_code == 200 and b"AS2 endpoint" in response.content
            with pytest.raises(httpx.HTTPError):  # plain HTTP to a TLS port gets no HTTP answer
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
        finally:
            stop.set()
            thread.join(timeout=60)
        assert not thread.is_alive()


def test_bad_tls_files_are_a_clear_start_up_error(tmp_path: Path, us: Party, them: Party) -> None:
    port = free_port()
    path = write_config(tmp_path, us, them, port=port, retailer_url="http://127.0.0.1:9/as2")
    missing = tmp_path / "nope.crt"
    path.write_text(path.read_text().replace(
        f"port = {port}\n", f"port = {port}\ntls_cert = {_toml(missing)}\ntls_key = {_toml(us.key_pem)}\n"))
    gw = Gateway(load_config(path), worker_id="badtls")
    try:
        with pytest.raises(HttpServerError, match=re.escape(str(missing))):
            gw.run(threading.Event(), with_sftp=False)
    finally:
        gw.close()


def test_daemon_checks_certificates_at_start_up(tmp_path: Path, us: Party) -> None:
    """An AS2 certificate expiring within 30 days raises an alert as soon as the daemon starts (HTTP off)."""
    soon = make_party(tmp_path, "soon", not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=300), days=310)
    port = free_port()
    cfg = load_config(write_config(tmp_path, us, soon, port=port, retailer_url="http://127.0.0.1:9/as2",
                                   http_enabled=False))
    with Gateway(cfg, worker_id="certs") as gw:
        assert gw.as2 is not None  # AS2 partners configured: the service exists even with HTTP off
        stop = threading.Event()
        thread = threading.Thread(target=gw.run, args=(stop,), kwargs={"with_sftp": False}, daemon=True)
        thread.start()
        try:
            alerts = wait_for(lambda: [a for a in gw.store.pending_alerts() if a.kind == "as2.cert_expiring"],
                              "the certificate alert")
        finally:
            stop.set()
            thread.join(timeout=60)
        (alert,) = alerts
        assert "CN=soon" in alert.subject and alert.partner_id == "retailer"
        assert not _healthy(f"http://127.0.0.1:{port}")  # [http] enabled = false: nothing listens
