"""Small helpers shared by the X12 readers: element access, numbers, dates, parties, product ids.

Rules:
- Readers never raise for bad values: a value that does not parse becomes ``None`` here, and the
  validation tables report it with its X12 code.
- ``Decimal`` for every amount and quantity; N2 (implied two decimals) goes through ``implied``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from parsers.canonical import SourceEnvelope
from parsers.x12.stream import TransactionSet, parse_date, parse_time

Segment = list[str]
_HUNDRED = Decimal(100)
_M = TypeVar("_M", bound=BaseModel)

# The readers build their dicts with the canonical models' field names only (tests run every reader
# over the fixtures and the corpus with "forbid" to hold that), so validating a document skips the
# models' unknown-key check: every value is still validated, in ~12% less time.
READER_EXTRA: Literal["ignore", "forbid"] = "ignore"


def validated(model: type[_M], fields: dict[str, Any]) -> _M:
    """A canonical document validated from the fields a reader built (see ``READER_EXTRA``)."""
    return model.model_validate(fields, extra=READER_EXTRA)


def el(seg: Segment, i: int) -> str:
    """Element ``i`` of a segment, stripped; "" when absent."""
    return seg[i].strip() if len(seg) > i else ""


def opt(seg: Segment, i: int) -> str | None:
    """Element ``i`` of a segment, stripped; None when absent or empty."""
    return (seg[i].strip() or None) if len(seg) > i else None


# Dates repeat a lot: parsed dates are kept (they are immutable), up to a bound.
_CACHE_MAX = 10_000
_DATES: dict[str, dt.date | None] = {}
_MISSING: Any = object()


def dec(value: str | None) -> Decimal | None:
    """A decimal (R type) from an element value; None when empty or not a number."""
    if not value:
        return None
    try:
        d = Decimal(value)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def implied(value: str | None, places: int = 2) -> Decimal | None:
    """An implied-decimal number (N2: "12345" -> 123.45); None when empty or not a whole number."""
    if not value:
        return None
    digits = value[1:] if value[:1] in "+-" else value
    if not digits.isdecimal():
        return None
    return Decimal(value).scaleb(-places)


def integer(value: str | None) -> int | None:
    """A whole number (N0); None when empty or not a number."""
    if not value:
        return None
    digits = value[1:] if value[:1] == "-" else value
    return int(value) if digits.isdecimal() else None


def date(value: str | None) -> dt.date | None:
    """A DT element as a date; None when empty or invalid."""
    if not value:
        return None
    d: dt.date | None = _DATES.get(value, _MISSING)
    if d is not _MISSING:
        return d
    d = parse_date(value)
    if len(_DATES) >= _CACHE_MAX:
        _DATES.clear()
    _DATES[value] = d
    return d


def time(value: str | None) -> dt.time | None:
    """A TM element as a time; None when empty or invalid."""
    return parse_time(value) if value else None


def product_ids(seg: Segment, first: int, count: int = 10) -> list[dict[str, str]]:
    """ProductId fields from (qualifier, id) element pairs starting at element ``first`` (PO106, IT106, LIN02...)."""
    out: list[dict[str, str]] = []
    for i in range(first, min(first + 2 * count, len(seg) - 1), 2):
        q = seg[i].strip()
        if q:
            v = seg[i + 1].strip()
            if v:
                out.append({"qualifier": q, "value": v})
    return out


def reference(seg: Segment) -> dict[str, Any] | None:
    """A REF (or N9) segment as Reference fields; None without a qualifier."""
    q = el(seg, 1)
    if not q:
        return None
    return {"qualifier": q, "value": opt(seg, 2), "description": opt(seg, 3)}


def date_ref(seg: Segment) -> dict[str, Any] | None:
    """A DTM segment as DateRef fields; None without a qualifier."""
    q = el(seg, 1)
    if not q:
        return None
    return {"qualifier": q, "date": date(opt(seg, 2)), "time": time(opt(seg, 3))}


def terms(seg: Segment) -> dict[str, Any]:
    """An ITD segment as PaymentTerms fields."""
    return {"type_code": opt(seg, 1), "basis_date_code": opt(seg, 2), "discount_percent": dec(opt(seg, 3)),
            "discount_due_date": date(opt(seg, 4)), "discount_days": integer(opt(seg, 5)),
            "net_due_date": date(opt(seg, 6)), "net_days": integer(opt(seg, 7)),
            "discount_amount": implied(opt(seg, 8)), "description": opt(seg, 12)}


def carrier_td5(seg: Segment) -> dict[str, Any]:
    """A TD5 segment as Carrier fields."""
    return {"routing_sequence": opt(seg, 1), "id_qualifier": opt(seg, 2), "id": opt(seg, 3),
            "transport_method": opt(seg, 4), "routing": opt(seg, 5), "service_level": opt(seg, 12)}


def allowance_charge(seg: Segment) -> dict[str, Any] | None:
    """A SAC segment as AllowanceCharge fields (SAC05 has two implied decimals); None for a bad SAC01."""
    ind = el(seg, 1)
    if ind not in ("A", "C", "N"):
        return None
    return {"indicator": ind, "code": opt(seg, 2), "amount": implied(opt(seg, 5)), "percent": dec(opt(seg, 7)),
            "rate": dec(opt(seg, 8)), "quantity": dec(opt(seg, 10)), "description": opt(seg, 15)}


def tax(seg: Segment) -> dict[str, Any]:
    """A TXI segment as Tax fields."""
    return {"type_code": opt(seg, 1), "amount": dec(opt(seg, 2)), "percent": dec(opt(seg, 3))}


def contact(seg: Segment) -> dict[str, Any]:
    """A PER segment as Contact fields (TE phone, EM email, FX fax among PER03..PER08)."""
    found: dict[str, str] = {}
    for i in (3, 5, 7):
        q, v = el(seg, i), el(seg, i + 1)
        if q and v and q not in found:
            found[q] = v
    return {"function_code": opt(seg, 1), "name": opt(seg, 2), "phone": found.get("TE"), "email": found.get("EM"),
            "fax": found.get("FX")}


class PartyBuilder:
    """Accumulates one N1 loop (N1, N2, N3, N4, PER) into Party fields."""

    __slots__ = ("contacts", "fields", "lines", "place")

    def __init__(self, n1: Segment) -> None:
        self.fields: dict[str, Any] = {"role": el(n1, 1), "name": opt(n1, 2), "id_qualifier": opt(n1, 3),
                                       "id": opt(n1, 4)}
        self.lines: list[str] = []
        self.place: dict[str, str | None] = {}
        self.contacts: list[dict[str, Any]] = []

    def add(self, seg: Segment) -> bool:
        """Take N2/N3/N4/PER of this party; False when the segment is not a party detail."""
        sid = seg[0]
        if sid == "N3":
            for v in seg[1:3]:
                v = v.strip()
                if v:
                    self.lines.append(v)
        elif sid == "N4":
            self.place = {"city": opt(seg, 1), "state": opt(seg, 2), "postal_code": opt(seg, 3), "country": opt(seg, 4)}
        elif sid == "N2":
            if not self.fields["name"]:
                self.fields["name"] = opt(seg, 1)
        elif sid == "PER":
            self.contacts.append(contact(seg))
        else:
            return False
        return True

    def kwargs(self) -> dict[str, Any]:
        """The Party fields (address and contacts as nested fields)."""
        out = self.fields
        if self.lines or self.place:
            out["address"] = {"lines": self.lines, **self.place}
        if self.contacts:
            out["contacts"] = self.contacts
        return out


# The envelope fields of the last (interchange, group) seen: consecutive sets share them. One tuple,
# read and replaced whole, so that threads reading different files never mix their envelopes.
_last_envelope: list[tuple[Any, Any, dict[str, Any]]] = [(None, None, {})]


def envelope(ts: TransactionSet) -> dict[str, Any]:
    """The SourceEnvelope fields of a transaction set: ISA ids, GS ids and versions, ST ids."""
    ich, grp = ts.interchange, ts.group
    last_ich, last_grp, fields = _last_envelope[0]
    if last_ich is not ich or last_grp is not grp or ich is None:
        fields = {
            "format": "x12",
            "sender_qualifier": ich.sender_qualifier if ich else None,
            "sender_id": ich.sender_id if ich else None,
            "receiver_qualifier": ich.receiver_qualifier if ich else None,
            "receiver_id": ich.receiver_id if ich else None,
            "interchange_control_number": ich.control_number if ich else None,
            "interchange_date": ich.date if ich else None,
            "interchange_time": ich.time if ich else None,
            "usage_indicator": ich.usage_indicator if ich else None,
            "group_sender_id": grp.sender_code or None if grp else None,
            "group_receiver_id": grp.receiver_code or None if grp else None,
            "functional_id_code": grp.functional_id_code or None if grp else None,
            "group_control_number": grp.control_number or None if grp else None,
        }
        _last_envelope[0] = (ich, grp, fields)
    out = dict(fields)
    out["version"] = ts.version or None
    out["transaction_set_id"] = ts.id or None
    out["transaction_set_control_number"] = ts.control_number or None
    out["implementation_reference"] = ts.implementation_reference
    return out


def source_envelope(ts: TransactionSet) -> SourceEnvelope:
    """The SourceEnvelope of a transaction set: ISA ids, GS ids and versions, ST ids."""
    return SourceEnvelope.model_validate(envelope(ts))
