"""Validation rules: each fires with the right X12 code and position."""

from __future__ import annotations

import pytest

from parsers.issues import Level, Severity
from tests.x12._build import BEG, PO1, envelope, fixture, one_set, po


def _codes(result, level: Level) -> list[tuple[str | None, int | None, int | None, str | None]]:
    return [(i.segment, i.position, i.element, i.x12_code) for i in result.issues if i.level is level]


def test_valid_minimal_850_is_accepted() -> None:
    _, r = one_set(envelope(po(BEG, PO1, "CTT*1")))
    assert r.status == "accepted", r.issues


@pytest.mark.parametrize(("line", "element", "code"), [
    ("BEG*00*SA**20240115", 3, "1"),                      # mandatory element missing (shifted: BEG03 empty)
    ("BEG*00*SA*P1**2024011", 5, "8"),                    # bad date
    ("BEG*00*SA*P1**20240230", 5, "8"),                   # no 30 February
    ("BEG*99X*SA*P1**20240115", 1, "7"),                  # invalid code value (purpose)
    ("BEG*00*SA*" + "X" * 23 + "**20240115", 3, "5"),     # too long
    ("BEG*00*SA*P1**20240115*C*AC*ABC*P1*A1*Z1*Z2*EXTRA", 13, "3"),  # too many elements
])
def test_element_rules(line: str, element: int, code: str) -> None:
    _, r = one_set(envelope(po(line, PO1, "CTT*1")), strict=True)
    assert ("BEG", 2, None, "8") in _codes(r, Level.SEGMENT)
    assert ("BEG", 2, element, code) in _codes(r, Level.ELEMENT)
    assert r.status == "rejected"
    # Lenient (the default): lengths, characters and syntax notes are reported as warnings; the rest still rejects.
    _, lenient = one_set(envelope(po(line, PO1, "CTT*1")))
    assert ("BEG", 2, element, code) in _codes(lenient, Level.ELEMENT)
    tolerated = code == "5"  # of these cases only "too long" leaves the data usable
    assert lenient.status == ("accepted_with_warnings" if tolerated else "rejected")


def test_numbers_times_and_reference_numbers() -> None:
    _, r = one_set(envelope(po(BEG, "DTM*002*20240115*2561", "PO1*1*2X*EA*3.5", "CTT*1")))
    el = {(i.segment, i.element): i for i in r.issues if i.level is Level.ELEMENT}
    assert el[("DTM", 3)].x12_code == "9" and el[("DTM", 3)].reference_number == "337"
    assert el[("PO1", 2)].x12_code == "6" and el[("PO1", 2)].value == "2X" and el[("PO1", 2)].reference_number == "330"


def test_unknown_uom_is_code_7() -> None:
    _, r = one_set(envelope(po(BEG, "PO1*1*25*INVALID*36*PE*MG*XYZ-1234", "CTT*1")))
    (issue,) = [i for i in r.issues if i.level is Level.ELEMENT]
    assert (issue.segment, issue.position, issue.element, issue.x12_code, issue.value) == ("PO1", 3, 3, "7", "INVALID")
    assert issue.reference_number == "355" and issue.severity is Severity.ERROR


def test_syntax_notes_paired_conditional_and_exclusion() -> None:
    _, r = one_set(envelope(po(BEG, "PO1*1*120*EA*9.25*TE*CB**PR*RO", "PO4*6*6*EA*PLT94*X**LR*10*CT",
                                "TD3*TL***G*10*LB", "CTT*1")))
    el = _codes(r, Level.ELEMENT)
    assert ("PO1", 3, 7, "2") in el           # P0607
    assert ("PO4", 4, 6, "2") in el           # C0506 and P0607
    assert all(i.x12_code != "10" for i in r.issues)
    _, r = one_set(envelope(po(BEG, "TD3*TL*AB*123*******ABCD", PO1, "CTT*1")))
    assert ("TD3", 3, 10, "10") in _codes(r, Level.ELEMENT)  # E0110: TD301 and TD310 both present


