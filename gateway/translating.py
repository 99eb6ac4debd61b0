"""`gateway translate`: files in, one JSON line per document out; large X12 files in parallel.

A large X12 file is cut at interchange boundaries (an ``IEA`` trailer right before an ``ISA``)
into byte ranges of a few MB; worker processes translate the ranges and the lines are written in
file order. Each range holds whole interchanges, so every envelope check still sees everything it
needs. A file with a single interchange is translated in one process, streaming.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from parsers.csv import CsvMapping
from parsers.translate import sniff_format, translate, translate_x12
from parsers.x12.stream import EnvelopeRules

_IEA_TAIL = re.compile(rb"IEA[^A-Za-z0-9\s]\s*\d+\s*[^A-Za-z0-9\s]\s*\d+\s*\S{1,3}\s*\Z")
PARALLEL_MIN_BYTES = 8 * 1024 * 1024
RANGE_BYTES = 4 * 1024 * 1024


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


def interchange_ranges(path: Path, target: int = RANGE_BYTES) -> list[tuple[int, int]]:
    """Byte ranges of ``path`` that each hold whole interchanges, about ``target`` bytes each."""
    size = path.stat().st_size
    ranges: list[tuple[int, int]] = []
    start = 0
    with path.open("rb") as fh:
        while start < size:
            probe = start + target
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
                target += 1 << 20
                continue
            ranges.append((start, cut))
            start = cut
    return ranges


def _translate_range(args: tuple[str, int, int, str, EnvelopeRules | None]) -> tuple[str, TranslateSummary]:
    """Worker: translate one byte range of an X12 file; return its JSON lines and summary."""
    path, start, end, name, rules = args
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    out: list[str] = []
    summary = TranslateSummary()
    for t in translate_x12(data, name=name, rules=rules):
        out.append(t.to_json())
        summary.documents += 1
        summary.by_status[t.status] += 1
        summary.by_kind[t.kind] += 1
    out.append("")
    return "\n".join(out), summary


def translate_path(path: Path, out: TextIO, *, rules: EnvelopeRules | None = None,
                   csv_mapping: CsvMapping | None = None, jobs: int = 1) -> TranslateSummary:
    """Translate one file, writing JSON lines to ``out``; parallel for large multi-interchange X12."""
    name = str(path)
    summary = TranslateSummary()
    with path.open("rb") as fh:
        head = fh.read(4096)
    size = path.stat().st_size
    if jobs > 1 and size >= PARALLEL_MIN_BYTES and sniff_format(head, csv_mapping=csv_mapping) == "x12":
        ranges = interchange_ranges(path)
        if len(ranges) > 1:
            tasks = [(name, s, e, name, rules) for s, e in ranges]
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                for text, part in pool.map(_translate_range, tasks):
                    out.write(text)
                    summary.add(part)
            return summary
    with path.open("rb") as fh:
        for t in translate(fh, name=name, rules=rules, csv_mapping=csv_mapping):
            out.write(t.to_json())
            out.write("\n")
            summary.documents += 1
            summary.by_status[t.status] += 1
            summary.by_kind[t.kind] += 1
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
