"""`make bench`: throughput and memory, measured side by side with the baselines, in one run.

Sections (all by default): translate, writers, pipeline, sftp, as2. ``--quick`` uses small files.
Each measurement runs in a fresh subprocess so peak RSS is that of the measured work alone.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PY = sys.executable

PYX12_SNIPPET = """
import sys, pyx12.x12file
n = 0
for seg in pyx12.x12file.X12Reader(sys.argv[1]):
    n += 1
print(n)
"""

SPLIT_SNIPPET = """
import sys
n = 0
tail = b""
with open(sys.argv[1], "rb") as fh:
    while True:
        chunk = fh.read(1 << 20)
        if not chunk:
            break
        parts = (tail + chunk).split(b"~")
        tail = parts.pop()
        n += len(parts)
print(n)
"""


def run_measured(cmd: list[str], *, stdout: int | None = subprocess.DEVNULL) -> tuple[float, int, bytes]:
    """Run a command; return (seconds, peak RSS in bytes of the largest process, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE if stdout is None else stdout, stderr=subprocess.PIPE)
    out = b""
    if stdout is None:
        assert proc.stdout is not None
        out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise RuntimeError(f"{cmd} failed ({proc.returncode}): {err[-2000:]}")
    return elapsed, usage.ru_maxrss * 1024, out


def ensure_file(kind: str, mb: int) -> Path:
    """The generated benchmark file for kind (850/856) and size, made once."""
    from bench.generate import generate

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{kind}_{mb}MB.x12"
    if not path.exists() or path.stat().st_size < mb * 1_000_000:
        generate(path, kind, mb * 1_000_000)
    return path


def count_segments(path: Path) -> int:
    """Segments in a generated file ('~' terminated)."""
    n = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            n += chunk.count(b"~")
    return n


def bench_translate(sizes: list[int]) -> None:
    """gateway translate vs pyx12 X12Reader vs bare bytes.split, for 850 and 856."""
    print("\n## translate: X12 file -> validated canonical JSON (one line per document)")
    print(f"{'file':<14}{'tool':<36}{'seconds':>9}{'MB/s':>9}{'segments/s':>13}{'peak RSS MB':>13}{'vs pyx12':>10}")
    gateway = str(Path(PY).parent / "gateway")
    for mb in sizes:
        for kind in ("850", "856"):
            path = ensure_file(kind, mb)
            size_mb = path.stat().st_size / 1e6
            segs = count_segments(path)
            rows = []
            for label, cmd in (
                ("gateway translate (2 procs)", [gateway, "translate", str(path)]),
                ("gateway translate --jobs 1", [gateway, "translate", "--jobs", "1", str(path)]),
                ("pyx12 X12Reader (segments only)", [PY, "-c", PYX12_SNIPPET, str(path)]),
                ("bytes.split streaming", [PY, "-c", SPLIT_SNIPPET, str(path)]),
            ):
                secs, rss, _ = run_measured(cmd)
                rows.append((label, secs, rss))
            pyx12_secs = next(s for lbl, s, _ in rows if lbl.startswith("pyx12"))
            for label, secs, rss in rows:
                print(f"{path.name:<14}{label:<36}{secs:>9.2f}{size_mb / secs:>9.1f}{segs / secs:>13,.0f}"
                      f"{rss / 1e6:>13.0f}{pyx12_secs / secs:>9.1f}x")


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmark sections."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("sections", nargs="*", default=["translate", "writers", "pipeline", "sftp", "as2"])
    parser.add_argument("--quick", action="store_true", help="small inputs (a smoke run)")
    args = parser.parse_args(argv)
    print(f"# bench on {os.cpu_count()} CPU(s), Python {sys.version.split()[0]}")
    for section in args.sections:
        if section == "translate":
            bench_translate([2] if args.quick else [10, 100])
        elif section == "writers":
            from bench.writers_bench import bench_writers

            bench_writers(quick=args.quick)
        elif section == "pipeline":
            from bench.pipeline_bench import bench_pipeline

            bench_pipeline(quick=args.quick)
        elif section == "sftp":
            from bench.sftp_bench import bench_sftp_intake

            print("\n## SFTP intake (OpenSSH sshd on loopback)")
            bench_sftp_intake(100 if args.quick else 1000)
        elif section == "as2":
            try:
                from bench.as2_bench import bench_as2_receive
            except ImportError as exc:
                print(f"\n## AS2: not available ({exc})")
                continue
            print("\n## AS2 receive (signed + encrypted 10 KB messages on loopback)")
            bench_as2_receive(100 if args.quick else 1000)
        else:
            parser.error(f"unknown section {section!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
