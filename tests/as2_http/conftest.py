"""Fixtures for AS2 over HTTP: throwaway key pairs, a gateway under uvicorn on loopback, peers.

Every server here is real: the gateway's Starlette app runs under uvicorn on a free loopback port
in a background thread; peers (receipt URLs, a pyas2lib partner) are stdlib HTTP servers.
"""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from as2_keys import Party, make_party

from gateway.as2_service import As2Service
from gateway.config import GatewayConfig, GatewaySettings
from gateway.http import HttpContext, create_app
from gateway.store import Store
from partners.profile import As2Transport, PartnerProfile

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
PAYLOAD = (Path(__file__).parent.parent / "fixtures" / "as2_http" / "po_850.x12").read_bytes()


# ---------------------------------------------------------------------- keys


@pytest.fixture(scope="session")
def keydir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This session's key folder (never committed)."""
    return tmp_path_factory.mktemp("as2http-keys")


@pytest.fixture(scope="session")
def us(keydir: Path) -> Party:
    """The gateway's key pair (AS2 id US)."""
    return make_party(keydir, "us")


@pytest.fixture(scope="session")
def them(keydir: Path) -> Party:
    """The partner's key pair (AS2 id THEM)."""
    return make_party(keydir, "them")


@pytest.fixture(scope="session")
def stranger(keydir: Path) -> Party:
    """A key pair nobody configured."""
    return make_party(keydir, "stranger")


# ---------------------------------------------------------------------- openssl


