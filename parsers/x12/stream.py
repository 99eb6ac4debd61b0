"""Streaming X12 tokenizer and envelope checker: bytes in, envelope events out, one transaction set at a time.

Rules:
- Input is read in chunks; at most one transaction set (plus one chunk) is held in memory, so
  memory stays flat whatever the file size.
- Each interchange brings its own delimiters (sniffed from its ISA); a file may hold several.
- Events come in envelope order: ``InterchangeStart``, ``GroupStart``, ``TransactionSet``...,
  ``GroupEnd``, ``InterchangeEnd``; ``InterchangeAckSegment`` for a TA1 inside an interchange;
  ``FileProblem`` for what lies outside any interchange (garbage, bare ST without ISA, empty file).
- Every envelope problem is an ``Issue`` attached to the event of the level it belongs to, with
  the X12 code the acknowledgment will carry: TA1 note codes (interchange), AK9/AK905 codes
  (group), AK5/IK5 codes (transaction set), AK3/IK3 codes (segment).
- Real partners' quirks are warnings when ``EnvelopeRules`` allows them, errors otherwise.
- Nothing here raises for bad input: bad input becomes issues. Only a programming error escapes.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import BinaryIO

from parsers.issues import Issue, Level, Severity, error, warning
from parsers.x12.delimiters import NEWLINES, Delimiters, SniffedIsa, sniff_isa

CHUNK_SIZE = 1 << 20
_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}\Z")
_DIGITS = re.compile(r"[0-9]+\Z")

# GS01 functional identifier code -> the transaction sets it may carry (X12 table for GS01).
FUNCTIONAL_GROUPS: dict[str, frozenset[str]] = {
    "PO": frozenset({"850"}),
    "SH": frozenset({"856"}),
    "IN": frozenset({"810", "880"}),
    "FA": frozenset({"997", "999"}),
    "PR": frozenset({"855"}),
    "PC": frozenset({"860"}),
    "CA": frozenset({"865"}),
    "OW": frozenset({"940"}),
    "AR": frozenset({"943"}),
    "RE": frozenset({"944"}),
    "SW": frozenset({"945"}),
    "IM": frozenset({"210"}),
    "QM": frozenset({"214"}),
    "SM": frozenset({"204"}),
    "GF": frozenset({"990"}),
    "SC": frozenset({"832"}),
    "PS": frozenset({"830"}),
    "SS": frozenset({"862"}),
    "IB": frozenset({"846"}),
    "PD": frozenset({"852"}),
    "RA": frozenset({"820"}),
    "HC": frozenset({"837"}),
    "HP": frozenset({"835"}),
    "BE": frozenset({"834"}),
    "HS": frozenset({"270"}),
    "HB": frozenset({"271"}),
    "AG": frozenset({"824"}),
    "TX": frozenset({"864"}),
}
KNOWN_ISA_VERSIONS = frozenset(
    {"00200", "00201", "00204", "00300", "00301", "00302", "00303", "00304", "00305", "00306", "00307",
     "00400", "00401", "00402", "00403", "00404", "00405", "00406", "00500", "00501", "00502", "00503",
     "00504", "00505", "00600", "00601", "00602", "00603", "00604", "00605", "00700", "00701", "00702",
     "00703", "00704", "00705", "00800", "00801"}
)
ISA_ID_QUALIFIERS = frozenset(
    {"01", "02", "03", "04", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19",
     "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32", "33", "34", "35", "36",
     "37", "38", "AM", "NR", "SA", "SN", "ZZ"}
)


@dataclass(frozen=True, slots=True)
class EnvelopeRules:
    """Which real-world envelope deviations are accepted with a warning (True) or rejected (False)."""

    gs01_mismatch: bool = True
    isa11_repetition_in_00401: bool = True
    unpadded_iea02: bool = True
    short_isa: bool = True
    segment_count_mismatch: bool = False
    ta1_counted_in_iea01: bool = True
    six_digit_gs_date: bool = True  # GS04 as YYMMDD in a 004010+ group
    duplicate_set_control_number: bool = True  # ST02 repeated within one group
    strict_segments: bool = False  # segment/element rules: tolerated element problems become errors too

    def __reduce__(self) -> tuple[type[EnvelopeRules], tuple[bool, ...]]:
        """Pickle by value (sent to translate workers); the compiled class has no instance dict to restore."""
        return (EnvelopeRules, tuple(getattr(self, f.name) for f in fields(self)))


# --------------------------------------------------------------------------- events


@dataclass(slots=True)
class InterchangeStart:
    """An ISA header: who sent it to whom, its control number and its delimiters."""

    isa: list[str]
    delimiters: Delimiters
    index: int  # segment number in the file (1-based)
    issues: list[Issue] = field(default_factory=list)

    @property
    def sender_qualifier(self) -> str:
        """ISA05."""
        return self.isa[5].strip()

    @property
    def sender_id(self) -> str:
        """ISA06 without padding."""
        return self.isa[6].strip()

    @property
    def receiver_qualifier(self) -> str:
        """ISA07."""
        return self.isa[7].strip()

    @property
    def receiver_id(self) -> str:
        """ISA08 without padding."""
        return self.isa[8].strip()

    @property
    def control_number(self) -> str:
        """ISA13 as sent."""
        return self.isa[13].strip()

    @property
    def version(self) -> str:
        """ISA12 control version number, e.g. 00401."""
        return self.isa[12]

    @property
    def ack_requested(self) -> bool:
        """ISA14 = 1: the sender asks for a TA1."""
        return self.isa[14].strip() == "1"

    @property
    def usage_indicator(self) -> str:
        """ISA15: P production, T test, I information."""
        return self.isa[15].strip()

    @property
    def date(self) -> dt.date | None:
        """ISA09 (YYMMDD) as a date, or None when invalid."""
        return parse_date(self.isa[9])

    @property
    def time(self) -> dt.time | None:
        """ISA10 (HHMM) as a time, or None when invalid."""
        return parse_time(self.isa[10])

    @property
    def has_errors(self) -> bool:
        """True when an interchange-level error was found."""
        return any(i.severity is Severity.ERROR for i in self.issues)


@dataclass(slots=True)
class GroupStart:
    """A GS header: functional identifier, application ids, control number and version."""

    gs: list[str]
    interchange: InterchangeStart
    index: int
    issues: list[Issue] = field(default_factory=list)

    def _el(self, n: int) -> str:
        return self.gs[n].strip() if len(self.gs) > n else ""

    @property
    def functional_id_code(self) -> str:
        """GS01, e.g. PO, SH, IN, FA."""
        return self._el(1)

    @property
    def sender_code(self) -> str:
        """GS02 application sender's code."""
        return self._el(2)

    @property
    def receiver_code(self) -> str:
        """GS03 application receiver's code."""
        return self._el(3)

    @property
    def control_number(self) -> str:
        """GS06 as sent."""
        return self._el(6)

    @property
    def version(self) -> str:
        """GS08 version / release / industry identifier, e.g. 004010, 005010X231A1."""
        return self._el(8)

    @property
    def date(self) -> dt.date | None:
        """GS04 (CCYYMMDD, or YYMMDD before version 4) as a date."""
        return parse_date(self._el(4))


