"""Helpers for X12 tests: load fixtures, wrap segments in an ISA/GS envelope, read the first set."""

from __future__ import annotations

from pathlib import Path

from parsers.x12 import SetResult, TransactionSet, read_transaction_set, read_x12

FIXTURES = Path(__file__).parents[1] / "fixtures" / "x12"


def fixture(name: str) -> bytes:
    """The bytes of a fixture file in tests/fixtures/x12."""
    return (FIXTURES / name).read_bytes()


def envelope(body: list[str], *, gs01: str = "PO", version: str = "004010", isa12: str = "00401",
             element: str = "*", component: str = ">", repetition: str = "^", terminator: str = "~\n") -> bytes:
    """An interchange around ``body`` (ST..SE segments written with ``*``), using the given delimiters."""
    isa11 = repetition if isa12 >= "00402" else "U"
    isa = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ", "RECEIVER".ljust(15), "240115",
           "1230", isa11, isa12, "000000101", "0", "P", component]
    segs = [isa, ["GS", gs01, "SENDER", "RECEIVER", "20240115", "1230", "101", "X", version]]
    segs += [s.split("*") for s in body]
    segs += [["GE", str(sum(1 for s in body if s.startswith("ST*"))), "101"], ["IEA", "1", "000000101"]]
    text = "".join(element.join(s) + terminator for s in segs)
    return text.encode("utf-8")


def one_set(data: bytes, *, strict: bool = False) -> tuple[TransactionSet, SetResult]:
    """The first transaction set in ``data`` and its reading result."""
    ts = next(e for e in read_x12(data) if isinstance(e, TransactionSet))
    return ts, read_transaction_set(ts, strict=strict)


def po(*lines: str, se: bool = True) -> list[str]:
    """An 850 body: ST, the given segments, SE with the right count."""
    body = ["ST*850*0001", *lines]
    if se:
        body.append(f"SE*{len(body) + 1}*0001")
    return body


BEG = "BEG*00*SA*P1**20240115"
PO1 = "PO1*1*2*EA*3.5**VN*X"
