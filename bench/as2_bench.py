"""AS2 receive benchmark: signed + encrypted messages POSTed over loopback to the gateway's endpoint.

Run: ``.venv/bin/python -m bench.as2_bench [n] [size]``. Prints figures; asserts nothing.
The gateway's HttpServer (uvicorn, as ``gateway run`` starts it) serves a SQLite store; each message
is opened, verified, landed together with its MDN record (one commit) and answered with a signed
synchronous MDN. The client runs in the same process (it shares the GIL with the server).
"""

from __future__ import annotations

import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from gateway.as2_service import As2Service
from gateway.config import HttpSettings
from gateway.http import HttpContext, HttpServer, create_app
from gateway.store import Store
from parsers.as2 import build_message
from partners.profile import PartnerProfile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # where the test peers' as2_keys lives
from tests.as2_http.conftest import as2_transport, make_config, make_party


def bench_as2_receive(n: int = 1000, size: int = 10_000, clients: int = 4) -> dict[str, float]:
    """POST ``n`` signed+encrypted messages of ``size`` bytes (``clients`` at a time); print messages/s."""
    with tempfile.TemporaryDirectory(prefix="as2-bench-") as tmp:
        work = Path(tmp)
        us, them = make_party(work, "us"), make_party(work, "them")
        transport = as2_transport(us, them)
        config = make_config(work, [PartnerProfile(id="acme", inbound=[transport])])
        store = Store.open(f"sqlite:///{work / 'gateway.db'}", work / "archive")
        service = As2Service(config, store)
        line = b"PO1*1*10*EA*9.95**VP*SKU-0000000001~\n"
        base = line * (size // len(line) + 1)
        t0 = time.perf_counter()
        messages = [build_message(base[: size - 12] + f"{i:012d}".encode(), as2_from="THEM", as2_to="US",
                                  message_id=f"bench-{i}@them", signer=them.signer, encrypt_to=[us.cert],
                                  mdn_to="edi@them") for i in range(n)]
        build_s = time.perf_counter() - t0
        server = HttpServer(create_app(HttpContext(config, store, service)), HttpSettings(enabled=True, port=0))
        server.start()  # the daemon's own server (gateway run), on a free loopback port
        try:
            url = server.url + "/as2"
            with httpx.Client(timeout=60) as client:
                client.post(url, headers=messages[0].headers, content=messages[0].body)  # warm-up (lands #0)

                def post(i: int) -> int:
                    m = messages[i]
                    return client.post(url, headers=m.headers, content=m.body).status_code

                t0 = time.perf_counter()
                with ThreadPoolExecutor(clients) as pool:
                    statuses = list(pool.map(post, range(1, n)))
                elapsed = time.perf_counter() - t0
        finally:
            server.stop()
        service.close()
        landed = len(store.find_files(limit=n + 10))
        store.close()
    rate = (n - 1) / elapsed if elapsed else float("inf")
    print(f"AS2 receive: {n - 1} signed+encrypted messages of {size} B over loopback, {clients} clients, SQLite")
    print(f"  {rate:,.0f} messages/s, {(n - 1) * size / elapsed / 1e6:,.2f} MB/s payload, "
          f"{elapsed / (n - 1) * 1000:.2f} ms/message wall, build {build_s:.2f} s (not counted)")
    print(f"  HTTP 200: {statuses.count(200)}/{n - 1}, files landed: {landed}")
    return {"messages_per_s": rate, "seconds": elapsed, "landed": float(landed)}


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    bench_as2_receive(*args)
