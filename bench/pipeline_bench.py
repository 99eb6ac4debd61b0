"""End-to-end pipeline benchmark: small 850 files through a watched folder to the JSON sink and a 997.

Throughput: N files dropped at once into the inbox of a running `gateway run`, timed until every
purchase order is in the JSON sink and every 997 is in the partner's outbound folder.
Latency: files dropped at a fixed rate (50/s); for each, the time from its rename into the inbox
to its 997 appearing in the outbound folder (matched by the acknowledged GS06), p50 and p99.
Runs on SQLite (durable commits: WAL + synchronous=FULL) and, when GATEWAY_TEST_PG_DSN or
GATEWAY_BENCH_PG_DSN is set, on PostgreSQL.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PO = ("ISA*00*          *00*          *ZZ*BENCHRETAIL    *ZZ*EDIGATEWAY     *261127*1200*U*00401*{n:09d}*0*P*>~\n"
      "GS*PO*BENCHRETAIL*EDIGATEWAY*20261127*1200*{n}*X*004010~\n"
      "ST*850*0001~\nBEG*00*SA*PO{n:09d}**20261127~\nN1*ST*STORE {n}*92*{n:04d}~\n"
      "PO1*1*{q}*EA*12.50**UP*012345678905*VN*WID-100~\nPID*F****BLUE WIDGET~\n"
      "PO1*2*3*CA*48.00**UP*012345678912*VN*GAD-200~\nCTT*2*{t}~\nSE*8*0001~\nGE*1*{n}~\nIEA*1*{n:09d}~\n")
AK1 = re.compile(rb"AK1\*PO\*(\d+)")


def _config(work: Path, store_url: str | None) -> Path:
    store_line = f'store_url = "{store_url}"' if store_url else ""
    text = f"""
[gateway]
data_dir = "{work / 'var'}"
{store_line}
poll_seconds = 0.05
lease_seconds = 60

[identity]
qualifier = "ZZ"
id = "EDIGATEWAY"

[[partners]]
id = "bench-retail"
x12 = {{ qualifier = "ZZ", id = "BENCHRETAIL" }}
inbound = [{{ type = "folder", path = "{work / 'inbox'}", stable_seconds = 1.0 }}]
outbound = {{ type = "folder", path = "{work / 'outbox'}" }}
sinks = [{{ type = "json_folder", path = "{work / 'erp'}" }}]
"""
    path = work / "gateway.toml"
    path.write_text(text)
    return path


def _stage(work: Path, n: int, start: int = 1) -> list[Path]:
    stage = work / "stage"
    stage.mkdir(exist_ok=True)
    paths = []
    for i in range(start, start + n):
        p = stage / f"po_{i:06d}.x12"
        p.write_text(PO.format(n=i, q=i % 90 + 1, t=i % 90 + 4))
        paths.append(p)
    return paths


def _start(config: Path, *options: str) -> subprocess.Popen[bytes]:
    gateway = str(Path(sys.executable).parent / "gateway")
    return subprocess.Popen([gateway, "run", "--config", str(config), "--log-level", "WARNING", *options],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _count(folder: Path, suffix: str) -> int:
    try:
        return sum(1 for e in os.scandir(folder) if e.name.endswith(suffix) and not e.name.startswith("."))
    except FileNotFoundError:
        return 0


def _fresh_pg_url(dsn: str) -> tuple[str, str]:
    """A PostgreSQL URL with a fresh schema (search_path) for this run, and the schema name."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in dsn else "?"
    url = dsn.replace("postgresql://", "postgresql+psycopg://", 1) + f"{sep}options=-csearch_path%3D{schema}"
    return url, schema


def _drop_pg(dsn: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def run_backend(label: str, store_url: str | None, n_throughput: int, n_latency: int, rate: float,
                *options: str) -> None:
    """Throughput and latency on one backend (``options`` for `gateway run`); prints one line each."""
    work = Path(tempfile.mkdtemp(prefix=f"pipe-bench-{label}-"))
    try:
        config = _config(work, store_url)
        inbox, outbox, erp = work / "inbox", work / "outbox", work / "erp"
        inbox.mkdir()
        files = _stage(work, n_throughput)
        proc = _start(config, *options)
        try:
            time.sleep(2.0)  # migrations, threads
            t0 = time.perf_counter()
            for p in files:
                os.rename(p, inbox / p.name)
            deadline = t0 + 1800
            while time.perf_counter() < deadline:
                if _count(erp, ".json") >= n_throughput and _count(outbox, ".x12") >= n_throughput:
                    break
                if proc.poll() is not None:
                    raise RuntimeError(f"gateway run exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
                time.sleep(0.05)
            elapsed = time.perf_counter() - t0
            done = _count(erp, ".json")
            print(f"{label:<12} throughput: {done} documents (850 -> JSON sink + 997) in {elapsed:.1f} s "
                  f"= {done / elapsed:.0f} documents/s")

            # latency at a fixed rate
            files = _stage(work, n_latency, start=n_throughput + 1)
            seen: dict[int, float] = {}
            dropped: dict[int, float] = {}
            known: set[str] = {e.name for e in os.scandir(outbox)}
            interval = 1.0 / rate
            next_drop = time.perf_counter()
            pending = list(files)
            deadline = time.perf_counter() + n_latency / rate + 120
            while (pending or len(seen) < n_latency) and time.perf_counter() < deadline:
                now = time.perf_counter()
                while pending and now >= next_drop:
                    p = pending.pop(0)
                    os.rename(p, inbox / p.name)
                    dropped[int(p.stem.split("_")[1])] = time.perf_counter()
                    next_drop += interval
                for e in os.scandir(outbox):
                    if e.name in known or e.name.startswith("."):
                        continue
                    known.add(e.name)
                    m = AK1.search(Path(e.path).read_bytes())
                    if m:
                        seen[int(m.group(1))] = time.perf_counter()
                time.sleep(0.002)
            lat = sorted(seen[k] - dropped[k] for k in seen if k in dropped)
            if lat:
                p50 = statistics.median(lat)
                p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
                print(f"{label:<12} latency at {rate:.0f} documents/s: {len(lat)} files, drop-to-997 "
                      f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms")
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench_pipeline(quick: bool = False) -> None:
    """Run the pipeline benchmark on SQLite and (if a DSN is set) PostgreSQL."""
    n = 1000 if quick else 10_000
    n_lat = 100 if quick else 1000
    print(f"\n## pipeline end to end: {n} small 850 files via a watched folder -> JSON sink + 997 "
          "(one `gateway run` daemon: landing/sending threads + its pipeline process)")
    run_backend("sqlite", None, n, n_lat, 50.0)
    run_backend("sqlite (--single-process)", None, n, n_lat, 50.0, "--single-process")
    dsn = os.environ.get("GATEWAY_BENCH_PG_DSN") or os.environ.get("GATEWAY_TEST_PG_DSN")
    if dsn:
        url, schema = _fresh_pg_url(dsn)
        try:
            run_backend("postgresql", url, n, n_lat, 50.0)
        finally:
            _drop_pg(dsn, schema)
    else:
        print("postgresql: skipped (set GATEWAY_TEST_PG_DSN)")


if __name__ == "__main__":
    bench_pipeline(quick="--quick" in sys.argv)