def openssl(*args: str | Path, input: bytes | None = None) -> bytes:
    """Run ``openssl``; stdout, or an AssertionError with its stderr."""
    if not Path(OPENSSL).exists():
        pytest.skip("openssl command line not installed")
    proc = subprocess.run([OPENSSL, *map(str, args)], input=input, capture_output=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError(f"openssl {' '.join(map(str, args))} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


def split_smime(data: bytes) -> tuple[dict[str, str], bytes]:
    """openssl S/MIME output -> (top-level headers, body), as an HTTP request carries them."""
    cuts = [(data.find(sep), sep) for sep in (b"\r\n\r\n", b"\n\n") if data.find(sep) >= 0]
    at, sep = min(cuts)
    headers: dict[str, str] = {}
    last = None
    for line in data[:at].decode("latin-1").splitlines():
        if line[:1] in (" ", "\t") and last:
            headers[last] += " " + line.strip()
            continue
        name, _, value = line.partition(":")
        last = name.strip()
        headers[last] = value.strip()
    return headers, data[at + len(sep):]


def as2_headers(content_headers: dict[str, str], *, as2_from: str = "THEM", as2_to: str = "US",
                message_id: str = "<msg-1@them>", async_url: str | None = None) -> dict[str, str]:
    """AS2 request headers (asking for a signed SHA-256 receipt) around a body's Content-* headers."""
    headers = {"AS2-Version": "1.2", "AS2-From": as2_from, "AS2-To": as2_to, "Message-ID": message_id,
               "Disposition-Notification-To": "edi@them.example",
               "Disposition-Notification-Options":
                   "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha-256"}
    if async_url:
        headers["Receipt-Delivery-Option"] = async_url
    headers.update({k: v for k, v in content_headers.items() if k.lower().startswith("content-")})
    return headers


# ---------------------------------------------------------------------- servers


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class UvicornThread:
    """An ASGI app served by uvicorn on a loopback port in a daemon thread."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="off", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> UvicornThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Received:
    """One request a peer server received."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PeerServer:
    """A stdlib HTTP server on loopback; ``respond`` builds the answer, ``requests`` records them."""

    respond: Callable[[Received], tuple[int, dict[str, str], bytes]]
    requests: list[Received] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                got = Received(self.path, dict(self.headers.items()), self.rfile.read(length))
                peer.requests.append(got)
                status, headers, body = peer.respond(got)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>/as2"""
        return f"http://127.0.0.1:{self.port}/as2"

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def peer() -> Iterator[Callable[..., PeerServer]]:
    """Factory for peer servers (closed after the test); default answer: 200 'ok'."""
    made: list[PeerServer] = []

    def make(respond: Callable[[Received], tuple[int, dict[str, str], bytes]] | None = None) -> PeerServer:
        server = PeerServer(respond or (lambda r: (200, {"Content-Type": "text/plain"}, b"ok")))
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()


# ---------------------------------------------------------------------- the gateway


def as2_transport(us: Party, them: Party, **overrides: Any) -> As2Transport:
    """Our relationship with THEM: they sign with ``them``, encrypt to ``us``; we do the reverse."""
    values: dict[str, Any] = dict(
        as2_id="THEM", our_as2_id="US", url=None, their_signing_certs=[them.cert_pem],
        their_encryption_cert=them.cert_pem, our_key=us.key_pem, our_cert=us.cert_pem,
    )
    values.update(overrides)
    return As2Transport(**values)


@dataclass
class Gateway:
    """A running gateway: its AS2 URL, store and service."""

    url: str
    base_url: str
    store: Store
    service: As2Service
    config: GatewayConfig

    def files(self) -> list[Any]:
        """Every landed file."""
        return self.store.find_files()

    def alert_kinds(self) -> list[str]:
        """Kinds of the pending alerts."""
        return [a.kind for a in self.store.pending_alerts()]

    def post(self, headers: dict[str, str], body: bytes, path: str = "/as2") -> httpx.Response:
        """POST to the gateway over real HTTP."""
        return httpx.post(self.base_url + path, headers=headers, content=body, timeout=30)


def make_config(tmp: Path, partners: list[PartnerProfile]) -> GatewayConfig:
    """A gateway configuration with fast retries."""
    return GatewayConfig(gateway=GatewaySettings(data_dir=tmp, retry_base_seconds=0.01, max_attempts=3,
                                                 lease_seconds=5), partners=partners)


@pytest.fixture
def start_gateway(tmp_path: Path) -> Iterator[Callable[..., Gateway]]:
    """Factory: start a gateway under uvicorn for some partner profiles (SQLite store unless a URL is given)."""
    running: list[tuple[UvicornThread, Store, As2Service]] = []

    def start(partners: list[PartnerProfile], *, store_url: str | None = None, name: str = "gw",
              mdn_wait_seconds: float = 3600) -> Gateway:
        root = tmp_path / name
        root.mkdir(exist_ok=True)
        config = make_config(root, partners)
        store = Store.open(store_url or f"sqlite:///{root / 'gateway.db'}", root / "archive")
        service = As2Service(config, store, mdn_wait_seconds=mdn_wait_seconds, worker_id=f"{name}-mdn")
        server = UvicornThread(create_app(HttpContext(config, store, service))).__enter__()
        running.append((server, store, service))
        return Gateway(server.base_url + "/as2", server.base_url, store, service, config)

    yield start
    for server, store, service in running:
        server.__exit__()
        service.close()
        store.close()


@pytest.fixture
def acme(us: Party, them: Party) -> Callable[..., PartnerProfile]:
    """Factory for the partner profile 'acme' (AS2 id THEM) with transport overrides."""

    def make(**overrides: Any) -> PartnerProfile:
        transport = as2_transport(us, them, **overrides)
        return PartnerProfile(id="acme", inbound=[transport], outbound=transport)

    return make


# ---------------------------------------------------------------------- pyas2lib


def import_pyas2lib() -> Any:
    """pyas2lib, with oscrypto taught to read OpenSSL 3.x.y version strings (its PyPI release reads
    '3.0.19' as unparseable); skips when pyas2lib is not installed."""
    if "pyas2lib" in sys.modules:
        return sys.modules["pyas2lib"]
    if importlib.util.find_spec("pyas2lib") is None:
        pytest.skip("pyas2lib not installed (pip install pyas2lib: test-only, GPL)")
    old = "'\\\\b(\\\\d\\\\.\\\\d\\\\.\\\\d[a-z]*)\\\\b'"
    new = "'\\\\b(\\\\d+\\\\.\\\\d+\\\\.\\\\d+[a-z]*)\\\\b'"
    for name in ("oscrypto._openssl._libcrypto_cffi", "oscrypto._openssl._libcrypto_ctypes"):
        spec = importlib.util.find_spec(name)
        if name in sys.modules or spec is None or spec.loader is None:
            continue
        source = spec.loader.get_source(name)  # type: ignore[attr-defined]
        if source is None or old not in source:
            continue  # a fixed oscrypto release: nothing to patch
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            exec(compile(source.replace(old, new), spec.origin or name, "exec"), module.__dict__)
        except Exception:
            del sys.modules[name]  # e.g. cffi missing: oscrypto picks the other backend
    import pyas2lib

    return pyas2lib
