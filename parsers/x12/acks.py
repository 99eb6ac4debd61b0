"""Build canonical acknowledgments (997/999 GroupAck, TA1 InterchangeAck) from validation results.

Rules (X12.6 / 005010X231):
- Each SEGMENT issue of a set becomes an AK3/IK3 ``SegmentNote``; the ELEMENT issues at the same
  position nest in it as AK4/IK4 ``ElementNote``s (an element issue without a segment issue gets a
  code-8 segment note). At most 99 segment notes per set; more are dropped (the set is rejected
  anyway).
- AK5/IK5: R when the set has any error, E when it only has warnings that carry an X12 code the
  standard lets through (accepted with errors noted), A otherwise. AK502.. are the codes of the
  set's TRANSACTION-level errors (5 "one or more segments in error" when only segments failed).
- AK9: A when every set is accepted, E when all are accepted but some with errors, P when some are
  rejected, R when all are rejected or the group itself has an error; AK902 = GE01 as sent,
  AK903 = sets received, AK904 = sets accepted (A or E); AK905.. from the group's errors.
- TA1: TA104 R when the interchange has an error, E when it only has coded warnings, A otherwise;
  TA105 is the first interchange error's note code (000 when none).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Literal

from parsers.canonical import AckStatus, ElementNote, GroupAck, InterchangeAck, SegmentNote, TransactionSetAck
from parsers.issues import Issue, Level, Severity
from parsers.x12.readers import SetResult
from parsers.x12.stream import GroupEnd, GroupStart, InterchangeEnd, InterchangeStart, TransactionSet

MAX_SEGMENT_NOTES = 99
_SEGMENT_CODES_999 = frozenset({"1", "2", "3", "4", "5", "6", "7", "8", "I4", "I6", "I7", "I8", "I9"})


def _element_note(issue: Issue) -> ElementNote:
    return ElementNote(position=issue.element or 0, component_position=issue.component,
                       reference_number=issue.reference_number if (issue.reference_number or "").isdecimal() else None,
                       error_code=issue.x12_code or "1", bad_value=issue.value)


def segment_notes(issues: Sequence[Issue], *, include_warnings: bool = False) -> list[SegmentNote]:
    """AK3/IK3 notes (with nested AK4/IK4) from a set's SEGMENT and ELEMENT issues, in position order."""
    by_position: dict[tuple[int, str], SegmentNote] = {}
    for issue in issues:
        if issue.level is not Level.SEGMENT or not issue.segment:
            continue
        if issue.severity is not Severity.ERROR and not include_warnings:
            continue
        key = (issue.position or 0, issue.segment)
        if key not in by_position:
            by_position[key] = SegmentNote(segment_id=issue.segment[:3], position=issue.position or 0,
                                           loop_id=(issue.loop_id or None) if issue.x12_code in ("3", "4") else None,
                                           error_code=issue.x12_code or "8")
    for issue in issues:
        if issue.level is not Level.ELEMENT or not issue.segment:
            continue
        if issue.severity is not Severity.ERROR and not include_warnings:
            continue
        key = (issue.position or 0, issue.segment)
        note = by_position.get(key)
        if note is None:
            note = by_position[key] = SegmentNote(segment_id=issue.segment[:3], position=issue.position or 0,
                                                  error_code="8")
        note.elements.append(_element_note(issue))
    notes = sorted(by_position.values(), key=lambda n: n.position)
    return notes[:MAX_SEGMENT_NOTES]


