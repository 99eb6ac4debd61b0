"""Acknowledgment writers: TA1, 997 (004010) and 999 (005010X231A1) from a canonical FunctionalAck.

Rules:
- One 997/999 transaction set per acknowledged functional group (one AK1 ... AK9 each); all of
  them go in one GS*FA group. TA1 segments sit right after ISA, before any GS; an ack with no
  groups is a TA1-only interchange (IEA01 = 0).
- 997: AK1*fid*gcn, AK2*set*control, AK3*seg*pos*loop*code, AK4*pos:comp*ref*code*value, AK5, AK9.
- 999: AK1*fid*gcn*version (AK103 required), AK2 (+AK203), IK3, CTX (SegmentNote.context),
  IK4*pos:comp:rep*ref*code*value, IK5, AK9. ST03 and GS08 are ``005010X231A1``.
- AK404/IK404 and CTX copy the partner's bad data; delimiters and control characters are dropped
  from those copies (X12 cannot escape them) and they are cut to the element's maximum length.
- A ``SegmentNote.context`` entry is one CTX segment in delimiter-free notation: its elements
  joined with ``*`` and the components of an element with ``:``, e.g.
  ``"SITUATIONAL TRIGGER*N1*5**2"`` or ``"CLM01:12345"``.
- AK9 counts default to the listed transaction set acks: included = received = how many are
  listed, accepted = those with status A or E.
"""

from __future__ import annotations

from collections.abc import Sequence

from outbound.writers.x12 import (
    Element,
    FunctionalGroup,
    Segment,
    SegmentWriter,
    TransactionSet,
    WriterError,
    X12Envelope,
    write_interchange,
)
from parsers.canonical import AckStatus, FunctionalAck, GroupAck, InterchangeAck, SegmentNote, TransactionSetAck

ACK_999_VERSION = "005010X231A1"
_MAX_BAD_VALUE = 99  # AK404 / IK404 max length
_MAX_CODES = 5  # AK502..AK506, AK905..AK909
_ACCEPTED = (AckStatus.ACCEPTED, AckStatus.ACCEPTED_WITH_ERRORS)


def ta1_segment(ack: InterchangeAck) -> Segment:
    """TA1*control number (9 digits)*YYMMDD*HHMM*status*note code for one received interchange."""
    if not ack.control_number.isdigit() or len(ack.control_number) > 9:
        raise WriterError(f"interchange control number {ack.control_number!r} is not 1-9 digits", field="TA101")
    if ack.interchange_date is None or ack.interchange_time is None:
        raise WriterError("the acknowledged interchange's date and time are required", field="TA102")
    if ack.status.value not in ("A", "E", "R"):
        raise WriterError(f"TA1 status must be A, E or R, got {ack.status.value}", field="TA104")
    if len(ack.note_code) != 3 or not ack.note_code.isdigit():
        raise WriterError(f"note code {ack.note_code!r} is not three digits", field="TA105")
    d, t = ack.interchange_date, ack.interchange_time
    return [
        "TA1",
        ack.control_number.zfill(9),
        f"{d.year % 100:02d}{d.month:02d}{d.day:02d}",
        f"{t.hour:02d}{t.minute:02d}",
        ack.status.value,
        ack.note_code,
    ]


def _codes(codes: Sequence[str], field: str) -> list[Element]:
    if len(codes) > _MAX_CODES:
        raise WriterError(f"{len(codes)} error codes; at most {_MAX_CODES} fit", field=field)
    return list(codes)


def _context(entry: str, w: SegmentWriter) -> Segment:
    elements = entry.split("*")
    if not elements or not elements[0]:
        raise WriterError(f"context {entry!r} has no CTX01", field="CTX01")
    out: list[Element] = ["CTX"]
    for element in elements:
        comps = [w.sanitize(c, 60) for c in element.split(":")]
        out.append(comps if len(comps) > 1 else comps[0])
    return out