@dataclass(slots=True)
class TransactionSet:
    """One transaction set (ST..SE) with the envelope around it and its envelope issues."""

    segments: list[list[str]]  # ST first, SE last (when present); element 0 is the segment id
    interchange: InterchangeStart | None
    group: GroupStart | None
    index: int  # segment number of ST in the file
    issues: list[Issue] = field(default_factory=list)

    @property
    def id(self) -> str:
        """ST01 transaction set identifier code, e.g. 850."""
        st = self.segments[0]
        return st[1].strip() if len(st) > 1 else ""

    @property
    def control_number(self) -> str:
        """ST02 transaction set control number."""
        st = self.segments[0]
        return st[2].strip() if len(st) > 2 else ""

    @property
    def implementation_reference(self) -> str | None:
        """ST03 implementation convention reference (5010), if present."""
        st = self.segments[0]
        return st[3].strip() or None if len(st) > 3 else None

    @property
    def delimiters(self) -> Delimiters:
        """The delimiters of the interchange this set came in."""
        return self.interchange.delimiters if self.interchange else Delimiters()

    @property
    def version(self) -> str:
        """GS08, or the ISA version when there is no group."""
        if self.group is not None and self.group.version:
            return self.group.version
        return self.interchange.version if self.interchange else ""

    @property
    def has_errors(self) -> bool:
        """True when an envelope error was found for this set."""
        return any(i.severity is Severity.ERROR for i in self.issues)

    def to_x12(self) -> str:
        """The set re-serialised with its own delimiters (for hashing and archiving per set)."""
        d = self.delimiters
        return "".join(d.element.join(seg) + d.segment for seg in self.segments)


@dataclass(slots=True)
class GroupEnd:
    """A GE trailer (or its absence) and the group-level problems found once the group is complete."""

    group: GroupStart
    ge: list[str] | None
    set_count: int
    accepted_count: int = 0  # filled in by consumers that validate the sets
    issues: list[Issue] = field(default_factory=list)


@dataclass(slots=True)
class InterchangeAckSegment:
    """A TA1 segment inside an interchange (an interchange acknowledgment from the partner)."""

    ta1: list[str]
    interchange: InterchangeStart
    index: int


@dataclass(slots=True)
class InterchangeEnd:
    """An IEA trailer (or its absence) and the interchange-level problems found at the end."""

    interchange: InterchangeStart
    iea: list[str] | None
    group_count: int
    issues: list[Issue] = field(default_factory=list)


@dataclass(slots=True)
class FileProblem:
    """Something outside any interchange: an empty file, garbage, a bare ST without ISA/GS."""

    issues: list[Issue]


