"""From a partner's bytes to canonical documents with their validation reports, whatever the format.

Rules:
- The format is sniffed from the first bytes: ``ISA``/``ST`` -> X12, ``<`` -> XML, otherwise CSV
  when a column mapping is given, otherwise X12 (whose reader says precisely why it is not EDI).
- X12 is read one interchange at a time. Envelope problems belong to the level they were found at
  and reach every transaction set under it: a functional group whose GE count is wrong rejects
  its sets (AK9 R), a broken interchange rejects all of its groups (TA1 R). Warnings travel the
  same way, so a set in a deviating envelope is ``accepted_with_warnings``.
- At most ``max_buffered_segments`` are held while waiting for an interchange's trailers; past
  that, results are released early and late envelope problems come as a line of their own.
- Nothing here raises for bad input.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO, Literal, cast

from pydantic import BaseModel

from parsers.canonical import FunctionalAck
from parsers.issues import Issue, Level, ParseError, Severity, error
from parsers.x12.readers import SetResult, read_ta1, read_transaction_set
from parsers.x12.stream import (
    EnvelopeRules,
    FileProblem,
    GroupEnd,
    GroupStart,
    InterchangeAckSegment,
    InterchangeEnd,
    InterchangeStart,
    TransactionSet,
    iter_x12,
)

if TYPE_CHECKING:  # the XML and CSV readers are imported when a file needs them (start-up time)
    from parsers.csv import CsvMapping

Status = Literal["accepted", "accepted_with_warnings", "rejected"]
Format = Literal["x12", "xml", "csv"]


def status_of(issues: list[Issue]) -> Status:
    """The translate status that a list of issues amounts to."""
    if any(i.severity is Severity.ERROR for i in issues):
        return "rejected"
    if issues:
        return "accepted_with_warnings"
    return "accepted"


@dataclass(slots=True)
class Translation:
    """One document (or one unreadable thing) found in a file, with its validation report."""

    source: str
    kind: str  # purchase_order | ship_notice | invoice | functional_ack | unsupported
    document: BaseModel | None
    issues: list[Issue]
    transaction_set: TransactionSet | None = None  # X12 only: the set as read (control numbers, raw text)

    @property
    def status(self) -> Status:
        """accepted, accepted_with_warnings or rejected."""
        return status_of(self.issues)

    def to_json(self) -> str:
        """The JSON line ``gateway translate`` prints for this document."""
        doc = self.document.model_dump_json(exclude_none=True) if self.document is not None else "null"
        issues = json.dumps([i.to_dict() for i in self.issues], ensure_ascii=False) if self.issues else "[]"
        return (f'{{"source": {_json_str(self.source)}, "kind": "{self.kind}", '
                f'"status": "{self.status}", "document": {doc}, "issues": {issues}}}')


_encode_str = json.JSONEncoder(ensure_ascii=False).encode


def _json_str(value: str) -> str:
    """A JSON string literal (non-ASCII kept as is)."""
    return _encode_str(value)


# --------------------------------------------------------------------------- X12 outcomes


@dataclass(slots=True)
class GroupOutcome:
    """A functional group with the result of reading each of its transaction sets."""

    start: GroupStart
    sets: list[tuple[TransactionSet, SetResult]] = field(default_factory=list)
    end: GroupEnd | None = None

    def envelope_issues(self) -> list[Issue]:
        """Issues found on the GS and GE of this group."""
        return list(self.start.issues) + (list(self.end.issues) if self.end else [])


@dataclass(slots=True)
class InterchangeOutcome:
    """An interchange read to its end (or a part of it when it is too large to hold)."""

    start: InterchangeStart | None
    groups: list[GroupOutcome] = field(default_factory=list)
    loose_sets: list[tuple[TransactionSet, SetResult]] = field(default_factory=list)  # sets outside any GS
    ta1s: list[InterchangeAckSegment] = field(default_factory=list)
    end: InterchangeEnd | None = None
    file_problems: list[Issue] = field(default_factory=list)
    partial: bool = False  # released before its trailers were read (too large to hold)

    def envelope_issues(self) -> list[Issue]:
        """Issues found on the ISA and IEA of this interchange."""
        issues = list(self.start.issues) if self.start else []
        return issues + (list(self.end.issues) if self.end else [])

    def all_sets(self) -> Iterator[tuple[TransactionSet, SetResult, GroupOutcome | None]]:
        """Every transaction set with its result and group, in file order."""
        for ts, res in self.loose_sets:
            yield ts, res, None
        for grp in self.groups:
            for ts, res in grp.sets:
                yield ts, res, grp


def iter_interchanges(source: bytes | BinaryIO, *, rules: EnvelopeRules | None = None,
                      max_buffered_segments: int = 250_000) -> Iterator[InterchangeOutcome]:
    """Read X12 and yield one outcome per interchange, each set already read and validated."""
    return _outcomes(source, rules, max_buffered_segments, read=True)


# Placeholder result of a set not read yet: ``translate_x12`` reads each set only when its interchange
# is complete and drops the document once it is handed on, so one interchange's documents are never
# all held at once.
_UNREAD = SetResult("unsupported", None)


def _outcomes(source: bytes | BinaryIO, rules: EnvelopeRules | None, max_buffered_segments: int, *,
              read: bool) -> Iterator[InterchangeOutcome]:
    """One outcome per interchange; its sets read and validated when ``read``, else left ``_UNREAD``."""
    current: InterchangeOutcome | None = None
    group: GroupOutcome | None = None
    buffered = 0
    strict = rules.strict_segments if rules is not None else False
    for ev in iter_x12(source, rules=rules):
        if isinstance(ev, TransactionSet):
            result = read_transaction_set(ev, strict=strict) if read else _UNREAD
            if current is None:
                current = InterchangeOutcome(start=ev.interchange)
            if group is not None:
                group.sets.append((ev, result))
            else:
                current.loose_sets.append((ev, result))
            buffered += len(ev.segments)
            if buffered >= max_buffered_segments:
                current.partial = True
                yield current
                current = InterchangeOutcome(start=current.start, partial=True)
                if group is not None:
                    group = GroupOutcome(start=group.start)
                    current.groups.append(group)
                buffered = 0
        elif isinstance(ev, InterchangeStart):
            current = InterchangeOutcome(start=ev)
            group = None
            buffered = 0
        elif isinstance(ev, GroupStart):
            if current is None:
                current = InterchangeOutcome(start=ev.interchange)
            group = GroupOutcome(start=ev)
            current.groups.append(group)
        elif isinstance(ev, GroupEnd):
            if group is not None:
                group.end = ev
            group = None
        elif isinstance(ev, InterchangeAckSegment):
            if current is None:
                current = InterchangeOutcome(start=ev.interchange)
            current.ta1s.append(ev)
        elif isinstance(ev, InterchangeEnd):
            if current is None:
                current = InterchangeOutcome(start=ev.interchange)
            current.end = ev
            yield current
            current = None
            group = None
            buffered = 0
        elif isinstance(ev, FileProblem):
            if current is not None and current.start is not None:
                current.start.issues.extend(ev.issues)
            else:
                yield InterchangeOutcome(start=None, file_problems=list(ev.issues))
    if current is not None:
        yield current


def ta1_document(ta1: InterchangeAckSegment) -> tuple[FunctionalAck | None, list[Issue]]:
    """A TA1 segment as a canonical interchange acknowledgment, or the issue that makes it unreadable."""
    try:
        return FunctionalAck(ack_type="TA1", interchange_acks=[read_ta1(ta1.ta1)]), []
    except ParseError as exc:
        exc.issue.level = Level.INTERCHANGE
        exc.issue.segment = exc.issue.segment or "TA1"
        return None, [exc.issue]


def _x12_source(name: str, ts: TransactionSet) -> str:
    ich = ts.interchange.control_number if ts.interchange else "-"
    grp = ts.group.control_number if ts.group else "-"
    return f"{name}#{ich}/{grp}/{ts.control_number}"


def _inherited(outcome: InterchangeOutcome, grp: GroupOutcome | None) -> list[Issue]:
    """Envelope issues that apply to each set under them (errors reject, warnings flag)."""
    issues = outcome.envelope_issues()
    if grp is not None:
        issues += grp.envelope_issues()
    return issues


def translate_x12(source: bytes | BinaryIO, *, name: str, rules: EnvelopeRules | None = None,
                  max_buffered_segments: int = 30_000) -> Iterator[Translation]:
    """Translate an X12 file into one Translation per transaction set (and per TA1 / file problem)."""
    strict = rules.strict_segments if rules is not None else False
    for outcome in _outcomes(source, rules, max_buffered_segments, read=False):
        if outcome.file_problems:
            yield Translation(source=name, kind="unsupported", document=None, issues=outcome.file_problems)
            continue
        emitted = False
        inherited: dict[int, list[Issue]] = {}
        for ts, result, grp in outcome.all_sets():
            if result is _UNREAD:
                result = read_transaction_set(ts, strict=strict)
            key = id(grp)
            above = inherited.get(key)
            if above is None:
                above = inherited[key] = _inherited(outcome, grp)
            issues = above + result.issues
            emitted = True
            yield Translation(source=_x12_source(name, ts), kind=result.kind, document=result.document,
                              issues=issues, transaction_set=ts)
        for ta1 in outcome.ta1s:
            emitted = True
            ack, ta1_issues = ta1_document(ta1)
            yield Translation(source=f"{name}#{ta1.interchange.control_number}/TA1", kind="functional_ack",
                              document=ack, issues=outcome.envelope_issues() + ta1_issues)
        if not emitted and not outcome.partial:
            issues = outcome.envelope_issues()
            if not any(i.is_error for i in issues):
                issues.append(error("x12.interchange.empty", "interchange holds no functional group, "
                                    "transaction set or TA1", level=Level.INTERCHANGE, x12_code="024"))
            ich = outcome.start.control_number if outcome.start else "-"
            yield Translation(source=f"{name}#{ich}", kind="unsupported", document=None, issues=issues)
        elif outcome.partial and outcome.end is not None and outcome.envelope_issues():
            ich = outcome.start.control_number if outcome.start else "-"
            yield Translation(source=f"{name}#{ich}", kind="unsupported", document=None,
                              issues=outcome.envelope_issues())


# --------------------------------------------------------------------------- XML, CSV, dispatch


def translate_xml(data: bytes, *, name: str) -> Iterator[Translation]:
    """Translate a cXML / UBL / X12-as-XML / in-house XML document."""
    from parsers.xml import read_xml

    try:  # (no yield inside an except block: a compiled generator would leak the exception to its caller)
        result = read_xml(data)
    except ParseError as exc:
        problem: Issue | None = exc.issue
    else:
        problem = None
    if problem is not None:
        yield Translation(source=name, kind="unsupported", document=None, issues=[problem])
        return
    if not result.documents:
        issues = list(result.issues) or [error("xml.no_document", "no business document found in the XML")]
        yield Translation(source=name, kind="unsupported", document=None, issues=issues)
        return
    for n, doc in enumerate(result.documents, 1):
        src = name if len(result.documents) == 1 else f"{name}#{n}"
        yield Translation(source=src, kind=doc.kind, document=doc, issues=list(result.issues))


def translate_csv(data: bytes, *, name: str, mapping: CsvMapping | None) -> Iterator[Translation]:
    """Translate a CSV / flat file with the partner's column mapping."""
    if mapping is None:
        yield Translation(source=name, kind="unsupported", document=None, issues=[
            error("csv.no_mapping", "this looks like a CSV or flat file, but no column mapping is configured "
                  "for it (use --partner with a partner that has a [csv] mapping)")])
        return
    from parsers.csv import read_csv

    try:  # (no yield inside an except block, as above)
        result = read_csv(data, mapping)
    except ParseError as exc:
        problem: Issue | None = exc.issue
    else:
        problem = None
    if problem is not None:
        yield Translation(source=name, kind="unsupported", document=None, issues=[problem])
        return
    if not result.documents:
        issues = list(result.issues) or [error("csv.no_document", "no document found in the CSV file")]
        yield Translation(source=name, kind="unsupported", document=None, issues=issues)
        return
    for n, doc in enumerate(result.documents, 1):
        key = getattr(doc, "business_key", str(n))
        yield Translation(source=f"{name}#{key}", kind=doc.kind, document=doc, issues=list(result.issues))


