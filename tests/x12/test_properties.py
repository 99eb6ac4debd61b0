"""Property tests: tokenizer round trip with random delimiters; arbitrary bytes never crash the readers."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.issues import ParseError
from parsers.x12 import TransactionSet, iter_x12, read_transaction_set
from tests.x12._build import envelope, fixture

SAFE = string.ascii_uppercase + string.digits + " .-"
seg_ids = st.text(string.ascii_uppercase, min_size=1, max_size=1).flatmap(
    lambda a: st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=2).map(lambda b: a + b)
).filter(lambda t: t not in {"ST", "SE", "GS", "GE", "ISA", "IEA", "TA1", "ISB", "ISE"})
elements = st.lists(st.text(SAFE, min_size=0, max_size=8).map(str.strip).filter(bool) | st.just(""),
                    min_size=1, max_size=6).filter(lambda els: els[-1] != "")
segments = st.lists(st.tuples(seg_ids, elements).map(lambda t: [t[0], *t[1]]), min_size=0, max_size=12)
DELIMS = [("*", ">", "^", "~"), ("|", ":", "^", "~"), ("*", ":", "^", "\n"), ("*", ">", "^", "~\r\n"),
          ("*", ":", "!", "…"), ("^", "}", "+", "\x15")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(segments, st.sampled_from(DELIMS))
def test_round_trip(segs: list[list[str]], delims: tuple[str, str, str, str]) -> None:
    element, component, repetition, terminator = delims
    body = ["ST*850*0001", *["*".join(s) for s in segs], f"SE*{len(segs) + 2}*0001"]
    raw = envelope(body, element=element, component=component, repetition=repetition, terminator=terminator,
                   isa12="00501", version="005010")
    if element != "*":
        raw = raw.replace(b"*", element.encode())
    sets = [e for e in iter_x12(raw) if isinstance(e, TransactionSet)]
    assert len(sets) == 1
    assert sets[0].segments[1:-1] == segs
    read_transaction_set(sets[0])  # and the reader copes with whatever the segments are


def _read_all(data: bytes) -> None:
    try:
        for event in iter_x12(data):
            if isinstance(event, TransactionSet):
                read_transaction_set(event)
    except ParseError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    _read_all(data)


VALID = [fixture(n) for n in ("850_4010.x12", "856_sopi.x12", "810_4010.x12", "997_4010.x12", "999_5010.x12")]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(VALID), st.lists(st.tuples(st.integers(0, 2000), st.binary(min_size=0, max_size=3)),
                                          min_size=1, max_size=6))
def test_mutated_interchanges_never_crash(base: bytes, edits: list[tuple[int, bytes]]) -> None:
    data = bytearray(base)
    for pos, chunk in edits:
        pos %= max(len(data), 1)
        data[pos : pos + len(chunk) or pos + 1] = chunk
    _read_all(bytes(data))


def test_unicode_digits_in_counts_and_control_numbers_are_errors_not_crashes() -> None:
    """'²'.isdigit() is True but int('²') raises: numbers must be ASCII digits (found by hypothesis)."""
    from parsers.translate import translate

    data = ("ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240115*1230*^*00501*000000101*0*P*>~"
            "GS*PO*SENDER*RECEIVER*20240115*1230*101*X*005010~ST*850*0001~BEG*00*SA*P1**20240115~PO1*1*²*EA~"
            "SE*²*0001~GE*1*101~IEA*1*²00000101~").encode()
    results = list(translate(data, name="unicode-digits"))
    assert results and all(t.status == "rejected" for t in results)
    codes = {i.code for t in results for i in t.issues}
    assert "x12.se.segment_count" in codes and "x12.iea.control_number" in codes
