"""`gateway translate`: files in, one JSON line per document out; large X12 files in parallel.

A large X12 file is cut at interchange boundaries (an ``IEA`` trailer right before an ``ISA``)
into byte ranges of 256 KB to 2 MB, smaller toward the end of the file (several per worker, so
the workers finish together); worker processes translate the ranges (streamed from the file,
like any X12 input), each writing its JSON lines to a temporary file, and the parent copies the
files to the output in file order.
Each range holds whole interchanges, so every envelope check still sees everything it needs. At
most two ranges per worker are in flight, so memory stays flat in every process whatever the
file size. A file with a single interchange is translated in one process, streaming.
"""

from __future__ import annotations

import codecs
import gc
import os
import re
import shutil
import tempfile
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO, cast

from parsers.translate import sniff_format, translate, translate_x12
from parsers.x12.stream import EnvelopeRules

if TYPE_CHECKING:
    from concurrent.futures import Future

    from parsers.csv import CsvMapping

_IEA_TAIL = re.compile(rb"IEA[^A-Za-z0-9\s]\s*\d+\s*[^A-Za-z0-9\s]\s*\d+\s*\S{1,3}\s*\Z")
PARALLEL_MIN_BYTES = 8 * 1024 * 1024
RANGE_BYTES = 2 * 1024 * 1024  # the largest range size aimed at (a range always ends after an IEA)
MIN_RANGE_BYTES = 256 * 1024
RANGES_PER_JOB = 4  # smaller ranges for smaller files and toward the end, so that no worker is left with a long tail
COPY_CHUNK = 1 << 20
# Allocations between young collections while translating: each one walks the tokenizer's batch of up
# to a MB of segments, so at 100k (rather than 10k) translation takes ~4% less CPU, same peak memory.
GC_YOUNG_THRESHOLD = 100_000


@dataclass
class TranslateSummary:
    """What a translate run found, for the exit code and the closing line on stderr."""

    documents: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)

    def add(self, other: TranslateSummary) -> None:
        """Fold another summary into this one."""
        self.documents += other.documents
        self.by_status.update(other.by_status)
        self.by_kind.update(other.by_kind)

    @property
    def rejected(self) -> int:
        """How many documents were rejected."""
        return self.by_status.get("rejected", 0)


