"""Segments shared by the 850, 856 and 810 writers: N1 loops, REF, DTM, PER, ITD, SAC, TXI, PID, TD5.

Rules:
- Each function maps one canonical piece to its segment(s) and refuses what X12 cannot carry
  (an N1 with neither name nor id, a SAC without a code) with a WriterError naming the element.
- Optional canonical fields that are ``None`` become empty elements (trimmed at the end).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

from outbound.writers.x12 import Element, Segment, WriterError, format_date, format_decimal, format_implied
from outbound.writers.x12 import format_time as _format_time
from parsers.canonical import (
    AllowanceCharge,
    Carrier,
    Contact,
    DateRef,
    Party,
    PaymentTerms,
    ProductId,
    Reference,
    Tax,
)


def date_or_none(value: dt.date | None) -> str | None:
    """CCYYMMDD, or None for an empty element."""
    return format_date(value) if value is not None else None


def time_or_none(value: dt.time | None) -> str | None:
    """HHMM[SS], or None for an empty element."""
    return _format_time(value) if value is not None else None


def real(value: Decimal | int | None, field: str) -> str | None:
    """An R value, or None for an empty element."""
    return format_decimal(value, field) if value is not None else None


def cents(value: Decimal | None, field: str) -> str | None:
    """An N2 value (implied two decimals), or None for an empty element."""
    return format_implied(value, 2, field) if value is not None else None


def count(value: int | None) -> str | None:
    """An N0 value, or None for an empty element."""
    return str(value) if value is not None else None


def required(value: str | None, field: str, what: str) -> str:
    """``value`` if present, else a WriterError saying which mandatory element is missing."""
    if value is None or value == "":
        raise WriterError(f"{what} is required", field=field)
    return value


def ref_segments(refs: Iterable[Reference]) -> list[Segment]:
    """REF segments; REF02 or REF03 must be present (syntax R0203)."""
    out: list[Segment] = []
    for ref in refs:
        if not ref.value and not ref.description:
            raise WriterError(f"REF*{ref.qualifier} has neither a value nor a description", field="REF02")
        out.append(["REF", required(ref.qualifier, "REF01", "reference qualifier"), ref.value, ref.description])
    return out


def dtm_segment(date_ref: DateRef) -> Segment:
    """DTM*qualifier*CCYYMMDD*HHMM; a date or a time must be present (syntax R020305)."""
    if date_ref.date is None and date_ref.time is None:
        raise WriterError(f"DTM*{date_ref.qualifier} has neither a date nor a time", field="DTM02")
    return [
        "DTM",
        required(date_ref.qualifier, "DTM01", "date qualifier"),
        date_or_none(date_ref.date),
        time_or_none(date_ref.time),
    ]


def dtm_segments(dates: Iterable[DateRef]) -> list[Segment]:
    """DTM segments for a list of qualified dates."""
    return [dtm_segment(d) for d in dates]


def per_segment(contact: Contact) -> Segment:
    """PER*function*name*TE*phone*EM*email*FX*fax (communication pairs in that order, as present)."""
    numbers: list[Element] = []
    for qualifier, value in (("TE", contact.phone), ("EM", contact.email), ("FX", contact.fax)):
        if value:
            numbers += [qualifier, value]
    if not contact.name and not numbers:
        raise WriterError("contact has neither a name nor a number", field="PER02")
    return ["PER", contact.function_code or "IC", contact.name, *numbers]


def n1_loop(party: Party) -> list[Segment]:
    """N1 (+ N3 per two address lines, N4, PER per contact) for one party."""
    if not party.name and not party.id:
        raise WriterError(f"party {party.role} has neither a name nor an id", field="N102")
    if party.id and not party.id_qualifier:
        raise WriterError(f"party {party.role} id {party.id!r} has no qualifier", field="N103")
    out: list[Segment] = [
        ["N1", required(party.role, "N101", "entity code"), party.name,
         party.id_qualifier if party.id else None, party.id]
    ]
    address = party.address
    if address is not None:
        lines = [line for line in address.lines if line]
        for i in range(0, len(lines), 2):
            out.append(["N3", *lines[i : i + 2]])
        if address.city or address.state or address.postal_code or address.country:
            out.append(["N4", address.city, address.state, address.postal_code, address.country])
    out.extend(per_segment(c) for c in party.contacts)
    return out


def n1_loops(parties: Iterable[Party]) -> list[Segment]:
    """N1 loops for every party, in order."""
    return [seg for party in parties for seg in n1_loop(party)]


def itd_segment(terms: PaymentTerms) -> Segment:
    """ITD terms of sale: ITD01..ITD08 and the description in ITD12 (ITD08 is N2)."""
    return [
        "ITD",
        terms.type_code,
        terms.basis_date_code,
        real(terms.discount_percent, "ITD03"),
        date_or_none(terms.discount_due_date),
        count(terms.discount_days),
        date_or_none(terms.net_due_date),
        count(terms.net_days),
        cents(terms.discount_amount, "ITD08"),
        None,
        None,
        None,
        terms.description,
    ]


def sac_segment(ac: AllowanceCharge) -> Segment:
    """SAC allowance or charge: SAC05 amount is N2; a percent goes in SAC07 with SAC06 = 3 (of gross)."""
    if not ac.code:
        raise WriterError(f"{ac.indicator} allowance/charge has no SAC02 code", field="SAC02")
    return [
        "SAC",
        ac.indicator,
        ac.code,
        None,
        None,
        cents(ac.amount, "SAC05"),
        "3" if ac.percent is not None else None,
        real(ac.percent, "SAC07"),
        real(ac.rate, "SAC08"),
        None,
        None,
        None,
        None,
        None,
        None,
        ac.description,
    ]


def txi_segment(tax: Tax) -> Segment:
    """TXI*type*amount*percent (amount is R, not implied decimals)."""
    if tax.amount is None and tax.percent is None:
        raise WriterError(f"tax {tax.type_code} has neither an amount nor a percent", field="TXI02")
    return ["TXI", required(tax.type_code, "TXI01", "tax type code"), real(tax.amount, "TXI02"),
            real(tax.percent, "TXI03")]


def pid_segment(description: str) -> Segment:
    """PID*F****description (free-form item description)."""
    return ["PID", "F", None, None, None, description]


def td5_segment(carrier: Carrier) -> Segment:
    """TD5*routing sequence*id qualifier (2 = SCAC when an id is given)*id*method*routing, TD512 service."""
    qualifier = carrier.id_qualifier or ("2" if carrier.id else None)
    segment: list[Element] = [
        "TD5",
        carrier.routing_sequence,
        qualifier,
        carrier.id,
        carrier.transport_method,
        carrier.routing,
    ]
    if carrier.service_level:
        segment += [None] * 6 + [carrier.service_level]
    if len([e for e in segment[2:] if e]) == 0:
        raise WriterError("carrier has no SCAC, method, routing or service level", field="TD503")
    return segment


def product_id_elements(ids: Sequence[ProductId], max_pairs: int, field: str) -> list[Element]:
    """Qualifier/value pairs for PO106.., IT106.., LIN02..: refuses more pairs than the segment has."""
    if len(ids) > max_pairs:
        raise WriterError(f"{len(ids)} product ids; the segment carries at most {max_pairs}", field=field)
    out: list[Element] = []
    for pid in ids:
        out += [required(pid.qualifier, field, "product id qualifier"), required(pid.value, field, "product id")]
    return out
