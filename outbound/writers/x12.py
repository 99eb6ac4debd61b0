"""X12 segment and envelope writer: segments in, interchange bytes out.

Rules:
- Pure: no clock, no files. Dates, times and control numbers come in through ``X12Envelope``.
- A segment is a sequence ``[segment id, element 1, element 2, ...]``. An element is a ``str``,
  ``None`` (empty) or a tuple/list of ``str`` (a composite: joined with the component separator).
- Trailing empty elements, and trailing empty components of a composite, are trimmed.
- X12 has no escape character, so data that contains a delimiter (or a control character, or a
  character the envelope's encoding cannot carry) raises ``WriterError`` naming the element
  (``N102``, ``AK401-2``). We never emit a corrupt segment; the caller fixes the data.
- A transaction set is given as its segments, starting with ``ST`` (only ST01 is needed). The writer
  fills ST02 from ``st_numbers``, ST03 for 00501+ implementation versions (``005010X231A1``),
  and appends ``SE`` with SE01 counted (ST and SE included) and SE02 = ST02.
- ISA is fixed width. ISA11 is ``U`` before 00402 and the repetition separator from 00402 on;
  ISA12 comes from the version (``004010VICS`` -> ``00401``); ISA16 is the component separator.
- Groups are numbered GS06 = ``envelope.gs06``, ``+1``, ... in the order given; GE01 counts the
  sets of the group, IEA01 the groups, IEA02 = ISA13.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from partners.profile import Delimiters, X12Identity

Element = str | Sequence[str] | None
Segment = Sequence[Element]
TransactionSet = Sequence[Segment]

_VERSION = re.compile(r"^(\d{6})([A-Z0-9]{0,6})$")
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_CONTROL_CHARS = "".join(chr(c) for c in range(32)) + "\x7f"
_MAX_CONTROL = 999_999_999


class WriterError(ValueError):
    """Our data cannot be written as valid X12; ``field`` names the element (``N102``) or setting."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


@dataclass(frozen=True, slots=True, kw_only=True)
class X12Envelope:
    """Everything the ISA/GS/ST envelope needs that is not in the documents themselves (keywords only)."""

    sender: X12Identity
    receiver: X12Identity
    version: str  # GS08: 004010, 004010VICS, 005010, 005010X231A1, ...
    delimiters: Delimiters
    isa13: int  # interchange control number
    gs06: int  # control number of the first functional group
    date: dt.date  # ISA09 (YYMMDD), GS04 (CCYYMMDD), and BSN03/BIG01/BEG05 when the document has none
    time: dt.time  # ISA10, GS05 (HHMM)
    usage: Literal["P", "T"] = "P"
    ack_requested: Literal["0", "1"] = "0"
    encoding: str = "ascii"  # "utf-8" or "latin-1" only for partners who agreed to it

    @property
    def isa_version(self) -> str:
        """ISA12, the interchange control version: the first five digits of the version."""
        return self.version[:5]


@dataclass(frozen=True, slots=True)
class FunctionalGroup:
    """A functional group to write: GS01 code, its transaction sets, and an optional GS08 override."""

    functional_id_code: str
    transaction_sets: Sequence[TransactionSet]
    version: str | None = None  # GS08 for this group; the envelope's version when None


# --------------------------------------------------------------------------- value formatting


def format_date(value: dt.date) -> str:
    """A date as CCYYMMDD (GS04 and every 4010/5010 body date)."""
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def format_time(value: dt.time) -> str:
    """A time as HHMM, or HHMMSS when it has seconds (DTM03, BSN04)."""
    if value.second:
        return f"{value.hour:02d}{value.minute:02d}{value.second:02d}"
    return f"{value.hour:02d}{value.minute:02d}"


