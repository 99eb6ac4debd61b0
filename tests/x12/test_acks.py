"""Ack builders: AK2..AK9 / IK3..IK5 and TA1 from validation results."""

from __future__ import annotations

import datetime as dt

from parsers.canonical import AckStatus
from parsers.x12 import (
    GroupEnd,
    GroupStart,
    InterchangeEnd,
    InterchangeStart,
    TransactionSet,
    group_ack,
    interchange_ack,
    read_transaction_set,
    read_x12,
)
from tests.x12._build import BEG, PO1, envelope, po


def _group(data: bytes, ack_type: str = "997"):
    events = read_x12(data)
    gs = next(e for e in events if isinstance(e, GroupStart))
    ge = next(e for e in events if isinstance(e, GroupEnd))
    results = [(ts, read_transaction_set(ts)) for ts in events if isinstance(ts, TransactionSet)]
    return group_ack(gs, ge, results, ack_type), events  # type: ignore[arg-type]


def test_all_accepted() -> None:
    ack, _ = _group(envelope(po(BEG, PO1, "CTT*1")))
    assert ack.status is AckStatus.ACCEPTED and (ack.sets_included, ack.sets_received, ack.sets_accepted) == (1, 1, 1)
    assert ack.transaction_sets[0].status is AckStatus.ACCEPTED and ack.version is None


def test_partial_with_nested_segment_and_element_notes() -> None:
    good = po(BEG, PO1, "CTT*1")
    bad = [s.replace("0001", "0002") for s in po(BEG, "PO1*1*25*INVALID*36*PE*MG*XYZ-1234", "ZZZ*1", "CTT*1")]
    ack, _ = _group(envelope(good + bad))
    assert ack.status is AckStatus.PARTIALLY_ACCEPTED and ack.sets_accepted == 1
    rejected = ack.transaction_sets[1]
    assert rejected.control_number == "0002" and rejected.status is AckStatus.REJECTED and "5" in rejected.error_codes
    notes = {(n.segment_id, n.position, n.error_code): n for n in rejected.segments}
    po1 = notes[("PO1", 3, "8")]
    assert [(e.position, e.reference_number, e.error_code, e.bad_value) for e in po1.elements] == [
        (3, "355", "7", "INVALID")]
    assert ("ZZZ", 4, "2") in notes


def test_warnings_give_e_and_group_errors_give_r() -> None:
    ack, _ = _group(envelope(po(BEG, PO1, "NTE**HI", "CTT*1")))
    assert ack.status is AckStatus.ACCEPTED_WITH_ERRORS
    assert ack.transaction_sets[0].status is AckStatus.ACCEPTED_WITH_ERRORS
    data = envelope(po(BEG, PO1, "CTT*1")).replace(b"GE*1*101", b"GE*3*101")
    ack, _ = _group(data)
    assert ack.status is AckStatus.REJECTED and ack.error_codes == ["5"] and ack.sets_included == 3


def test_999_version_and_cap() -> None:
    lines = [BEG, *[f"PO1*{i}*1*@@*1" for i in range(1, 120)], "CTT*119"]
    ack, _ = _group(envelope(po(*lines)), "999")
    assert ack.version == "004010" and len(ack.transaction_sets[0].segments) == 99


def test_interchange_ack() -> None:
    events = read_x12(envelope(po(BEG, PO1, "CTT*1")))
    start = next(e for e in events if isinstance(e, InterchangeStart))
    end = next(e for e in events if isinstance(e, InterchangeEnd))
    ta1 = interchange_ack(start, end)
    assert (ta1.control_number, ta1.status, ta1.note_code) == ("000000101", AckStatus.ACCEPTED, "000")
    assert ta1.interchange_date == dt.date(2024, 1, 15)
    events = read_x12(envelope(po(BEG, PO1, "CTT*1")).replace(b"IEA*1*000000101", b"IEA*1*000000999"))
    start = next(e for e in events if isinstance(e, InterchangeStart))
    end = next(e for e in events if isinstance(e, InterchangeEnd))
    ta1 = interchange_ack(start, end, dt.date(2024, 2, 1), dt.time(9, 30))
    assert (ta1.status, ta1.note_code, ta1.interchange_time) == (AckStatus.REJECTED, "001", dt.time(9, 30))