X12Event = InterchangeStart | GroupStart | TransactionSet | GroupEnd | InterchangeEnd | InterchangeAckSegment \
    | FileProblem


# --------------------------------------------------------------------------- small value parsers


def parse_date(value: str) -> dt.date | None:
    """Parse an X12 date (CCYYMMDD or YYMMDD); None when it is not a valid date."""
    value = value.strip()
    try:
        if len(value) == 8 and value.isdecimal():
            return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        if len(value) == 6 and value.isdecimal():
            yy = int(value[:2])
            century = 2000 if yy < 50 else 1900
            return dt.date(century + yy, int(value[2:4]), int(value[4:]))
    except ValueError:
        return None
    return None


def parse_time(value: str) -> dt.time | None:
    """Parse an X12 time (HHMM, HHMMSS, HHMMSSd..); None when it is not a valid time."""
    value = value.strip()
    if len(value) < 4 or not value.isdecimal():
        return None
    try:
        hh, mm = int(value[:2]), int(value[2:4])
        ss = int(value[4:6]) if len(value) >= 6 else 0
        return dt.time(hh, mm, ss)
    except ValueError:
        return None


# --------------------------------------------------------------------------- decoding


def _sniff_encoding_problem(head: bytes) -> Issue | None:
    """A file-level issue when the first bytes show this is not ASCII/UTF-8 EDI at all."""
    if not head.strip():
        return error("file.empty", "file is empty (no data, or only white space)", x12_code="024")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return error("file.utf16", "file is UTF-16 encoded; X12 interchanges must be ASCII or UTF-8")
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"\xc9\xe2\xc1"):
        return error("file.ebcdic", "file is EBCDIC-encoded (ISA in EBCDIC); convert it to ASCII before sending")
    if stripped.startswith(b"\x1f\x8b"):
        return error("file.compressed", "file is gzip-compressed, not an X12 interchange")
    if stripped.startswith(b"PK\x03\x04"):
        return error("file.compressed", "file is a ZIP archive, not an X12 interchange")
    if stripped.startswith(b"%PDF"):
        return error("file.not_edi", "file is a PDF document, not an X12 interchange")
    sample = head[:4096]
    if b"\x00" in sample:
        return error("file.binary", "file contains NUL bytes: binary data, not an X12 interchange")
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13) and b not in range(28, 32))
    if len(sample) >= 64 and controls > len(sample) // 10:
        return error("file.binary", "file is mostly control characters: binary data, not an X12 interchange")
    return None