def set_ack(ts: TransactionSet, result: SetResult, ack_type: Literal["997", "999"] = "997") -> TransactionSetAck:
    """The AK2..AK5 (or AK2/IK3/IK4/IK5) response for one transaction set."""
    errors = [i for i in result.issues if i.severity is Severity.ERROR]
    coded_warnings = [i for i in result.issues if i.severity is Severity.WARNING and i.x12_code
                      and i.level in (Level.TRANSACTION, Level.SEGMENT, Level.ELEMENT)]
    if errors:
        status = AckStatus.REJECTED
        codes: list[str] = []
        for i in errors:
            if i.level is Level.TRANSACTION and i.x12_code and i.x12_code not in codes:
                codes.append(i.x12_code)
        if any(i.level in (Level.SEGMENT, Level.ELEMENT) for i in errors) and "5" not in codes:
            codes.append("5")
        notes = segment_notes(result.issues)
    elif coded_warnings:
        status, codes, notes = AckStatus.ACCEPTED_WITH_ERRORS, [], segment_notes(result.issues, include_warnings=True)
    else:
        status, codes, notes = AckStatus.ACCEPTED, [], []
    if ack_type == "999":
        notes = [n for n in notes if n.error_code in _SEGMENT_CODES_999]
    return TransactionSetAck(transaction_set_id=ts.id[:3] or "000", control_number=ts.control_number or "0000",
                             implementation_reference=ts.implementation_reference if ack_type == "999" else None,
                             status=status, error_codes=codes[:5], segments=notes)


def _group_codes(issues: Iterable[Issue]) -> list[str]:
    out: list[str] = []
    for i in issues:
        if i.severity is Severity.ERROR and i.x12_code and i.x12_code not in out:
            out.append(i.x12_code)
    return out[:5]


def group_ack(group: GroupStart, end: GroupEnd | None, results: Sequence[tuple[TransactionSet, SetResult]],
              ack_type: Literal["997", "999"] = "997") -> GroupAck:
    """The AK1..AK9 response for one functional group, from its sets' results and its envelope issues."""
    sets = [set_ack(ts, result, ack_type) for ts, result in results]
    accepted = sum(1 for s in sets if s.status in (AckStatus.ACCEPTED, AckStatus.ACCEPTED_WITH_ERRORS))
    group_issues = list(group.issues) + (list(end.issues) if end is not None else [])
    codes = _group_codes(group_issues)
    received = len(sets)
    if codes or (received and accepted == 0):
        status = AckStatus.REJECTED
    elif accepted < received:
        status = AckStatus.PARTIALLY_ACCEPTED
    elif any(s.status is AckStatus.ACCEPTED_WITH_ERRORS for s in sets):
        status = AckStatus.ACCEPTED_WITH_ERRORS
    else:
        status = AckStatus.ACCEPTED
    if codes:
        accepted = 0 if status is AckStatus.REJECTED else accepted
    included = received
    if end is not None and end.ge is not None and len(end.ge) > 1 and end.ge[1].strip().isdecimal():
        included = int(end.ge[1].strip())
    return GroupAck(functional_id_code=group.functional_id_code[:2] or "ZZ",
                    group_control_number=group.control_number or "0",
                    version=group.version or None if ack_type == "999" else None, status=status,
                    sets_included=included, sets_received=received, sets_accepted=accepted, error_codes=codes,
                    transaction_sets=sets)


def interchange_ack(start: InterchangeStart, end: InterchangeEnd | None, date: dt.date | None = None,
                    time: dt.time | None = None) -> InterchangeAck:
    """The TA1 for an interchange: its control number, date/time (ISA09/ISA10 unless given), status and note."""
    issues = list(start.issues) + (list(end.issues) if end is not None else [])
    errors = [i for i in issues if i.severity is Severity.ERROR and i.level is Level.INTERCHANGE]
    coded = [i for i in issues if i.severity is Severity.WARNING and i.x12_code and i.level is Level.INTERCHANGE]
    if errors:
        status, note = AckStatus.REJECTED, next((i.x12_code for i in errors if i.x12_code), "024")
    elif coded:
        status, note = AckStatus.ACCEPTED_WITH_ERRORS, coded[0].x12_code or "000"
    else:
        status, note = AckStatus.ACCEPTED, "000"
    return InterchangeAck(control_number=start.control_number or "000000000",
                          interchange_date=date if date is not None else start.date,
                          interchange_time=time if time is not None else start.time, status=status, note_code=note)
