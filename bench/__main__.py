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

# The floor any translate to validated pydantic models has: validating and serializing the file's documents,
# timed alone (from plain dicts of the same documents), in one process.
PYDANTIC_SNIPPET = """
import gc, sys, time
gc.freeze(); gc.set_threshold(100_000, 10, 10)
from parsers.translate import translate
validate = serialize = 0.0
n = 0
with open(sys.argv[1], "rb") as fh:
    for t in translate(fh, name="x"):
        if t.document is None:
            continue
        fields, model = t.document.model_dump(), type(t.document)
        start = time.process_time()
        doc = model.model_validate(fields)
        mid = time.process_time()
        doc.model_dump_json(exclude_none=True)
        validate += mid - start
        serialize += time.process_time() - mid
        n += 1
print(n, validate, serialize)
"""


def run_measured(cmd: list[str], *, stdout: int | None = subprocess.DEVNULL) -> tuple[float, int, bytes]:
    """Run a command; return (seconds, peak RSS in bytes of the largest process, stdout)."""
    secs, rss, out, _cpu = run_measured_cpu(cmd, stdout=stdout)
    return secs, rss, out


def run_measured_cpu(cmd: list[str], *, stdout: int | None = subprocess.DEVNULL,
                     env: dict[str, str] | None = None) -> tuple[float, int, bytes, float]:
    """Run a command; return (seconds, peak RSS in bytes of the largest process, stdout, CPU seconds of all).

    CPU seconds are user + system time of the command and every process it waited for (its workers).
    ``env`` adds variables to this process's environment for the command.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE if stdout is None else stdout, stderr=subprocess.PIPE,
                            env={**os.environ, **env} if env else None)
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
    return elapsed, usage.ru_maxrss * 1024, out, usage.ru_utime + usage.ru_stime


def ensure_file(kind: str, mb: int) -> Path:
    """The generated benchmark file for kind (850/856) and size, made once."""
    from bench.generate import generate

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{kind}_{mb}MB.x12"
    if not path.exists() or path.stat().st_size < mb * 1_000_000:
        generate(path, kind, mb * 1_000_000)
    return path


def byte_compile() -> None:
    """Byte-compile the project's modules, as an installed package has them (PYTHONDONTWRITEBYTECODE may be set)."""
    import compileall

    for package in ("gateway", "parsers", "partners", "outbound", "inbox"):
        compileall.compile_dir(ROOT / package, quiet=1)
    print("# the project's modules are byte-compiled first (an editable install run with PYTHONDONTWRITEBYTECODE=1 "
          "would compile them from source at every start: ~30 ms)")


def ensure_tiny() -> Path:
    """A file with one small interchange (one 850): what start-up costs."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "850_tiny.x12"
    if not path.exists():
        from bench.generate import GS, ISA

        body = "ST*850*0001~\nBEG*00*SA*PO1**20261127~\nPO1*1*2*EA*9.99**UP*012345678905~\nCTT*1*2~\nSE*5*0001~\n"
        path.write_text(ISA.format(icn=1) + GS.format(fid="PO", gcn=1) + body + "GE*1*1~\nIEA*1*000000001~\n",
                        encoding="ascii")
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
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# load average before the runs: {load:.2f} on {os.cpu_count()} CPU(s); 'CPU s' is user+system time "
          "of all processes of the run; 'MB/CPU-s' is throughput per CPU second")
    gateway = str(Path(PY).parent / "gateway")
    byte_compile()
    from parsers.native_guard import status

    print(f"# X12 core: {status()}; the 'pure Python' row runs the same sources uncompiled (GATEWAY_NATIVE=0)")
    startup = min(run_measured([gateway, "translate", str(ensure_tiny())])[0] for _ in range(5))
    print(f"# start-up of gateway translate (a one-set file, best of 5): {startup:.3f} s")
    print(f"{'file':<14}{'tool':<36}{'seconds':>9}{'MB/s':>8}{'segments/s':>12}{'peak RSS MB':>12}"
          f"{'CPU s':>8}{'MB/CPU-s':>9}{'vs pyx12':>9}")
    for mb in sizes:
        for kind in ("850", "856"):
            path = ensure_file(kind, mb)
            size_mb = path.stat().st_size / 1e6
            segs = count_segments(path)
            rows = []
            pure = {"GATEWAY_NATIVE": "0"}
            for label, cmd, env in (
                ("gateway translate (2 procs)", [gateway, "translate", str(path)], None),
                ("gateway translate --jobs 1", [gateway, "translate", "--jobs", "1", str(path)], None),
                ("  the same, pure Python (2 procs)", [gateway, "translate", str(path)], pure),
                ("pyx12 X12Reader (segments only)", [PY, "-c", PYX12_SNIPPET, str(path)], None),
                ("bytes.split streaming", [PY, "-c", SPLIT_SNIPPET, str(path)], None),
            ):
                secs, rss, _, cpu = run_measured_cpu(cmd, env=env)
                rows.append((label, secs, rss, cpu))
            pyx12_secs = next(s for lbl, s, _, _ in rows if lbl.startswith("pyx12"))
            for label, secs, rss, cpu in rows:
                print(f"{path.name:<14}{label:<36}{secs:>9.2f}{size_mb / secs:>8.1f}{segs / secs:>12,.0f}"
                      f"{rss / 1e6:>12.0f}{cpu:>8.2f}{size_mb / cpu:>9.1f}{pyx12_secs / secs:>8.1f}x")
            docs, validate, serialize = run_measured([PY, "-c", PYDANTIC_SNIPPET, str(path)], stdout=None)[2].split()
            print(f"# {path.name}: pydantic alone, validating and serializing its {int(docs):,} documents from plain "
                  f"dicts: {float(validate):.2f} + {float(serialize):.2f} CPU s; 3x pyx12 is "
                  f"{pyx12_secs / 3:.2f} s on {os.cpu_count()} CPU(s), start-up included")
            sys.stdout.flush()


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