def _segment_note(note: SegmentNote, is_999: bool, w: SegmentWriter) -> list[Segment]:
    tag = "IK3" if is_999 else "AK3"
    out: list[Segment] = [[tag, w.sanitize(note.segment_id, 3), str(note.position), note.loop_id, note.error_code]]
    if is_999:
        out.extend(_context(entry, w) for entry in note.context)
    for element in note.elements:
        position: list[str] = [str(element.position)]
        if element.component_position is not None or (is_999 and element.repetition_position is not None):
            position.append(str(element.component_position) if element.component_position is not None else "")
        if is_999 and element.repetition_position is not None:
            position.append(str(element.repetition_position))
        bad = (w.sanitize(element.bad_value, _MAX_BAD_VALUE) or None) if element.bad_value else None
        out.append([
            "IK4" if is_999 else "AK4",
            position,
            element.reference_number,
            element.error_code,
            bad,
        ])
    return out


def _set_ack(tx: TransactionSetAck, is_999: bool, w: SegmentWriter) -> list[Segment]:
    out: list[Segment] = [
        ["AK2", tx.transaction_set_id, tx.control_number, tx.implementation_reference if is_999 else None]
    ]
    for note in tx.segments:
        out.extend(_segment_note(note, is_999, w))
    trailer = "IK5" if is_999 else "AK5"
    out.append([trailer, tx.status.value, *_codes(tx.error_codes, f"{trailer}02")])
    return out


def group_ack_set(group: GroupAck, ack_type: str, w: SegmentWriter) -> TransactionSet:
    """The 997 or 999 transaction set (ST first, no SE) that acknowledges one functional group."""
    is_999 = ack_type == "999"
    if is_999 and not group.version:
        raise WriterError(f"group {group.group_control_number}: AK103 version is required in a 999", field="AK103")
    segments: list[Segment] = [
        ["ST", ack_type],
        ["AK1", group.functional_id_code, group.group_control_number, group.version if is_999 else None],
    ]
    for tx in group.transaction_sets:
        segments.extend(_set_ack(tx, is_999, w))
    listed = len(group.transaction_sets)
    included = group.sets_included if group.sets_included is not None else listed
    received = group.sets_received if group.sets_received is not None else listed
    accepted = group.sets_accepted
    if accepted is None:
        accepted = sum(1 for tx in group.transaction_sets if tx.status in _ACCEPTED)
    segments.append(
        ["AK9", group.status.value, str(included), str(received), str(accepted), *_codes(group.error_codes, "AK905")]
    )
    return segments


def write_functional_ack(
    ack: FunctionalAck, envelope: X12Envelope, st_numbers: Sequence[int] | None = None
) -> bytes:
    """A whole interchange carrying ``ack``: TA1s after ISA, then one GS*FA with a 997/999 per group.

    ``st_numbers`` defaults to 1..n. For a 999 the envelope must be 00501 or later; the FA group's
    GS08 is then ``005010X231A1`` whatever ``envelope.version`` says.
    """
    repetition_active = envelope.isa_version >= "00402"
    w = SegmentWriter(envelope.delimiters, repetition_active=repetition_active, encoding=envelope.encoding)
    ta1 = [ta1_segment(t) for t in ack.interchange_acks]
    if ack.ack_type == "TA1" and ack.groups:
        raise WriterError("a TA1 acknowledgment carries no functional groups", field="ack_type")
    if ack.ack_type == "999" and envelope.isa_version < "00501":
        raise WriterError(f"a 999 needs a 00501 envelope, not {envelope.version}", field="version")
    groups: list[FunctionalGroup] = []
    if ack.groups:
        sets = [group_ack_set(g, ack.ack_type, w) for g in ack.groups]
        version = ACK_999_VERSION if ack.ack_type == "999" else None
        groups.append(FunctionalGroup("FA", sets, version))
    elif not ta1:
        raise WriterError("nothing to acknowledge: no groups and no interchange acks", field="groups")
    count = len(ack.groups)
    numbers = list(st_numbers) if st_numbers is not None else list(range(1, count + 1))
    return write_interchange(envelope, groups, numbers, ta1_segments=ta1)