def interchange_ranges(path: Path, target: int = RANGE_BYTES, *, jobs: int = 0) -> list[tuple[int, int]]:
    """Byte ranges of ``path`` that each hold whole interchanges, about ``target`` bytes each.

    With ``jobs``, ranges shrink toward the end of the file (what is left / (jobs * RANGES_PER_JOB), at
    least MIN_RANGE_BYTES), so that the workers run out of work together.
    """
    size = path.stat().st_size
    ranges: list[tuple[int, int]] = []
    start = 0
    extend = 0  # added while no interchange boundary is found past the aimed size
    with path.open("rb") as fh:
        while start < size:
            want = target
            if jobs > 0:
                want = max(MIN_RANGE_BYTES, min(target, (size - start) // (jobs * RANGES_PER_JOB)))
            probe = start + want + extend
            if probe >= size:
                ranges.append((start, size))
                break
            fh.seek(probe)
            window = fh.read(1 << 20)
            cut = -1
            offset = 0
            while True:
                i = window.find(b"ISA", offset)
                if i < 0:
                    break
                before_start = max(0, probe + i - 64)
                fh.seek(before_start)
                before = fh.read(probe + i - before_start)
                if _IEA_TAIL.search(before):
                    cut = probe + i
                    break
                offset = i + 3
            if cut < 0:
                if len(window) < (1 << 20):
                    ranges.append((start, size))
                    break
                # no boundary within a MB: extend this range and look again further on
                extend += 1 << 20
                continue
            ranges.append((start, cut))
            start = cut
            extend = 0
    return ranges


def range_target(size: int, jobs: int) -> int:
    """The range size for a file of ``size`` bytes shared by ``jobs`` workers."""
    return max(MIN_RANGE_BYTES, min(RANGE_BYTES, size // max(1, jobs * RANGES_PER_JOB)))


@contextmanager
def batch_gc() -> Iterator[None]:
    """Tune the cyclic garbage collector for a batch of translations, and restore it afterwards.

    Translation makes many short-lived objects and almost no reference cycles: the objects loaded at
    start-up are frozen (never traversed again) and young collections run less often.
    """
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _count(summary: TranslateSummary, status: str, kind: str) -> None:
    summary.documents += 1
    summary.by_status[status] += 1
    summary.by_kind[kind] += 1


def _translate_range(args: tuple[str, int, int, str, EnvelopeRules | None, str]) -> TranslateSummary:
    """Worker: translate one byte range of an X12 file into JSON lines in file ``out_path``."""
    path, start, end, name, rules, out_path = args
    summary = TranslateSummary()
    with open(path, "rb") as fh, batch_gc(), open(out_path, "w", encoding="utf-8", newline="\n") as out:
        fh.seek(start)
        for t in translate_x12(cast(BinaryIO, _RangeReader(fh, end - start)), name=name, rules=rules):
            out.write(t.to_json())
            out.write("\n")
            _count(summary, t.status, t.kind)
    return summary


class _RangeReader:
    """Reads at most ``length`` bytes from a binary file's current position (a range, streamed)."""

    def __init__(self, fh: BinaryIO, length: int) -> None:
        self._fh = fh
        self._left = length

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes of the range (all that is left when ``size`` < 0)."""
        if self._left <= 0:
            return b""
        want = self._left if size < 0 else min(size, self._left)
        data = self._fh.read(want)
        self._left -= len(data)
        return data


def _utf8_buffer(out: TextIO) -> BinaryIO | None:
    """The binary buffer under ``out`` when it is UTF-8 encoded (lines can be copied as bytes), else None."""
    buffer: BinaryIO | None = getattr(out, "buffer", None)
    encoding = getattr(out, "encoding", None)
    if buffer is None or not isinstance(encoding, str):
        return None
    try:
        return buffer if codecs.lookup(encoding).name == "utf-8" else None
    except LookupError:
        return None


def _send_file(src: BinaryIO, dst: BinaryIO) -> bool:
    """Copy ``src`` to ``dst`` inside the kernel (``os.sendfile``); False when that is not possible."""
    try:
        out_fd = dst.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (io.UnsupportedOperation is an OSError)
        return False
    in_fd = src.fileno()
    size = os.fstat(in_fd).st_size
    offset = 0
    while offset < size:
        try:
            sent = os.sendfile(out_fd, in_fd, offset, size - offset)
        except OSError:
            if offset:
                raise
            return False  # e.g. an O_APPEND output on an old kernel: copy through user space
        if sent == 0:
            break
        offset += sent
    src.seek(offset)
    return offset >= size


def _copy_lines(part: str, out: TextIO) -> None:
    """Append a worker's JSON-lines file to the output."""
    buffer = _utf8_buffer(out)
    if buffer is not None:
        out.flush()
        buffer.flush()
        with open(part, "rb") as src:
            if not _send_file(src, buffer):
                shutil.copyfileobj(src, buffer, COPY_CHUNK)
        buffer.flush()
    else:
        with open(part, encoding="utf-8", newline="\n") as src:
            while chunk := src.read(COPY_CHUNK):
                out.write(chunk)


def _translate_parallel(path: Path, ranges: list[tuple[int, int]], out: TextIO, rules: EnvelopeRules | None,
                        jobs: int) -> TranslateSummary:
    """Translate the ranges of ``path`` in ``jobs`` worker processes; write their lines to ``out`` in order."""
    from concurrent.futures import ProcessPoolExecutor  # imported here: only large files need it (start-up time)

    name = str(path)
    summary = TranslateSummary()
    workers = min(jobs, len(ranges))
    with tempfile.TemporaryDirectory(prefix="gateway-translate-") as tmp, \
            ProcessPoolExecutor(max_workers=workers) as pool:
        pending: deque[tuple[str, Future[TranslateSummary]]] = deque()
        todo = iter(enumerate(ranges))

        def submit() -> None:
            for n, (start, end) in todo:
                part = os.path.join(tmp, f"{n:06d}.jsonl")
                pending.append((part, pool.submit(_translate_range, (name, start, end, name, rules, part))))
                return

        for _ in range(2 * workers):
            submit()
        while pending:
            part, future = pending.popleft()
            summary.add(future.result())
            submit()
            _copy_lines(part, out)
            os.unlink(part)
    return summary


def translate_path(path: Path, out: TextIO, *, rules: EnvelopeRules | None = None,
                   csv_mapping: CsvMapping | None = None, jobs: int = 1) -> TranslateSummary:
    """Translate one file, writing JSON lines to ``out``; parallel for large multi-interchange X12."""
    name = str(path)
    with path.open("rb") as fh:
        head = fh.read(4096)
    size = path.stat().st_size
    if jobs > 1 and size >= PARALLEL_MIN_BYTES and sniff_format(head, csv_mapping=csv_mapping) == "x12":
        ranges = interchange_ranges(path, range_target(size, jobs), jobs=jobs)
        if len(ranges) > 1:
            with batch_gc():
                return _translate_parallel(path, ranges, out, rules, jobs)
    summary = TranslateSummary()
    with path.open("rb") as fh, batch_gc():
        for t in translate(fh, name=name, rules=rules, csv_mapping=csv_mapping):
            out.write(t.to_json())
            out.write("\n")
            _count(summary, t.status, t.kind)
    return summary


def expand_paths(paths: list[Path]) -> Iterator[Path]:
    """Files named, and the files inside folders named (sorted, hidden files skipped)."""
    for p in paths:
        if p.is_dir():
            for child in sorted(p.rglob("*")):
                if child.is_file() and not child.name.startswith("."):
                    yield child
        else:
            yield p


def default_jobs() -> int:
    """Worker processes for parallel translation: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
