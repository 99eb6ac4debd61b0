"""The validation engine: checks a transaction set's segments against the segment and structure tables.

Rules:
- Tables are compiled once, at import, into plain tuples; checking an element is a few string
  operations (``isdigit``, ``len``, set membership), never a regular expression.
- Element problems become ELEMENT issues (AK4/IK4 codes) and their segment gets one SEGMENT issue
  with code 8; structure problems become SEGMENT issues (AK3/IK3 codes 2, 3, 4, 5, 7).
- Positions: ``position`` is the segment's position in the set (ST = 1), ``element`` and
  ``component`` are 1-based; ``reference_number`` is the data element reference number (AK402).
- Severity: broken syntax, lengths, types, closed code lists, missing mandatory segments are
  errors. Open code lists, out-of-sequence segments (unless ``strict``), tolerated extra segments
  and trailing empty elements are warnings: they do not reject a partner's document.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import cast

from parsers.issues import Issue, Level, Severity, error, warning
from parsers.x12.rules.segments import SEGMENTS_4010, SEGMENTS_5010, Composite, E, SegmentSpec
from parsers.x12.rules.structure import STRUCTURES, TOLERATED, Node
from parsers.x12.rules.structure import vocabulary as _vocabulary

# element kinds (compiled)
_AN, _ID, _N, _R, _DT, _TM, _B = range(7)
_KINDS = {"AN": _AN, "ID": _ID, "N0": _N, "N1": _N, "N2": _N, "N3": _N, "N4": _N, "R": _R, "DT": _DT, "TM": _TM,
          "B": _B}
_MAX_ECHO = 99  # AK404 max length


@dataclass(frozen=True, slots=True)
class _El:
    """A compiled simple element: reference, mandatory?, kind, lengths, codes, open list?"""

    ref: str
    mandatory: bool
    kind: int
    min: int
    max: int
    codes: frozenset[str] | None
    open_codes: bool
    type_name: str


@dataclass(frozen=True, slots=True)
class _Comp:
    """A compiled composite element."""

    ref: str
    mandatory: bool
    components: tuple[_El, ...]
    repeat: int


@dataclass(frozen=True, slots=True)
class _Note:
    """A compiled syntax note: kind letter and 1-based element positions."""

    kind: str
    positions: tuple[int, ...]
    text: str


@dataclass(frozen=True, slots=True)
class _Seg:
    """A compiled segment spec."""

    elements: tuple[_El | _Comp, ...]
    notes: tuple[_Note, ...]
    checks: _Checks  # segment length -> (segment, six-digit dates ok) -> True when nothing is wrong

    def clean(self, seg: Sequence[str], six: bool) -> bool:
        """True when ``seg`` has no element problem (``explain_segment`` would find nothing)."""
        return self.checks[len(seg)](seg, six)


def _compile_el(e: E) -> _El:
    return _El(e.ref, e.req == "M", _KINDS[e.type], e.min, e.max, e.codes, e.open_codes, e.type)


def _compile_note(text: str) -> _Note:
    digits = text[1:]
    return _Note(text[0], tuple(int(digits[i : i + 2]) for i in range(0, len(digits), 2)), text)


def _compile(sid: str, spec: SegmentSpec) -> _Seg:
    elements: list[_El | _Comp] = []
    for e in spec.elements:
        if isinstance(e, Composite):
            elements.append(_Comp(e.ref, e.req == "M", tuple(_compile_el(x) for x in e.components), e.repeat))
        else:
            elements.append(_compile_el(e))
    notes = tuple(_compile_note(n) for n in spec.notes)
    return _Seg(tuple(elements), notes, _Checks(sid, tuple(elements), notes))


def family(version: str) -> str:
    """The table family for a GS08 version: "5010" for 005xxx and later, else "4010"."""
    return "5010" if version[:3] >= "005" and version[:1].isdecimal() else "4010"


# --------------------------------------------------------------------------- element checks


def _valid_date(v: str, six_ok: bool) -> bool:
    n = len(v)
    if not (v.isascii() and v.isdecimal()) or (n != 8 and not (six_ok and n == 6)):
        return False
    try:
        if n == 8:
            dt.date(int(v[:4]), int(v[4:6]), int(v[6:]))
        else:
            dt.date(2000 + int(v[:2]), int(v[2:4]), int(v[4:]))
    except ValueError:
        return False
    return True


def _valid_time(v: str) -> bool:
    n = len(v)
    if not (v.isascii() and v.isdecimal()) or n not in (4, 6, 7, 8):
        return False
    return int(v[:2]) < 24 and int(v[2:4]) < 60 and (n < 6 or int(v[4:6]) < 60)


def _check_value(el: _El, v: str, six_ok: bool) -> tuple[str, str, bool] | None:
    """(AK403 code, message, is_error) for a bad non-empty value, or None when it is fine."""
    kind = el.kind
    if kind == _ID:
        if el.codes is not None:
            if v in el.codes:
                return None
            return "7", f"code {v!r} is not a valid value for element {el.ref}", not el.open_codes
    elif kind == _N:
        digits = v[1:] if v[:1] == "-" else v
        if not (digits.isascii() and digits.isdecimal()):
            return "6", f"{v!r} is not a whole number (type {el.type_name})", True
        n = len(digits)
        if n < el.min:
            return "4", f"{v!r} is shorter than {el.min} digits", True
        if n > el.max:
            return "5", f"{v!r} is longer than {el.max} digits", True
        return None
    elif kind == _R:
        digits = v[1:] if v[:1] == "-" else v
        plain = digits.replace(".", "", 1)
        if not (plain.isascii() and plain.isdecimal()):
            return "6", f"{v!r} is not a decimal number", True
        if len(plain) > el.max:
            return "5", f"{v!r} has more than {el.max} digits", True
        return None
    elif kind == _DT:
        if _valid_date(v, six_ok or el.min == 6):
            return None
        return "8", f"{v!r} is not a valid date (CCYYMMDD)", True
    elif kind == _TM:
        if _valid_time(v):
            return None
        return "9", f"{v!r} is not a valid time (HHMM[SS])", True
    n = len(v)
    if n < el.min:
        return "4", f"{v!r} is shorter than the minimum length {el.min}", True
    if n > el.max:
        return "5", f"value of {n} characters is longer than the maximum length {el.max}", True
    if kind == _AN and not v.isprintable():
        return "6", f"{v!r} contains control characters", True
    return None


# --------------------------------------------------------------------------- fast clean-segment checks
#
# Most segments are clean. For each segment spec and each number of elements actually sent, a small
# function is generated (on first use) that says whether a segment has no element problem at all:
# the elements sent are unpacked into locals and checked inline (code-list membership, lengths,
# ``isdigit``), elements not sent cost nothing, and syntax notes are reduced to the elements sent.
# The exact ``_check_value`` is called only for dates, times and numbers the inline test cannot
# clear. "Clean" always means that ``explain_segment`` would find nothing; "not clean" means it finds
# something, except for segments with a composite element present, which always take the full path
# (tests hold both).

FastCheck = Callable[[Sequence[str], bool], bool]


def _never_clean(seg: Sequence[str], six: bool) -> bool:
    """The check for segments with more elements than the spec has: never clean."""
    return False


def _element_source(i: int, el: _El, consts: dict[str, object]) -> list[str]:
    """Source lines that return False when element ``i`` (in local ``v<i>``) is not clean."""
    v = f"v{i}"
    body: list[str] = []
    if el.kind == _ID and el.codes is not None:
        consts[f"C{i}"] = el.codes
        body.append(f"if {v} not in C{i}: return False")
    elif el.kind in (_ID, _B, _AN):
        length = f"{el.min} <= len({v}) <= {el.max}" if el.min > 1 else f"len({v}) <= {el.max}"
        if el.kind == _AN:
            body.append(f"if not ({length} and {v}.isprintable()): return False")
        else:
            body.append(f"if not ({length}): return False")
    else:
        consts[f"E{i}"] = el
        if el.kind == _N:
            fast = f"{v}.isascii() and {v}.isdecimal() and {el.min} <= len({v}) <= {el.max}"
        elif el.kind == _R:  # digits with at most one decimal point, no sign
            fast = f"(p{i} := {v}.replace('.', '', 1)).isascii() and p{i}.isdecimal() and len(p{i}) <= {el.max}"
        else:  # dates and times: always the exact check
            fast = "False"
        body.append(f"if not ({fast}) and _check_value(E{i}, {v}, six) is not None: return False")
    if el.mandatory:
        return [f"    if not {v}: return False"] + [f"    {b}" for b in body]
    return [f"    if {v}:"] + [f"        {b}" for b in body]


def _note_source(note: _Note, sent: int) -> list[str]:
    """Source lines that return False when a syntax note is broken, given that ``sent`` elements were sent."""
    here = [p for p in note.positions if p <= sent]  # elements that may be present
    has = [f"(v{p} != '')" for p in here]
    gone = len(here) < len(note.positions)  # some elements of the note were not sent at all
    kind = note.kind
    if kind == "P":
        if not here:
            return []
        if gone:
            return [f"    if {' or '.join(has)}: return False"]
        return [f"    if ({' + '.join(has)}) not in (0, {len(has)}): return False"]
    if kind == "R":
        return [f"    if not ({' or '.join(has)}): return False"] if here else ["    return False"]
    if kind in ("C", "L"):
        first = note.positions[0]
        if first > sent:
            return []
        rest = has[1:]
        if kind == "C" and (gone or not rest):
            return [f"    if v{first}: return False"] if gone else []
        if kind == "L" and not rest:
            return [f"    if v{first}: return False"]
        joined = " and ".join(rest) if kind == "C" else " or ".join(rest)
        return [f"    if v{first} and not ({joined}): return False"]
    if kind == "E":
        return [f"    if ({' + '.join(has)}) > 1: return False"] if len(has) > 1 else []
    return ["    return False"]  # an unknown note kind: let the full check decide


def _fast_source(elements: Sequence[_El | _Comp], notes: Sequence[_Note], sent: int) -> tuple[str, dict[str, object]]:
    """Source of the clean check for a segment of this spec with ``sent`` elements, and its constants."""
    consts: dict[str, object] = {"_check_value": _check_value}
    lines = ["def check(seg, six):"]
    if sent:
        lines.append(f"    _, {', '.join(f'v{i}' for i in range(1, sent + 1))}, = seg")
    for i, el in enumerate(elements, 1):
        if i > sent:
            if el.mandatory:
                return "def check(seg, six):\n    return False\n", consts
            continue
        if isinstance(el, _Comp):
            # composites take the full path whenever they are present (rare in practice)
            lines += ["    return False"] if el.mandatory else [f"    if v{i}: return False"]
            continue
        lines += _element_source(i, el, consts)
    for note in notes:
        lines += _note_source(note, sent)
    lines.append("    return True")
    return "\n".join(lines) + "\n", consts


class _Checks(dict[int, FastCheck]):
    """Segment length -> its generated clean check, compiled on first use."""

    def __init__(self, sid: str, elements: tuple[_El | _Comp, ...], notes: tuple[_Note, ...]) -> None:
        super().__init__()
        self.sid = sid
        self.elements = elements
        self.notes = notes

    def __missing__(self, length: int) -> FastCheck:
        sent = length - 1
        if sent > len(self.elements):
            check: FastCheck = _never_clean
        else:
            source, namespace = _fast_source(self.elements, self.notes, sent)
            exec(compile(source, f"<x12 {self.sid}/{sent} check>", "exec"), namespace)  # our own generated code
            check = cast(FastCheck, namespace["check"])
        self[length] = check
        return check


COMPILED: dict[str, dict[str, _Seg]] = {
    "4010": {k: _compile(k, v) for k, v in SEGMENTS_4010.items()},
    "5010": {k: _compile(k, v) for k, v in SEGMENTS_5010.items()},
}
_CHECKS: dict[str, dict[str, _Checks]] = {fam: {sid: spec.checks for sid, spec in table.items()}
                                         for fam, table in COMPILED.items()}
VOCABULARY: dict[tuple[str, str], frozenset[str]] = {k: _vocabulary(v) for k, v in STRUCTURES.items()}



@dataclass(slots=True)
class _SegmentCheck:
    """Collects the element issues of one segment."""

    sid: str
    position: int
    issues: list[Issue] = field(default_factory=list)

    def add(self, code: str, message: str, is_error: bool, element: int, ref: str | None,
            value: str | None = None, component: int | None = None, code_name: str = "x12.element") -> None:
        where = f"{self.sid}{element:02d}" + (f"-{component}" if component else "")
        make = error if is_error else warning
        self.issues.append(make(code_name, f"{where}: {message}", level=Level.ELEMENT, segment=self.sid,
                                position=self.position, element=element, component=component, x12_code=code,
                                reference_number=ref, value=None if value is None else value[:_MAX_ECHO]))


def check_segment(seg: Sequence[str], spec: _Seg, position: int, component_sep: str, repetition_sep: str | None,
                  six_digit_dates: bool, out: list[Issue]) -> None:
    """Append the element issues of ``seg`` (and one code-8 SEGMENT issue when there are any) to ``out``."""
    if not spec.clean(seg, six_digit_dates):
        explain_segment(seg, spec, position, component_sep, repetition_sep, six_digit_dates, out)


def explain_segment(seg: Sequence[str], spec: _Seg, position: int, component_sep: str, repetition_sep: str | None,
                    six_digit_dates: bool, out: list[Issue]) -> None:
    """The element-by-element check behind ``check_segment``: append every issue of ``seg`` to ``out``."""
    sid = seg[0]
    chk = _SegmentCheck(sid, position)
    elements = spec.elements
    n_spec = len(elements)
    n = len(seg) - 1
    if n > n_spec:
        extra = seg[n_spec + 1 :]
        if any(extra):
            first = next(i for i, v in enumerate(extra) if v) + n_spec + 1
            chk.add("3", f"too many data elements ({n}, at most {n_spec})", True, first, None, seg[first],
                    code_name="x12.element.too_many")
        else:
            chk.add("3", "trailing empty data elements (extra element separators)", False, n_spec + 1, None,
                    code_name="x12.element.trailing_separator")
    for i in range(1, n_spec + 1):
        el = elements[i - 1]
        v = seg[i] if i <= n else ""
        if not v:
            if el.mandatory:
                chk.add("1", "mandatory data element is missing", True, i, el.ref, code_name="x12.element.missing")
            continue
        if isinstance(el, _El):
            bad = _check_value(el, v, six_digit_dates)
            if bad is not None:
                chk.add(bad[0], bad[1], bad[2], i, el.ref, v, code_name=_CODE_NAMES[bad[0]])
            continue
        reps = v.split(repetition_sep) if (el.repeat > 1 and repetition_sep) else [v]
        if len(reps) > el.repeat:
            chk.add("I12" if el.repeat > 1 else "3", f"element repeats {len(reps)} times, at most {el.repeat}",
                    True, i, el.ref, v, code_name="x12.element.too_many_repeats")
        for rep in reps:
            comps = rep.split(component_sep)
            if len(comps) > len(el.components) and any(comps[len(el.components):]):
                chk.add("3", f"too many components ({len(comps)}, at most {len(el.components)})", True, i, el.ref,
                        rep, component=len(el.components) + 1, code_name="x12.element.too_many")
            for j, ce in enumerate(el.components, 1):
                cv = comps[j - 1] if j <= len(comps) else ""
                if not cv:
                    if ce.mandatory:
                        chk.add("1", "mandatory component is missing", True, i, ce.ref, component=j,
                                code_name="x12.element.missing")
                    continue
                bad = _check_value(ce, cv, six_digit_dates)
                if bad is not None:
                    chk.add(bad[0], bad[1], bad[2], i, ce.ref, cv, component=j, code_name=_CODE_NAMES[bad[0]])
    for note in spec.notes:
        _check_note(note, seg, n, elements, chk)
    if chk.issues:
        any_error = any(i.severity is Severity.ERROR for i in chk.issues)
        make = error if any_error else warning
        out.append(make("x12.segment.element_errors", f"segment {sid} at position {position} has data element "
                        f"{'errors' if any_error else 'warnings'}", level=Level.SEGMENT, segment=sid,
                        position=position, x12_code="8"))
        out.extend(chk.issues)


_CODE_NAMES = {"4": "x12.element.too_short", "5": "x12.element.too_long", "6": "x12.element.invalid_character",
               "7": "x12.element.invalid_code", "8": "x12.element.invalid_date", "9": "x12.element.invalid_time"}


def _check_note(note: _Note, seg: Sequence[str], n: int, elements: Sequence[_El | _Comp], chk: _SegmentCheck) -> None:
    """Check one syntax note (P, R, C, E, L) on a segment."""
    pos = note.positions
    present = [p <= n and bool(seg[p]) for p in pos]
    kind = note.kind

    def ref(p: int) -> str | None:
        return elements[p - 1].ref if p <= len(elements) else None

    if kind == "P":
        if any(present) and not all(present):
            for p, ok in zip(pos, present, strict=True):
                if not ok:
                    chk.add("2", f"conditional element required: syntax note {note.text} (all or none of "
                            f"{', '.join(f'{chk.sid}{q:02d}' for q in pos)})", True, p, ref(p),
                            code_name="x12.element.syntax_note")
    elif kind == "R":
        if not any(present):
            chk.add("2", f"at least one of {', '.join(f'{chk.sid}{q:02d}' for q in pos)} is required (syntax note "
                    f"{note.text})", True, pos[0], ref(pos[0]), code_name="x12.element.syntax_note")
    elif kind == "C":
        if present[0]:
            for p, ok in zip(pos[1:], present[1:], strict=True):
                if not ok:
                    chk.add("2", f"{chk.sid}{p:02d} is required when {chk.sid}{pos[0]:02d} is present (syntax note "
                            f"{note.text})", True, p, ref(p), code_name="x12.element.syntax_note")
    elif kind == "E":
        if sum(present) > 1:
            second = [p for p, ok in zip(pos, present, strict=True) if ok][1]
            chk.add("10", f"only one of {', '.join(f'{chk.sid}{q:02d}' for q in pos)} may be present (syntax note "
                    f"{note.text})", True, second, ref(second), seg[second], code_name="x12.element.exclusion")
    elif kind == "L" and present[0] and not any(present[1:]):
        chk.add("2", f"{chk.sid}{pos[0]:02d} requires at least one of "
                f"{', '.join(f'{chk.sid}{q:02d}' for q in pos[1:])} (syntax note {note.text})", True, pos[1],
                ref(pos[1]), code_name="x12.element.syntax_note")


# --------------------------------------------------------------------------- structure


class _Shape:
    """A structure node compiled for walking: per child its trigger, requirement, max use and loop flag."""

    __slots__ = ("children", "id", "is_loop", "mandatory", "maxes", "node", "triggers", "vocab", "where")

    def __init__(self, node: Node) -> None:
        self.node = node
        self.id = node.id
        self.children = tuple(_Shape(c) for c in node.children)
        self.triggers = tuple(c.trigger for c in node.children)
        self.mandatory = tuple(k for k, c in enumerate(node.children) if c.req == "M")
        self.maxes = tuple(c.max for c in node.children)
        self.is_loop = tuple(c.is_loop for c in node.children)
        where: dict[str, list[int]] = {}
        for k, t in enumerate(self.triggers):
            where.setdefault(t, []).append(k)
        self.where = {t: tuple(ks) for t, ks in where.items()}
        self.vocab: frozenset[str] = frozenset()  # filled in for a root


_SHAPES: dict[int, tuple[Node, _Shape]] = {}


def _shape(root: Node) -> _Shape:
    """The compiled form of a structure (compiled once per structure object)."""
    hit = _SHAPES.get(id(root))
    if hit is None or hit[0] is not root:
        shape = _Shape(root)
        shape.vocab = _vocabulary(root)
        hit = (root, shape)
        _SHAPES[id(root)] = hit
    return hit[1]


@dataclass(slots=True)
class _Frame:
    """One open loop (or the set itself) while walking the structure."""

    node: _Shape
    idx: int
    counts: list[int]
    start: int  # 1 inside loops: the trigger only opens a new repetition


class StructureWalker:
    """Walks segment ids through a transaction set structure and reports AK3/IK3 problems."""

    def __init__(self, root: Node, set_id: str, strict: bool) -> None:
        shape = _shape(root)
        self.stack = [_Frame(shape, -1, [0] * len(shape.children), 0)]
        self.vocab = shape.vocab
        self.tolerated = TOLERATED.get(set_id, frozenset())
        self.strict = strict
        self.issues: list[Issue] = []

    def _missing(self, frame: _Frame, lo: int, hi: int, sid: str, position: int) -> None:
        shape = frame.node
        counts = frame.counts
        for k in shape.mandatory:
            if lo <= k < hi and counts[k] == 0:
                child = shape.node.children[k]
                what = f"loop {child.id}" if child.is_loop else f"segment {child.id}"
                where = f" in loop {shape.id}" if frame is not self.stack[0] else ""
                self.issues.append(error("x12.segment.missing", f"mandatory {what}{where} is missing (before {sid} "
                                         f"at position {position})", level=Level.SEGMENT, segment=child.trigger,
                                         position=position, x12_code="3", loop_id=shape.id))

    def feed(self, sid: str, position: int) -> None:
        """Take the next segment id (at ``position`` in the set)."""
        stack = self.stack
        for depth in range(len(stack) - 1, -1, -1):
            frame = stack[depth]
            shape = frame.node
            found = shape.where.get(sid)
            if found is None:
                continue
            start = frame.idx if frame.idx > frame.start else frame.start
            for j in found:
                if j >= start:
                    break
            else:
                continue
            if depth + 1 < len(stack):
                for closing in reversed(stack[depth + 1 :]):
                    if closing.node.mandatory:
                        self._missing(closing, closing.idx + 1, len(closing.node.children), sid, position)
                del stack[depth + 1 :]
            if j != frame.idx:
                if shape.mandatory:
                    self._missing(frame, frame.idx + 1, j, sid, position)
                frame.idx = j
            counts = frame.counts
            counts[j] += 1
            if counts[j] > shape.maxes[j]:
                child = shape.node.children[j]
                if child.is_loop:
                    self.issues.append(error("x12.loop.max_exceeded", f"loop {child.id} occurs more than {child.max} "
                                             "times", level=Level.SEGMENT, segment=sid, position=position,
                                             x12_code="4", loop_id=child.id))
                else:
                    self.issues.append(error("x12.segment.max_use", f"segment {sid} is used more than {child.max} "
                                             f"time{'s' if child.max > 1 else ''} here", level=Level.SEGMENT,
                                             segment=sid, position=position, x12_code="5",
                                             loop_id=shape.id))
            if shape.is_loop[j]:
                sub_shape = shape.children[j]
                while True:  # enter the loop (and nested loops whose trigger is the same segment)
                    sub = _Frame(sub_shape, 0, [0] * len(sub_shape.children), 1)
                    sub.counts[0] = 1
                    stack.append(sub)
                    if not sub_shape.is_loop[0]:
                        break
                    sub_shape = sub_shape.children[0]
            return
        # not found ahead of the current position in any open loop
        if sid in self.vocab:
            make = error if self.strict else warning
            self.issues.append(make("x12.segment.sequence", f"segment {sid} at position {position} is not in its "
                                    "proper place in the transaction set", level=Level.SEGMENT, segment=sid,
                                    position=position, x12_code="7", loop_id=stack[-1].node.id))
        elif sid in self.tolerated:
            self.issues.append(warning("x12.segment.tolerated", f"segment {sid} at position {position} is not part "
                                       "of this transaction set; it was ignored", level=Level.SEGMENT, segment=sid,
                                       position=position, x12_code="2"))
        else:
            self.issues.append(error("x12.segment.unexpected", f"unexpected segment {sid} at position {position}",
                                     level=Level.SEGMENT, segment=sid, position=position, x12_code="2"))

    def finish(self, position: int) -> None:
        """Close every open loop at the end of the set (SE or end of data)."""
        for closing in reversed(self.stack):
            hi = len(closing.node.children) - (1 if closing is self.stack[0] else 0)  # SE: the tokenizer reports it
            self._missing(closing, closing.idx + 1, hi, "the end of the set", position)
        self.stack = self.stack[:1]


def _is_tag(sid: str) -> bool:
    """A well-formed segment id (2-3 upper-case letters/digits, a letter first)."""
    return 2 <= len(sid) <= 3 and sid.isalnum() and sid[:1].isalpha() and sid.isupper()


def _walk(root: Node, set_id: str, strict: bool, sids: Sequence[str]) -> list[Issue]:
    """The structure issues of a transaction set whose segment ids are ``sids`` (ST first)."""
    walker = StructureWalker(root, set_id, strict)
    position = 0
    saw_se = False
    for position, sid in enumerate(sids, 1):
        if not _is_tag(sid):
            continue  # the tokenizer already reported it (AK304 code 1)
        walker.feed(sid, position)
        saw_se = sid == "SE"
    if not saw_se:
        walker.finish(position + 1)
    return walker.issues


# Structure issues depend only on the sequence of segment ids, and real traffic repeats a few shapes
# (an 850 with 3 lines, an 856 with 2 cartons...): remember the issues of recent shapes.
_MEMO_MAX_SHAPES = 1024
_MEMO_MAX_SEGMENTS = 400
_SHAPE_MEMO: dict[tuple[object, ...], list[Issue]] = {}


def _structure_issues(root: Node, set_id: str, strict: bool, sids: list[str]) -> list[Issue]:
    """Structure issues of a set, from the memo when this shape was seen (fresh Issue copies)."""
    if len(sids) > _MEMO_MAX_SEGMENTS:
        return _walk(root, set_id, strict, sids)
    key = (id(root), set_id, strict, *sids)
    found = _SHAPE_MEMO.get(key)
    if found is None:
        found = _walk(root, set_id, strict, sids)
        if len(_SHAPE_MEMO) >= _MEMO_MAX_SHAPES:
            _SHAPE_MEMO.clear()
        _SHAPE_MEMO[key] = found
        _SHAPES.setdefault(id(root), (root, _shape(root)))  # keeps root alive while its id is a memo key
    return [replace(i) for i in found] if found else []


def validate_segments(segments: Sequence[Sequence[str]], set_id: str, version: str, component_sep: str,
                      repetition_sep: str | None, *, strict: bool = False) -> list[Issue]:
    """All element and structure issues of one transaction set (``segments``: ST first, SE last)."""
    fam = family(version)
    specs = COMPILED[fam]
    checks = _CHECKS[fam]
    root = STRUCTURES.get((set_id, fam))
    six = version[:3] < "004"
    out: list[Issue] = []
    sids: list[str] = []
    note = sids.append
    get = checks.get
    for position, seg in enumerate(segments, 1):
        sid = seg[0]
        note(sid)
        by_length = get(sid)  # only well-formed ids are in the tables
        if by_length is not None and not by_length[len(seg)](seg, six):  # (the checks unpack any sequence)
            explain_segment(seg, specs[sid], position, component_sep, repetition_sep, six, out)
    if root is not None:
        out.extend(_structure_issues(root, set_id, strict, sids))
    if out:
        out.sort(key=lambda i: (i.position or 0, 0 if i.level is Level.SEGMENT else 1))
    return out