def sniff_format(head: bytes, *, csv_mapping: CsvMapping | None = None) -> Format:
    """Tell X12, XML and CSV apart from the first bytes of a file."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"ISA") or (text[:2] == b"ST" and text[2:3] and not text[2:3].isalnum()):
        return "x12"
    if text.startswith(b"<"):
        return "xml"
    if csv_mapping is not None:
        return "csv"
    return "x12"


def translate(source: bytes | BinaryIO, *, name: str, rules: EnvelopeRules | None = None,
              csv_mapping: CsvMapping | None = None) -> Iterator[Translation]:
    """Translate a file of any supported format; X12 is streamed, XML and CSV are read whole."""
    stream: BinaryIO | None = None
    if isinstance(source, bytes | bytearray):
        data: bytes = bytes(source)
        head = data[:4096]
    else:
        stream = source
        head = stream.read(4096)
        data = b""
    fmt = sniff_format(head, csv_mapping=csv_mapping)
    if fmt == "x12":
        if stream is None:
            yield from translate_x12(data, name=name, rules=rules)
        else:
            yield from translate_x12(cast(BinaryIO, _Prefixed(head, stream)), name=name, rules=rules)
        return
    if stream is not None:
        data = head + stream.read()
    if fmt == "xml":
        yield from translate_xml(data, name=name)
    else:
        yield from translate_csv(data, name=name, mapping=csv_mapping)


class _Prefixed:
    """A binary reader that first returns bytes already read (the sniffed head), then the rest."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes."""
        if self._head:
            if size < 0 or size >= len(self._head):
                out = self._head
                self._head = b""
                more = self._rest.read(size - len(out) if size >= 0 else -1)
                return out + more
            out, self._head = self._head[:size], self._head[size:]
            return out
        return self._rest.read(size)
