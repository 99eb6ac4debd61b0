"""`gateway translate` on a large multi-interchange file: worker processes, byte ranges, output order.

The parallel path must print exactly what the one-process path prints, whatever the output stream
(a UTF-8 file copied as bytes, a text stream in another encoding, an in-memory buffer), with the same
summary; ranges hold whole interchanges. The thresholds are lowered so that a small file takes the
parallel path.
"""

from __future__ import annotations

import io
import itertools
import re
from pathlib import Path

import pytest

from gateway import translating
from gateway.translating import TranslateSummary, interchange_ranges, translate_path


def _interchange(n: int, *, broken: str = "") -> str:
    """One interchange (control number n) with three 850s; ``broken`` spoils its GE, IEA or a set."""
    sets = []
    for k in range(3):
        st = f"{n:04d}{k}"
        body = [f"ST*850*{st}", f"BEG*00*SA*PO{n}-{k}**20260101", "N1*ST*MÜNCHEN STORE*92*0042",
                f"PO1*1*{k + 1}*EA*9.99**UP*012345678905", "PID*F****GRÜN WIDGET", f"CTT*1*{k + 1}"]
        if broken == "set" and k == 1:
            body[1] = "BEG*00*SA"  # BEG03 (PO number) missing
        body.append(f"SE*{len(body) + 1}*{st}")
        sets += body
    ge = "GE*2" if broken == "ge" else "GE*3"
    iea = f"IEA*1*{n + 1:09d}" if broken == "iea" else f"IEA*1*{n:09d}"
    segs = [f"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260101*1200*U*00401*{n:09d}*0*P*>",
            f"GS*PO*SENDER*RECEIVER*20260101*1200*{n}*X*004010", *sets, f"{ge}*{n}", iea]
    return "".join(s + "~\n" for s in segs)


@pytest.fixture()
def big_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file of 60 interchanges (some broken) that takes the parallel path with ranges of ~8 KB."""
    monkeypatch.setattr(translating, "PARALLEL_MIN_BYTES", 4096)
    monkeypatch.setattr(translating, "MIN_RANGE_BYTES", 8192)
    broken = {7: "ge", 20: "iea", 33: "set", 59: "set"}
    text = "".join(_interchange(n, broken=broken.get(n, "")) for n in range(1, 61))
    path = tmp_path / "many.x12"
    path.write_text(text, encoding="utf-8")
    return path


def _run(path: Path, jobs: int, out: io.TextIOBase | None = None) -> tuple[str, TranslateSummary]:
    buf = out if out is not None else io.StringIO()
    summary = translate_path(path, buf, jobs=jobs)  # type: ignore[arg-type]
    if isinstance(buf, io.StringIO):
        return buf.getvalue(), summary
    return "", summary


def test_ranges_hold_whole_interchanges(big_file: Path) -> None:
    data = big_file.read_bytes()
    ranges = interchange_ranges(big_file, 8192)
    assert len(ranges) > 4
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    for (_, end), (start, _) in itertools.pairwise(ranges):
        assert end == start
    for start, end in ranges:
        part = data[start:end]
        assert part.startswith(b"ISA*")
        assert re.search(rb"IEA\*1\*\d{9}~\n\Z", part)


def test_parallel_output_equals_one_process_output(big_file: Path) -> None:
    one, one_summary = _run(big_file, 1)
    two, two_summary = _run(big_file, 2)
    assert two == one
    assert two_summary == one_summary
    assert one_summary.documents == 180
    # the broken interchanges are still seen whole: GE count, IEA control number and the bad set
    assert one_summary.rejected == 3 + 3 + 1 + 1
    assert one.count("\n") == 180 and "MÜNCHEN" in one


def test_parallel_output_to_files_in_utf8_and_other_encodings(big_file: Path, tmp_path: Path) -> None:
    expected, _ = _run(big_file, 1)
    utf8 = tmp_path / "out-utf8.jsonl"
    with utf8.open("w", encoding="utf-8") as fh:  # copied as bytes
        fh.write("first line\n")
        _run(big_file, 2, fh)
        fh.write("last line\n")
    assert utf8.read_text(encoding="utf-8") == "first line\n" + expected + "last line\n"
    latin = tmp_path / "out-latin1.jsonl"
    with latin.open("w", encoding="latin-1") as fh:  # re-encoded as text
        _run(big_file, 2, fh)
    assert latin.read_text(encoding="latin-1") == expected


def test_no_temporary_files_are_left(big_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(translating.tempfile, "tempdir", None)
    _run(big_file, 2)
    assert list(scratch.iterdir()) == []