def format_decimal(value: Decimal | int, field: str) -> str:
    """An X12 R (real) value: no exponent, no trailing zeros, no decimal point for integers."""
    dec = _finite(value, field)
    if dec == 0:
        return "0"
    text = format(dec, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_implied(value: Decimal | int, decimals: int, field: str) -> str:
    """An X12 Nn value (implied decimals): 12.34 with n=2 -> ``1234``; refuses to round money."""
    dec = _finite(value, field)
    try:
        scaled = dec.scaleb(decimals)
        integral = scaled.to_integral_value()
    except InvalidOperation as exc:
        raise WriterError(f"{value} is too large", field=field) from exc
    if scaled != integral:
        raise WriterError(f"{value} has more than {decimals} decimal places (N{decimals})", field=field)
    return str(int(integral))


def format_count(value: int, field: str) -> str:
    """A non-negative integer count (N0): SE01, GE01, CTT01, ..."""
    if value < 0:
        raise WriterError(f"count {value} is negative", field=field)
    return str(value)


def _finite(value: Decimal | int, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise WriterError(f"{value!r} is not a Decimal", field=field)
    dec = Decimal(value)
    if not dec.is_finite():
        raise WriterError(f"{value} is not a finite number", field=field)
    return dec


# --------------------------------------------------------------------------- segments


class SegmentWriter:
    """Renders segments with one set of delimiters, refusing data that would corrupt them."""

    def __init__(self, delimiters: Delimiters, *, repetition_active: bool, encoding: str = "ascii") -> None:
        self.delimiters = delimiters
        self.encoding = encoding
        try:
            "X".encode(encoding)
        except LookupError as exc:
            raise WriterError(f"unknown encoding {encoding!r}", field="encoding") from exc
        check_delimiters(delimiters, repetition_active=repetition_active)
        forbidden = {delimiters.element, delimiters.component, delimiters.segment}
        if repetition_active:
            forbidden.add(delimiters.repetition)
        forbidden.update(delimiters.segment_suffix)
        self._forbidden = re.compile("[" + re.escape("".join(sorted(forbidden)) + _CONTROL_CHARS) + "]")
        self._terminator = delimiters.segment + delimiters.segment_suffix

    def clean(self, value: str, field: str) -> str:
        """``value`` unchanged if it can be written; otherwise a WriterError naming ``field``."""
        bad = self._forbidden.search(value)
        if bad is not None:
            char = bad.group()
            what = "a control character" if char in _CONTROL_CHARS else "the delimiter"
            raise WriterError(f"value {value!r} contains {what} {char!r}; X12 cannot escape it", field=field)
        if not value.isascii():
            try:
                value.encode(self.encoding)
            except UnicodeEncodeError as exc:
                raise WriterError(
                    f"value {value!r} has characters the {self.encoding} encoding cannot carry", field=field
                ) from exc
        return value

    def sanitize(self, value: str, max_length: int) -> str:
        """A copy of a partner's bad value made writable: delimiters and controls dropped, truncated, and
        trailing spaces dropped (X12 suppresses them in AN elements; pyx12 rejects them in AK404/IK404)."""
        text = self._forbidden.sub("", value)
        text = text.encode(self.encoding, "ignore").decode(self.encoding)
        return text[:max_length].rstrip(" ")

    def render(self, segment: Segment) -> str:
        """One segment as text, terminator and suffix included."""
        if not segment or not isinstance(segment[0], str) or not _SEGMENT_ID.fullmatch(segment[0]):
            raise WriterError(f"bad segment id in {list(segment)[:2]!r}", field="segment")
        seg_id = segment[0]
        parts = [seg_id]
        for pos, element in enumerate(segment[1:], start=1):
            name = f"{seg_id}{pos:02d}"
            if element is None:
                parts.append("")
            elif isinstance(element, str):
                parts.append(self.clean(element, name))
            else:
                comps = [self.clean(c or "", f"{name}-{i}") for i, c in enumerate(element, start=1)]
                while comps and comps[-1] == "":
                    comps.pop()
                parts.append(self.delimiters.component.join(comps))
        while len(parts) > 1 and parts[-1] == "":
            parts.pop()
        if len(parts) == 1:
            raise WriterError(f"segment {seg_id} has no data elements", field=f"{seg_id}01")
        return self.delimiters.element.join(parts) + self._terminator


def check_delimiters(delimiters: Delimiters, *, repetition_active: bool) -> None:
    """Refuse delimiters that a reader could not tell apart from data or from each other."""
    named = {
        "element": delimiters.element,
        "component": delimiters.component,
        "segment": delimiters.segment,
    }
    if repetition_active:
        named["repetition"] = delimiters.repetition
    for name, char in named.items():
        if len(char) != 1:
            raise WriterError(f"must be exactly one character, got {char!r}", field=f"delimiters.{name}")
        if char.isalnum() or char == " ":
            raise WriterError(f"{char!r} would be read as data", field=f"delimiters.{name}")
    if len(set(named.values())) != len(named):
        raise WriterError(f"delimiters must all differ: {named}", field="delimiters")
    if delimiters.segment_suffix.strip("\r\n"):
        raise WriterError(
            f"only CR/LF may follow a segment, got {delimiters.segment_suffix!r}",
            field="delimiters.segment_suffix",
        )


# --------------------------------------------------------------------------- envelope


def _check_version(version: str, field: str) -> re.Match[str]:
    match = _VERSION.match(version)
    if match is None:
        raise WriterError(f"{version!r} is not an X12 version such as 004010 or 005010X231A1", field=field)
    return match


def _control(value: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_CONTROL:
        raise WriterError(f"control number {value!r} must be an integer 1..{_MAX_CONTROL}", field=field)
    return value


def _fixed(value: str, width: int, field: str) -> str:
    if len(value) > width or not value.isascii():
        raise WriterError(f"{value!r} does not fit {width} ASCII characters", field=field)
    return value.ljust(width)


def _isa(env: X12Envelope, w: SegmentWriter, repetition_active: bool) -> str:
    d = env.delimiters
    if env.usage not in ("P", "T"):
        raise WriterError(f"usage indicator must be P or T, got {env.usage!r}", field="ISA15")
    if env.ack_requested not in ("0", "1"):
        raise WriterError(f"ack requested must be 0 or 1, got {env.ack_requested!r}", field="ISA14")
    elements = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        _fixed(env.sender.qualifier, 2, "ISA05"),
        _fixed(env.sender.id, 15, "ISA06"),
        _fixed(env.receiver.qualifier, 2, "ISA07"),
        _fixed(env.receiver.id, 15, "ISA08"),
        f"{env.date.year % 100:02d}{env.date.month:02d}{env.date.day:02d}",
        f"{env.time.hour:02d}{env.time.minute:02d}",
        d.repetition if repetition_active else "U",
        env.isa_version,
        f"{_control(env.isa13, 'ISA13'):09d}",
        env.ack_requested,
        env.usage,
    ]
    for pos, value in enumerate(elements[5:9], start=5):
        if len(value.strip()) == 0:
            raise WriterError("sender/receiver qualifier and id are required", field=f"ISA{pos:02d}")
        w.clean(value, f"ISA{pos:02d}")
    return d.element.join([*elements, d.component]) + d.segment + d.segment_suffix


def _st(tx: TransactionSet, st02: str, version: str, set_no: int) -> tuple[list[Element], Sequence[Segment]]:
    if not tx or not tx[0] or tx[0][0] != "ST":
        raise WriterError(f"transaction set #{set_no} must start with an ST segment", field="ST")
    st = list(tx[0])
    if len(st) < 2 or not isinstance(st[1], str) or not st[1]:
        raise WriterError(f"transaction set #{set_no} has no ST01", field="ST01")
    body = tx[1:]
    if any(seg and seg[0] in ("ST", "SE", "GS", "GE", "ISA", "IEA") for seg in body):
        raise WriterError(f"transaction set #{set_no} {st[1]} contains an envelope segment", field="ST")
    st03 = st[3] if len(st) > 3 else None
    if st03 is None and version >= "005010" and len(version) > 6 and version[6] == "X":
        st03 = version
    return ["ST", st[1], st02, st03], body


def write_interchange(
    envelope: X12Envelope,
    groups: Sequence[FunctionalGroup | tuple[str, Sequence[TransactionSet]]],
    st_numbers: Sequence[int],
    *,
    ta1_segments: Sequence[Segment] = (),
) -> bytes:
    """One interchange: ISA, TA1s, the groups (GS, ST..SE per set, GE), IEA; ``st_numbers`` in set order."""
    env = envelope
    match = _check_version(env.version, "version")
    repetition_active = match.group(1)[:5] >= "00402"
    w = SegmentWriter(env.delimiters, repetition_active=repetition_active, encoding=env.encoding)
    _control(env.gs06, "GS06")
    specs = [g if isinstance(g, FunctionalGroup) else FunctionalGroup(g[0], g[1]) for g in groups]
    total_sets = sum(len(g.transaction_sets) for g in specs)
    if len(st_numbers) != total_sets:
        raise WriterError(f"{len(st_numbers)} ST numbers for {total_sets} transaction sets", field="ST02")
    if env.gs06 + len(specs) - 1 > _MAX_CONTROL:
        raise WriterError("group control numbers would pass 999999999", field="GS06")

    out = [_isa(env, w, repetition_active)]
    out.extend(w.render(seg) for seg in ta1_segments)
    numbers = iter(st_numbers)
    set_no = 0
    for index, group in enumerate(specs):
        version = group.version or env.version
        if _check_version(version, "GS08").group(1)[:5] != env.isa_version:
            raise WriterError(f"group version {version} does not match ISA12 {env.isa_version}", field="GS08")
        if not re.fullmatch(r"[A-Z]{2}", group.functional_id_code):
            raise WriterError(f"{group.functional_id_code!r} is not a functional id code", field="GS01")
        gs06 = str(env.gs06 + index)
        out.append(
            w.render([
                "GS",
                group.functional_id_code,
                env.sender.application_code,
                env.receiver.application_code,
                format_date(env.date),
                f"{env.time.hour:02d}{env.time.minute:02d}",
                gs06,
                "X",
                version,
            ])
        )
        seen: set[int] = set()
        for tx in group.transaction_sets:
            set_no += 1
            number = _control(next(numbers), "ST02")
            if number in seen:
                raise WriterError(f"ST02 {number} repeats within group {gs06}", field="ST02")
            seen.add(number)
            st02 = f"{number:04d}"
            st, body = _st(tx, st02, version, set_no)
            out.append(w.render(st))
            out.extend(w.render(seg) for seg in body)
            out.append(w.render(["SE", format_count(len(body) + 2, "SE01"), st02]))
        out.append(w.render(["GE", format_count(len(group.transaction_sets), "GE01"), gs06]))
    out.append(w.render(["IEA", format_count(len(specs), "IEA01"), f"{env.isa13:09d}"]))
    text = "".join(out)
    try:
        return text.encode(env.encoding)
    except (UnicodeEncodeError, LookupError) as exc:  # checked per element; this is a safety net
        raise WriterError(f"cannot encode as {env.encoding}: {exc}", field="encoding") from exc

