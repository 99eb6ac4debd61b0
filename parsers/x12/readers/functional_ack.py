"""997 / 999 functional acknowledgments -> ``FunctionalAck``; TA1 segments -> ``InterchangeAck``.

Rules:
- 997: AK1, (AK2, (AK3, AK4*)*, AK5)*, AK9. 999: AK1, (AK2, (IK3, CTX*, (IK4, CTX*)*)*, IK5)*, AK9.
- AK4/IK4 element 1 is the composite C030 (position:component[:repetition]), split by ISA16.
- CTX (999) keeps its elements joined by "*"; the repetition separator inside CTX01 stays as sent.
- An unreadable status code becomes R (rejected); the validation tables report the bad value.
"""

from __future__ import annotations

from typing import Any, Literal

from parsers.canonical import (
    AckStatus,
    ElementNote,
    FunctionalAck,
    GroupAck,
    InterchangeAck,
    SegmentNote,
    TransactionSetAck,
)
from parsers.issues import Issue, Level, ParseError
from parsers.x12.readers._common import Segment, date, el, integer, opt, source_envelope, time
from parsers.x12.stream import TransactionSet

_STATUSES = {s.value: s for s in AckStatus}


def _status(value: str) -> AckStatus:
    return _STATUSES.get(value, AckStatus.REJECTED)


def _position(value: str) -> int:
    return int(value) if value.isdecimal() else 0


def read_fa(ts: TransactionSet, ack_type: Literal["997", "999"]) -> tuple[FunctionalAck, list[Issue]]:
    """Read a 997 or 999 into a FunctionalAck (one GroupAck per AK1..AK9)."""
    comp = ts.delimiters.component
    group: dict[str, Any] | None = None
    sets: list[TransactionSetAck] = []
    cur: dict[str, Any] | None = None
    seg_notes: list[SegmentNote] = []
    note: dict[str, Any] | None = None
    elements: list[ElementNote] = []
    context: list[str] = []
    groups: list[GroupAck] = []

    def close_note() -> None:
        nonlocal note, elements, context
        if note is not None:
            seg_notes.append(SegmentNote(**note, elements=elements, context=context))
        note, elements, context = None, [], []

    def close_set(status_seg: Segment | None) -> None:
        nonlocal cur, seg_notes
        close_note()
        if cur is not None:
            if status_seg is not None:
                cur["status"] = _status(el(status_seg, 1))
                cur["error_codes"] = [v.strip() for v in status_seg[2:7] if v.strip()]
            sets.append(TransactionSetAck(**cur, segments=seg_notes))
        cur, seg_notes = None, []

    for seg in ts.segments:
        sid = seg[0]
        if sid == "AK1":
            group = {"functional_id_code": el(seg, 1), "group_control_number": el(seg, 2), "version": opt(seg, 3)}
        elif sid == "AK2":
            close_set(None)
            cur = {"transaction_set_id": el(seg, 1), "control_number": el(seg, 2),
                   "implementation_reference": opt(seg, 3), "status": AckStatus.REJECTED}
        elif sid in ("AK3", "IK3"):
            close_note()
            note = {"segment_id": el(seg, 1), "position": _position(el(seg, 2)), "loop_id": opt(seg, 3),
                    "error_code": opt(seg, 4)}
        elif sid in ("AK4", "IK4"):
            parts = el(seg, 1).split(comp)
            ints = [integer(p) if p else None for p in parts] + [None, None]
            elements.append(ElementNote(position=ints[0] or 0, component_position=ints[1],
                                        repetition_position=ints[2] if len(parts) > 2 else None,
                                        reference_number=opt(seg, 2), error_code=el(seg, 3), bad_value=opt(seg, 4)))
        elif sid == "CTX":
            context.append("*".join(seg[1:]).rstrip("*"))
        elif sid in ("AK5", "IK5"):
            close_set(seg)
        elif sid == "AK9":
            close_set(None)
            g = group or {"functional_id_code": "", "group_control_number": ""}
            groups.append(GroupAck(**g, status=_status(el(seg, 1)), sets_included=integer(opt(seg, 2)),
                                   sets_received=integer(opt(seg, 3)), sets_accepted=integer(opt(seg, 4)),
                                   error_codes=[v.strip() for v in seg[5:10] if v.strip()], transaction_sets=sets))
            sets = []
            group = None
    close_set(None)
    if group is not None or sets:  # AK9 missing: keep what was acknowledged (the validation reports it)
        g = group or {"functional_id_code": "", "group_control_number": ""}
        groups.append(GroupAck(**g, status=AckStatus.REJECTED, transaction_sets=sets))
    return FunctionalAck(ack_type=ack_type, groups=groups, source=source_envelope(ts)), []


def read_ta1(seg: list[str]) -> InterchangeAck:
    """Read a TA1 segment (``["TA1", TA101, ..., TA105]``) into an InterchangeAck; ParseError when unusable."""
    if not seg or seg[0] != "TA1" or len(seg) < 5:
        raise ParseError.of("x12.ta1.short", f"TA1 needs 5 elements, got {max(len(seg) - 1, 0)}",
                            level=Level.INTERCHANGE, segment="TA1")
    status = el(seg, 4)
    note = el(seg, 5) or ("000" if status == "A" else "")  # real partners drop TA105 when all is well
    if not note:
        raise ParseError.of("x12.ta1.note_code", f"TA105 note code is missing for status {status!r}",
                            level=Level.INTERCHANGE, segment="TA1", element=5)
    if status not in ("A", "E", "R"):
        raise ParseError.of("x12.ta1.status", f"TA104 acknowledgment code {status!r} must be A, E or R",
                            level=Level.INTERCHANGE, segment="TA1", element=4, value=status[:20])
    control = el(seg, 1)
    if not control:
        raise ParseError.of("x12.ta1.control_number", "TA101 interchange control number is empty",
                            level=Level.INTERCHANGE, segment="TA1", element=1)
    return InterchangeAck(control_number=control, interchange_date=date(opt(seg, 2)),
                          interchange_time=time(opt(seg, 3)), status=_STATUSES[status], note_code=note)