def _decoded_chunks(chunks: Iterable[bytes], issues_out: list[Issue]) -> Iterator[str]:
    """Decode byte chunks as UTF-8 (BOM removed), falling back to Latin-1 with a warning."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    latin1 = False
    first = True
    for chunk in chunks:
        if first:
            if chunk.startswith(b"\xef\xbb\xbf"):
                chunk = chunk[3:]
            first = False
        if latin1:
            yield chunk.decode("latin-1")
            continue
        try:  # (no yield inside an except block: a compiled generator would leak the exception to its caller)
            text = decoder.decode(chunk)
        except UnicodeDecodeError:
            pending, _ = decoder.getstate()
            latin1 = True
            issues_out.append(warning("file.not_utf8", "file is not valid UTF-8; read as Latin-1"))
            text = (pending + chunk).decode("latin-1")
        yield text
    if not latin1:
        try:
            tail = decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            pending, _ = decoder.getstate()
            tail = pending.decode("latin-1")
        if tail:
            yield tail


def _byte_chunks(source: bytes | BinaryIO | Iterable[bytes], chunk_size: int) -> Iterator[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        for i in range(0, len(data), chunk_size):
            yield data[i : i + chunk_size]
        return
    read = getattr(source, "read", None)
    if read is not None:
        while True:
            chunk = read(chunk_size)
            if not chunk:
                return
            yield chunk
    else:
        yield from source


# --------------------------------------------------------------------------- segment scanner

_LEADING_BLANKS = " \t\r\n"
_ENVELOPE_TAGS = frozenset({"SE", "ST", "GE", "IEA", "GS", "ISA", "TA1", "ISB", "ISE"})
_VALID_TAGS: set[str] = set()  # segment ids already seen to be well-formed (a cache for _TAG)
_CORRUPT_ISA = re.compile(r"\s*[A-Z ]{0,4}([^A-Za-z0-9\s])\d\d\1")


def _looks_like_corrupt_isa(text: str) -> bool:
    """True when text looks like an ISA header whose tag is damaged (e.g. 'SA*00*...')."""
    m = _CORRUPT_ISA.match(text)
    return m is not None and text[:110].count(m.group(1)) >= 15


@dataclass(slots=True)
class _Isa:
    sniffed: SniffedIsa


@dataclass(slots=True)
class _Batch:
    segments: list[list[str]]


def _find_iea(block: str, term: str, elem: str) -> int:
    """Index of an IEA segment that starts a segment in block, or -1."""
    probe = "IEA" + elem
    r = block.find(probe)
    while r >= 0:
        if r == 0 or block[r - 1] == term or block[r - 1] in _LEADING_BLANKS:
            return r
        r = block.find(probe, r + 1)
    return -1


def _scan(text_chunks: Iterator[str], rules: EnvelopeRules) -> Iterator[_Isa | Issue | _Batch]:
    """Split decoded text into segments; yield the sniffed ISA of each interchange, segments, and issues."""
    buf = ""
    pos = 0
    eof = False

    def more() -> None:
        nonlocal buf, pos, eof
        try:
            nxt = next(text_chunks)
        except StopIteration:
            eof = True
            return
        buf = buf[pos:] + nxt
        pos = 0

    delims: Delimiters | None = None
    term = "~"
    elem = "*"
    wrapped = False
    indent_warned = False
    slow_until = -1  # buffer index up to which the per-segment path is used (irregular text)
    while True:
        if delims is None:
            while len(buf) - pos < 1024 and not eof:
                more()
            while pos < len(buf) and buf[pos] in " \t\r\n\x00\x1a":
                pos += 1
                if len(buf) - pos < 1024 and not eof:
                    more()
            if pos >= len(buf):
                return
            if not buf.startswith("ISA", pos):
                nxt = buf.find("ISA", pos + 1)
                while nxt < 0 and not eof:
                    more()
                    nxt = buf.find("ISA", pos + 1)
                garbage = buf[pos : nxt if nxt >= 0 else len(buf)]
                head = garbage[:40]
                if re.match(r"\s*ST[^A-Za-z0-9 ]\d{3}", garbage):
                    yield error("x12.no_envelope", "transaction set without an ISA/GS envelope "
                                f"(file starts with {head!r})", x12_code="024")
                elif re.match(r"\s*(GS|IEA|GE|SE)[^A-Za-z0-9 ]", garbage):
                    yield error("x12.no_isa", f"segments outside an interchange: no ISA before {head!r}",
                                x12_code="024")
                elif _looks_like_corrupt_isa(garbage):
                    yield error("x12.isa.corrupt_tag", f"corrupt ISA segment tag: {head!r}", level=Level.INTERCHANGE,
                                segment="ISA", x12_code="024")
                else:
                    yield error("file.not_edi", f"not an X12 interchange: data starts with {head!r}",
                                x12_code="024")
                if nxt < 0:
                    return
                pos = nxt
                continue
            while len(buf) - pos < 1024 and not eof:
                more()
            sniffed = sniff_isa(buf, pos, allow_short_isa=rules.short_isa,
                                allow_isa11_repetition_in_00401=rules.isa11_repetition_in_00401)
            if isinstance(sniffed, Issue):
                yield sniffed
                nxt = buf.find("ISA", pos + 3)
                if nxt < 0:
                    return
                pos = nxt
                continue
            yield _Isa(sniffed)
            delims = sniffed.delimiters
            term, elem, wrapped = delims.segment, delims.element, sniffed.wrapped
            indent_warned = False
            pos = sniffed.end
            slow_until = -1
            continue

        if not wrapped and pos >= slow_until:
            # Fast path: every complete segment in the buffer, split with C-level string operations.
            last = buf.rfind(term, pos)
            if last > pos:
                block = buf[pos:last]
                stripped = block.lstrip(_LEADING_BLANKS)
                lead = len(block) - len(stripped)
                if not indent_warned and (" " in block[:lead] or "\t" in block[:lead]):
                    indent_warned = True
                    yield warning("x12.indented", "segments are indented with spaces or tabs; the indentation "
                                  "was ignored", level=Level.INTERCHANGE)
                block = stripped
                iea = _find_iea(block, term, elem)
                new_pos = last + len(term)
                if iea >= 0:
                    e = block.find(term, iea)
                    if e >= 0:
                        block = block[:e]
                        new_pos = pos + lead + e + len(term)
                normalized = block.replace(term + "\r\n", term).replace(term + "\n", term)
                irregular = False
                for ch in "\r\n":
                    if ch != term and ch in normalized:
                        irregular = True
                if (term + " ") in normalized or (term + "\t") in normalized:
                    irregular = True
                if not irregular:
                    yield _Batch([p.split(elem) for p in normalized.split(term) if p])
                    pos = new_pos
                    if iea >= 0:
                        delims = None
                    continue
                slow_until = last

        idx = buf.find(term, pos)
        if idx < 0:
            if not eof:
                more()
                continue
            raw = buf[pos:]
            pos = len(buf)
            if not raw.strip(" \t\r\n\x00\x1a"):
                return
            raw = raw.strip(NEWLINES)
            yield warning("x12.no_final_terminator", "the last segment has no segment terminator",
                          level=Level.SEGMENT, segment=raw.split(elem, 1)[0][:3])
        else:
            raw = buf[pos:idx]
            pos = idx + len(term)
        if wrapped:
            raw = raw.replace("\r", "").replace("\n", "")
        else:
            raw = raw.rstrip(NEWLINES)
            if raw[:1] in _LEADING_BLANKS:
                stripped = raw.lstrip(_LEADING_BLANKS)
                if not indent_warned and (" " in raw[: len(raw) - len(stripped)]
                                          or "\t" in raw[: len(raw) - len(stripped)]):
                    indent_warned = True
                    yield warning("x12.indented", "segments are indented with spaces or tabs; the indentation "
                                  "was ignored", level=Level.INTERCHANGE)
                raw = stripped
            if "\n" in raw or "\r" in raw:
                first = raw.split(elem, 1)[0].strip()
                yield error("x12.segment.line_break", f"segment {first} contains a line break: a segment "
                            f"terminator {term!r} is probably missing", level=Level.SEGMENT, segment=first,
                            x12_code="8")
                raw = raw.replace("\r", " ").replace("\n", " ")
        if not raw:
            continue
        seg = raw.split(elem)
        yield _Batch([seg])
        if seg[0] == "IEA":
            delims = None


# --------------------------------------------------------------------------- envelope state machine


def _group_issue(code: str, message: str, ak9: str, **where: object) -> Issue:
    return error(code, message, level=Level.GROUP, x12_code=ak9, **where)


def _set_issue(code: str, message: str, ak5: str, **where: object) -> Issue:
    return error(code, message, level=Level.TRANSACTION, x12_code=ak5, **where)


def _check_isa(isa: list[str], issues: list[Issue]) -> None:
    """ISA element checks (TA1 note codes)."""

    def bad(code: str, msg: str, ta1: str, el: int) -> None:
        issues.append(error(code, msg, level=Level.INTERCHANGE, segment="ISA", element=el, x12_code=ta1,
                            value=isa[el][:20]))

    if isa[1] not in ("00", "01", "02", "03", "04", "05", "06"):
        bad("x12.isa.isa01", f"ISA01 authorization qualifier {isa[1]!r} is not valid", "005", 1)
    if isa[3] not in ("00", "01"):
        bad("x12.isa.isa03", f"ISA03 security qualifier {isa[3]!r} is not valid", "007", 3)
    for el, ta1 in ((5, "009"), (7, "011")):
        if isa[el].strip() not in ISA_ID_QUALIFIERS:
            issues.append(warning("x12.isa.id_qualifier", f"ISA{el:02d} id qualifier {isa[el]!r} is not in "
                                  "the standard code list", level=Level.INTERCHANGE, segment="ISA", element=el,
                                  x12_code=ta1))
    if not isa[6].strip():
        bad("x12.isa.sender_id", "ISA06 interchange sender id is empty", "010", 6)
    if not isa[8].strip():
        bad("x12.isa.receiver_id", "ISA08 interchange receiver id is empty", "012", 8)
    if parse_date(isa[9]) is None or len(isa[9].strip()) != 6:
        bad("x12.isa.date", f"ISA09 interchange date {isa[9]!r} is not a valid YYMMDD date", "013", 9)
    if parse_time(isa[10]) is None or len(isa[10].strip()) != 4:
        bad("x12.isa.time", f"ISA10 interchange time {isa[10]!r} is not a valid HHMM time", "014", 10)
    if isa[12] not in KNOWN_ISA_VERSIONS:
        bad("x12.isa.version", f"ISA12 control version {isa[12]!r} is not a known X12 version", "016", 12)
    if not _DIGITS.match(isa[13].strip()) or len(isa[13].strip()) > 9:
        bad("x12.isa.control_number", f"ISA13 control number {isa[13]!r} is not numeric (1-9 digits)", "017", 13)
    if isa[14].strip() not in ("0", "1"):
        bad("x12.isa.ack_requested", f"ISA14 acknowledgment requested {isa[14]!r} must be 0 or 1", "018", 14)
    if isa[15].strip() not in ("P", "T", "I"):
        bad("x12.isa.usage", f"ISA15 usage indicator {isa[15]!r} must be P, T or I", "019", 15)


class _EnvelopeMachine:
    """Turns segments into envelope events and checks counts, control numbers and order."""

    def __init__(self, rules: EnvelopeRules) -> None:
        self.rules = rules
        self.file_index = 0
        self.interchange: InterchangeStart | None = None
        self.group: GroupStart | None = None
        self.tset: TransactionSet | None = None
        self.group_count = 0
        self.ta1_count = 0
        self.set_count = 0
        self.set_numbers: set[str] = set()
        self.pending: list[Issue] = []  # scanner issues waiting for the event they belong to

    # -- helpers -------------------------------------------------------------------------

    def _close_set(self, se: list[str] | None) -> TransactionSet:
        ts = self.tset
        assert ts is not None
        self.tset = None
        st = ts.segments[0]
        if se is None:
            ts.issues.append(_set_issue("x12.se.missing", f"transaction set {ts.id} {ts.control_number} has no "
                                        "SE trailer", "2", segment="SE"))
        else:
            count = len(ts.segments)
            se01 = se[1].strip() if len(se) > 1 else ""
            se02 = se[2].strip() if len(se) > 2 else ""
            if se02 != (st[2].strip() if len(st) > 2 else ""):
                ts.issues.append(_set_issue("x12.se.control_number", f"SE02 {se02!r} does not match ST02 "
                                            f"{ts.control_number!r}", "3", segment="SE", position=count,
                                            element=2, value=se02))
            if not se01.isdecimal() or int(se01) != count:
                msg = f"SE01 says {se01!r} segments but the transaction set has {count} (ST to SE)"
                if self.rules.segment_count_mismatch and se01.isdecimal():
                    ts.issues.append(warning("x12.se.segment_count", msg, level=Level.TRANSACTION, segment="SE",
                                             position=count, element=1, x12_code="4"))
                else:
                    ts.issues.append(_set_issue("x12.se.segment_count", msg, "4", segment="SE", position=count,
                                                element=1, value=se01))
        return ts

    def _close_group(self, ge: list[str] | None) -> GroupEnd:
        grp = self.group
        assert grp is not None
        self.group = None
        end = GroupEnd(group=grp, ge=ge, set_count=self.set_count)
        if ge is None:
            end.issues.append(_group_issue("x12.ge.missing", f"functional group {grp.control_number} has no GE "
                                           "trailer", "3", segment="GE"))
        else:
            ge01 = ge[1].strip() if len(ge) > 1 else ""
            ge02 = ge[2].strip() if len(ge) > 2 else ""
            if not ge01.isdecimal() or int(ge01) != self.set_count:
                end.issues.append(_group_issue("x12.ge.set_count", f"GE01 says {ge01!r} transaction sets but the "
                                               f"group has {self.set_count}", "5", segment="GE", element=1,
                                               value=ge01))
            if ge02 != grp.control_number and not (ge02.isdecimal() and grp.control_number.isdecimal()
                                                   and int(ge02) == int(grp.control_number)):
                end.issues.append(_group_issue("x12.ge.control_number", f"GE02 {ge02!r} does not match GS06 "
                                               f"{grp.control_number!r}", "4", segment="GE", element=2,
                                               value=ge02[:20]))
        self.set_count = 0
        self.set_numbers = set()
        return end

    def _close_interchange(self, iea: list[str] | None) -> InterchangeEnd:
        ich = self.interchange
        assert ich is not None
        self.interchange = None
        end = InterchangeEnd(interchange=ich, iea=iea, group_count=self.group_count)
        if iea is None:
            end.issues.append(error("x12.iea.missing", f"interchange {ich.control_number} has no IEA trailer",
                                    level=Level.INTERCHANGE, segment="IEA", x12_code="023"))
        else:
            iea01 = iea[1].strip() if len(iea) > 1 else ""
            iea02 = iea[2].strip() if len(iea) > 2 else ""
            if not iea01.isdecimal() or int(iea01) != self.group_count:
                if (self.rules.ta1_counted_in_iea01 and self.group_count == 0 and iea01.isdecimal()
                        and int(iea01) == self.ta1_count):
                    end.issues.append(warning("x12.iea.group_count_ta1", f"IEA01 is {iea01} but the interchange "
                                              "has no functional groups (it counts its TA1 segments)",
                                              level=Level.INTERCHANGE, segment="IEA", element=1, x12_code="021"))
                else:
                    end.issues.append(error("x12.iea.group_count", f"IEA01 says {iea01!r} functional groups but "
                                            f"the interchange has {self.group_count}", level=Level.INTERCHANGE,
                                            segment="IEA", element=1, x12_code="021", value=iea01))
            isa13 = ich.control_number
            if iea02 != isa13:
                if (iea02.isdecimal() and isa13.isdecimal() and int(iea02) == int(isa13)
                        and self.rules.unpadded_iea02):
                    end.issues.append(warning("x12.iea.unpadded", f"IEA02 {iea02!r} is not zero-padded like "
                                              f"ISA13 {isa13!r}", level=Level.INTERCHANGE, segment="IEA",
                                              element=2, x12_code="001"))
                else:
                    end.issues.append(error("x12.iea.control_number", f"IEA02 {iea02!r} does not match ISA13 "
                                            f"{isa13!r}", level=Level.INTERCHANGE, segment="IEA", element=2,
                                            x12_code="001", value=iea02[:20]))
        self.group_count = 0
        self.ta1_count = 0
        return end

    def _flush_open(self, reason: str) -> Iterator[X12Event]:
        """Close whatever is open when its trailer never came (next ISA, or end of file)."""
        if self.tset is not None:
            yield self._close_set(None)
        if self.group is not None:
            yield self._close_group(None)
        if self.interchange is not None:
            end = self._close_interchange(None)
            end.issues[-1].message += f" ({reason})"
            yield end

    # -- main ----------------------------------------------------------------------------

    def feed(self, item: _Isa | Issue | _Batch) -> Iterator[X12Event]:
        """Consume one scanner item; yield the events it completes."""
        if isinstance(item, Issue):
            if self.tset is not None and item.level in (Level.SEGMENT, Level.ELEMENT):
                item.position = len(self.tset.segments) + 1
                self.tset.issues.append(item)
            elif self.interchange is not None and item.level is not Level.FILE:
                self.interchange.issues.append(item)
            else:
                yield FileProblem([item])
            return
        if isinstance(item, _Batch):
            valid = _VALID_TAGS
            envelope = _ENVELOPE_TAGS
            index = self.file_index
            ts = self.tset
            for seg in item.segments:
                index += 1
                tag = seg[0]
                if ts is not None and tag not in envelope:
                    ts.segments.append(seg)
                    if tag not in valid:
                        if _TAG.match(tag):
                            valid.add(tag)
                        else:
                            ts.issues.append(error("x12.segment.bad_tag", f"unrecognized segment id {tag[:10]!r}",
                                                   level=Level.SEGMENT, segment=tag[:3], position=len(ts.segments),
                                                   x12_code="1"))
                    continue
                self.file_index = index
                yield from self._segment(seg)
                ts = self.tset
            self.file_index = index
            return
        self.file_index += 1
        if isinstance(item, _Isa):
            yield from self._flush_open("a new ISA began before it ended")
            sn = item.sniffed
            new_ich = InterchangeStart(isa=sn.elements, delimiters=sn.delimiters, index=self.file_index,
                                       issues=list(sn.issues))
            _check_isa(sn.elements, new_ich.issues)
            self.interchange = new_ich
            yield new_ich

    def _segment(self, seg: list[str]) -> Iterator[X12Event]:
        """Handle an envelope segment (or any segment outside a transaction set)."""
        tag = seg[0]
        ts = self.tset
        ich: InterchangeStart | None = self.interchange
        if tag == "SE":
            if ts is None:
                self._stray(seg, "SE without a matching ST")
                return
            ts.segments.append(seg)
            yield self._close_set(seg)
            return
        if ts is not None:  # ST, GE, IEA, GS while a set is open: the SE is missing
            yield self._close_set(None)
        if ich is None:
            yield FileProblem([error("x12.no_isa", f"segment {tag} outside an interchange (no ISA before it)",
                                     segment=tag[:3], x12_code="024")])
            return
        if tag == "ST":
            if self.group is None:
                ich.issues.append(error("x12.gs.missing", "transaction set without a GS functional group header",
                                        level=Level.INTERCHANGE, segment="ST", x12_code="024"))
            tset = TransactionSet(segments=[seg], interchange=ich, group=self.group, index=self.file_index)
            self.set_count += 1
            st01 = seg[1].strip() if len(seg) > 1 else ""
            st02 = seg[2].strip() if len(seg) > 2 else ""
            if not (len(st01) == 3 and st01.isdecimal()):
                tset.issues.append(_set_issue("x12.st.id", f"ST01 transaction set identifier {st01!r} is not "
                                              "valid", "6", segment="ST", position=1, element=1, value=st01[:20]))
            if not st02 or len(st02) < 4 or len(st02) > 9:
                tset.issues.append(_set_issue("x12.st.control_number", f"ST02 control number {st02!r} must be "
                                              "4 to 9 characters", "7", segment="ST", position=1, element=2,
                                              value=st02[:20]))
            elif st02 in self.set_numbers:
                msg = f"ST02 control number {st02} is used twice in this functional group"
                if self.rules.duplicate_set_control_number:
                    tset.issues.append(warning("x12.st.duplicate_control_number", msg, level=Level.TRANSACTION,
                                               segment="ST", position=1, element=2, x12_code="23"))
                else:
                    tset.issues.append(_set_issue("x12.st.duplicate_control_number", msg, "23", segment="ST",
                                                  position=1, element=2, value=st02))
            self.set_numbers.add(st02)
            grp = self.group
            if grp is not None and grp.functional_id_code in FUNCTIONAL_GROUPS and st01 \
                    and st01 not in FUNCTIONAL_GROUPS[grp.functional_id_code]:
                msg = f"transaction set {st01} in a functional group GS01={grp.functional_id_code}"
                if self.rules.gs01_mismatch:
                    tset.issues.append(warning("x12.gs.functional_id_mismatch", msg, level=Level.TRANSACTION,
                                               segment="GS", element=1))
                else:
                    tset.issues.append(_set_issue("x12.gs.functional_id_mismatch", msg, "6", segment="ST",
                                                  position=1, element=1))
            self.tset = tset
            return
        if tag == "GS":
            if self.group is not None:
                yield self._close_group(None)
            grp = GroupStart(gs=seg, interchange=ich, index=self.file_index)
            self._check_gs(grp)
            self.group = grp
            self.group_count += 1
            yield grp
            return
        if tag == "GE":
            if self.group is None:
                ich.issues.append(error("x12.ge.stray", "GE without a matching GS", level=Level.INTERCHANGE,
                                        segment="GE", x12_code="024"))
                return
            yield self._close_group(seg)
            return
        if tag == "IEA":
            if self.group is not None:
                yield self._close_group(None)
            yield self._close_interchange(seg)
            return
        if tag == "TA1":
            self.ta1_count += 1
            yield InterchangeAckSegment(ta1=seg, interchange=ich, index=self.file_index)
            return
        if tag in ("ISB", "ISE"):
            return  # optional interchange service segments
        ich.issues.append(error("x12.segment.outside_set", f"segment {tag[:3]} outside a transaction set",
                                level=Level.INTERCHANGE, segment=tag[:3], x12_code="024"))

    def _stray(self, seg: list[str], message: str) -> None:
        if self.interchange is not None:
            self.interchange.issues.append(error("x12.segment.stray", message, level=Level.INTERCHANGE,
                                                 segment=seg[0][:3], x12_code="024"))

    def _check_gs(self, grp: GroupStart) -> None:
        gs = grp.gs
        issues = grp.issues
        if len(gs) < 9:
            issues.append(_group_issue("x12.gs.short", f"GS has {len(gs) - 1} elements, 8 are required", "6",
                                       segment="GS"))
            return
        if not grp.functional_id_code.isalpha() or len(grp.functional_id_code) != 2:
            issues.append(_group_issue("x12.gs.gs01", f"GS01 functional identifier {gs[1]!r} is not valid", "1",
                                       segment="GS", element=1, value=gs[1][:20]))
        version = grp.version
        gs04 = gs[4].strip()
        if parse_date(gs04) is None:
            issues.append(_group_issue("x12.gs.date", f"GS04 date {gs04!r} is not a valid date", "6",
                                       segment="GS", element=4, value=gs04[:20]))
        elif len(gs04) == 6 and version[:3] >= "004":
            msg = f"GS04 date {gs04!r} has 6 digits; version {version} requires CCYYMMDD"
            if self.rules.six_digit_gs_date:
                issues.append(warning("x12.gs.six_digit_date", msg, level=Level.GROUP, segment="GS", element=4))
            else:
                issues.append(_group_issue("x12.gs.six_digit_date", msg, "6", segment="GS", element=4))
        if parse_time(gs[5]) is None:
            issues.append(_group_issue("x12.gs.time", f"GS05 time {gs[5]!r} is not a valid HHMM time", "6",
                                       segment="GS", element=5, value=gs[5][:20]))
        gs06 = gs[6].strip()
        if not _DIGITS.match(gs06) or len(gs06) > 9:
            issues.append(_group_issue("x12.gs.control_number", f"GS06 group control number {gs06!r} is not "
                                       "numeric (1-9 digits)", "6", segment="GS", element=6, value=gs06[:20]))
        if gs[7].strip() not in ("X", "T"):
            issues.append(warning("x12.gs.agency", f"GS07 responsible agency {gs[7]!r} should be X",
                                  level=Level.GROUP, segment="GS", element=7))
        if not version or not version[:6].isdecimal():
            issues.append(_group_issue("x12.gs.version", f"GS08 version {version!r} is not valid", "2",
                                       segment="GS", element=8))

    def finish(self) -> Iterator[X12Event]:
        """End of input: close whatever is still open."""
        yield from self._flush_open("the file ended")


def iter_x12(source: bytes | BinaryIO | Iterable[bytes], *, rules: EnvelopeRules | None = None,
             chunk_size: int = CHUNK_SIZE) -> Iterator[X12Event]:
    """Read X12 from bytes, a binary file or byte chunks; yield envelope events one transaction set at a time."""
    rules = rules or EnvelopeRules()
    chunks = _byte_chunks(source, chunk_size)
    first = b""
    for first in chunks:
        if first:
            break
    problem = _sniff_encoding_problem(first)
    if problem is not None:
        yield FileProblem([problem])
        return

    def all_chunks() -> Iterator[bytes]:
        yield first
        yield from chunks

    decode_issues: list[Issue] = []
    machine = _EnvelopeMachine(rules)
    for item in _scan(_decoded_chunks(all_chunks(), decode_issues), rules):
        if decode_issues:
            yield FileProblem(list(decode_issues))
            decode_issues.clear()
        yield from machine.feed(item)
    if decode_issues:
        yield FileProblem(list(decode_issues))
    yield from machine.finish()


def read_x12(data: bytes, *, rules: EnvelopeRules | None = None) -> list[X12Event]:
    """All envelope events of a small interchange held in memory (tests, one-off tools)."""
    return list(iter_x12(data, rules=rules))