def test_structure_missing_unexpected_sequence_and_max_use() -> None:
    _, r = one_set(envelope(po(BEG, "CTT*1")))
    assert ("PO1", 3, None, "3") in _codes(r, Level.SEGMENT)           # mandatory PO1 loop missing
    _, r = one_set(envelope(po(PO1, "CTT*1")))
    assert ("BEG", 2, None, "3") in _codes(r, Level.SEGMENT)
    _, r = one_set(envelope(po(BEG, BEG, PO1, "CTT*1")))
    assert ("BEG", 3, None, "5") in _codes(r, Level.SEGMENT)           # segment exceeds maximum use
    _, r = one_set(envelope(po(BEG, PO1, "ZZZ*1", "CTT*1")))
    assert ("ZZZ", 4, None, "2") in _codes(r, Level.SEGMENT) and r.status == "rejected"
    _, r = one_set(envelope(po(BEG, PO1, "NTE**HELLO", "CTT*1")))
    assert r.status == "accepted_with_warnings" and ("NTE", 4, None, "2") in _codes(r, Level.SEGMENT)
    _, r = one_set(envelope(po(BEG, PO1, "CUR*BY*USD*", "CTT*1")))  # CUR is heading-only... and repeated in PO1
    _, r = one_set(envelope(po(BEG, PO1, "BEG*00*SA*P2**20240115", "CTT*1")))
    assert ("BEG", 4, None, "7") in _codes(r, Level.SEGMENT) and r.status == "accepted_with_warnings"
    _, r = one_set(envelope(po(BEG, PO1, "BEG*00*SA*P2**20240115", "CTT*1")), strict=True)
    assert r.status == "rejected"


def test_ctt_in_4010_is_mandatory_and_checked() -> None:
    _, r = one_set(envelope(po(BEG, PO1)))
    assert ("CTT", 4, None, "3") in _codes(r, Level.SEGMENT)
    _, r = one_set(envelope(po(BEG, PO1), version="005010", isa12="00501"))
    assert r.status == "accepted", r.issues
    _, r = one_set(envelope(po(BEG, PO1, "CTT*2*5")))
    codes = {i.code: i for i in r.issues}
    assert codes["x12.ctt.line_count"].severity is Severity.ERROR
    assert codes["x12.ctt.hash_total"].severity is Severity.WARNING


def test_856_hl_errors() -> None:
    body = ["ST*856*0001", "BSN*00*S1*20240115*1230", "HL*1**S", "HL*2*9*O", "HL*3*3*I", "HL*4**X1", "CTT*4"]
    body.append(f"SE*{len(body) + 1}*0001")
    _, r = one_set(envelope(body, gs01="SH"))
    el = _codes(r, Level.ELEMENT)
    assert ("HL", 4, 2, "7") in el      # unknown parent
    assert ("HL", 5, 2, "7") in el      # cycle (own parent)
    assert ("HL", 6, 3, "7") in el      # bad level code
    assert r.document is not None


def test_997_and_999_rules() -> None:
    _, r = one_set(fixture("997_invalid.x12"))
    el = _codes(r, Level.ELEMENT)
    assert ("AK1", 2, 1, "7") in el and ("AK4", 5, 2, "6") in el
    body = ["ST*997*0001", "AK1*PO*1", "AK2*850*0001", "AK5*Q", "AK9*A*1*1*1"]
    body.append(f"SE*{len(body) + 1}*0001")
    _, r = one_set(envelope(body, gs01="FA"))
    assert ("AK5", 4, 1, "7") in _codes(r, Level.ELEMENT)
    body = ["ST*999*0001", "AK1*HC*1", "AK2*837*0001", "IK3*CLM*X**8", "IK5*R*5", "AK9*R*1*1*0"]
    body.append(f"SE*{len(body) + 1}*0001")
    _, r = one_set(envelope(body, gs01="FA", version="005010X231", isa12="00501"))
    assert ("IK3", 4, 2, "6") in _codes(r, Level.ELEMENT)


def test_corpus_quirks_reproduced() -> None:
    """Fixture of every broken corpus case we flag: UOM code 7, syntax notes, unexpected, count."""
    _, r = one_set(fixture("850_broken.x12"))
    codes = {(i.code, i.segment) for i in r.issues}
    assert ("x12.element.invalid_code", "PO1") in codes
    assert ("x12.element.syntax_note", "PO1") in codes and ("x12.element.syntax_note", "PO4") in codes
    assert ("x12.segment.unexpected", "ZZZ") in codes and ("x12.segment.tolerated", "NTE") in codes
    assert ("x12.ctt.line_count", "CTT") in codes
