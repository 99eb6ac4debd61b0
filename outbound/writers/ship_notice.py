"""856 ship notice writer: canonical ShipNotice -> BSN, HL hierarchy, CTT (4010, 4010 VICS, 5010).

Rules:
- Hierarchy: shipment S -> order O -> pack P -> item I (``"SOPI"``, BSN05 0001), or pick and pack
  S -> O -> tare T (pallet) -> pack P -> item I (``"SOTPI"``, BSN05 0002). The structure is a
  parameter (the partner profile's ``hl_structure``); ``None`` takes it from ``structure_code``.
  Items directly under an order (S/O/I) are allowed in both; a tare in a SOPI notice is refused.
- HL01 counts from 1 in the order written (depth first), HL02 is the parent's HL01, HL04 is 1 when
  the level has children and 0 when not. Under an order, packs come first, then loose items.
- Shipment level: TD1 (packaging, lading quantity, G gross weight), TD5, REF (references, then one
  REF*2I per tracking number), DTM*011 ship date, DTM*017 estimated delivery, other DTMs, N1 loops.
- Order level: PRF (PO, release, PO date), REF*IV invoice number, REF, N1 loops.
- Tare/pack level: TD1 (packaging code, weight), MAN*GM with the SSCC-18 (check digit verified),
  other MAN marks. Item level: LIN (LIN01 line number + product id pairs), SN1 (SN102/SN103
  shipped, SN105/SN106 ordered), PO4 (pack, size, unit), PID description, REF, DTM.
- CTT01 is the number of HL segments: X12's 856 note says CTT01 "is the accumulation of the number
  of HL segments", and the VICS 856 guideline follows it. ``ShipNotice.line_count`` is not written
  (it is what a partner sent); the count is always recomputed. No CTT02 hash total.
- BSN03/BSN04 are mandatory: the notice's own date/time, else the envelope's.
- 004010, 004010VICS and 005010 carry the same segments here; only the envelope differs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

from outbound.writers._segments import (
    date_or_none,
    dtm_segments,
    n1_loops,
    pid_segment,
    product_id_elements,
    real,
    ref_segments,
    required,
    td5_segment,
)
from outbound.writers.sscc import check_sscc
from outbound.writers.x12 import (
    Element,
    Segment,
    TransactionSet,
    WriterError,
    X12Envelope,
    format_date,
    format_time,
    write_interchange,
)
from parsers.canonical import DateRef, OrderLevel, PackLevel, ShipNotice, ShippedItem

Structure = Literal["SOPI", "SOTPI"]
STRUCTURE_CODES: dict[str, str] = {"SOPI": "0001", "SOTPI": "0002"}
_STRUCTURE_BY_CODE: dict[str, Structure] = {"0001": "SOPI", "0002": "SOTPI"}
_LIN_PAIRS = 15  # LIN02..LIN31


def resolve_structure(notice: ShipNotice, structure: Structure | None) -> Structure:
    """The HL structure to write: the parameter, else the notice's BSN05, else SOPI."""
    if structure is not None:
        if structure not in STRUCTURE_CODES:
            raise WriterError(f"unknown HL structure {structure!r}; use SOPI or SOTPI", field="BSN05")
        return structure
    return _STRUCTURE_BY_CODE.get(notice.structure_code or "", "SOPI")


class _Hierarchy:
    """Numbers HL segments depth first and collects the segments of each level."""

    def __init__(self) -> None:
        self.segments: list[Segment] = []
        self.count = 0

    def level(self, parent: int | None, code: str, has_children: bool) -> int:
        self.count += 1
        self.segments.append(
            ["HL", str(self.count), str(parent) if parent else None, code, "1" if has_children else "0"]
        )
        return self.count


def _td1(
    packaging: str | None, lading: Decimal | None, weight: Decimal | None, unit: str | None, where: str
) -> Segment | None:
    """TD1*packaging*lading quantity****G*weight*unit, or None when there is nothing to say."""
    if packaging is None and lading is None and weight is None:
        return None
    if weight is not None and not unit:
        raise WriterError(f"{where} weight {weight} has no unit of measure", field="TD108")
    if packaging and lading is None:
        raise WriterError(f"{where} packaging code {packaging} needs a lading quantity", field="TD102")
    return [
        "TD1",
        packaging,
        real(lading, "TD102"),
        None,
        None,
        None,
        "G" if weight is not None else None,
        real(weight, "TD107"),
        unit if weight is not None else None,
    ]


def _item(h: _Hierarchy, parent: int, item: ShippedItem) -> None:
    h.level(parent, "I", False)
    where = f"item {item.line_number or '?'}"
    if not item.product_ids:
        raise WriterError(f"{where} has no product id", field="LIN02")
    h.segments.append(["LIN", item.line_number, *product_id_elements(item.product_ids, _LIN_PAIRS, "LIN02")])
    if item.quantity_shipped is None or not item.unit_of_measure:
        raise WriterError(f"{where} needs a shipped quantity and unit", field="SN102")
    if item.quantity_ordered is not None and not item.ordered_unit_of_measure:
        raise WriterError(f"{where} ordered quantity has no unit", field="SN106")
    h.segments.append([
        "SN1",
        None,
        real(item.quantity_shipped, "SN102"),
        item.unit_of_measure,
        None,
        real(item.quantity_ordered, "SN105"),
        item.ordered_unit_of_measure if item.quantity_ordered is not None else None,
    ])
    if item.pack is not None or item.size is not None:
        if item.size is not None and not item.size_unit:
            raise WriterError(f"{where} size {item.size} has no unit", field="PO403")
        h.segments.append(["PO4", real(item.pack, "PO401"), real(item.size, "PO402"),
                           item.size_unit if item.size is not None else None])
    if item.description:
        h.segments.append(pid_segment(item.description))
    h.segments.extend(ref_segments(item.references))
    h.segments.extend(dtm_segments(item.dates))


def _pack(h: _Hierarchy, parent: int, pack: PackLevel, structure: Structure, under_tare: bool) -> None:
    code = pack.hl_code
    if code == "T" and structure != "SOTPI":
        raise WriterError(f"tare {pack.sscc or ''} in a SOPI notice: write it as SOTPI", field="HL03")
    if code == "T" and under_tare:
        raise WriterError(f"tare {pack.sscc or ''} inside another tare", field="HL03")
    if code == "P" and pack.packs:
        raise WriterError(f"pack {pack.sscc or ''} holds packs; only a tare (T) may", field="HL03")
    me = h.level(parent, code, bool(pack.packs or pack.items))
    lading = Decimal(1) if pack.packaging_code else None
    td1 = _td1(pack.packaging_code, lading, pack.weight, pack.weight_unit, "pack")
    if td1 is not None:
        h.segments.append(td1)
    if pack.sscc:
        h.segments.append(["MAN", "GM", check_sscc(pack.sscc)])
    for mark in pack.marks:
        h.segments.append(["MAN", required(mark.qualifier, "MAN01", "marks qualifier"),
                           required(mark.value, "MAN02", "marks value")])
    for child in pack.packs:
        _pack(h, me, child, structure, under_tare=True)
    for item in pack.items:
        _item(h, me, item)


def _order(h: _Hierarchy, parent: int, order: OrderLevel, structure: Structure) -> None:
    me = h.level(parent, "O", bool(order.packs or order.items))
    if order.po_number:
        h.segments.append(["PRF", order.po_number, order.release_number, None, date_or_none(order.po_date)])
    elif order.release_number or order.po_date:
        raise WriterError("order has a release number or PO date but no PO number", field="PRF01")
    if order.invoice_number:
        h.segments.append(["REF", "IV", order.invoice_number])
    h.segments.extend(ref_segments(order.references))
    h.segments.extend(n1_loops(order.parties))
    for pack in order.packs:
        _pack(h, me, pack, structure, under_tare=False)
    for item in order.items:
        _item(h, me, item)


def ship_notice_segments(
    notice: ShipNotice,
    *,
    structure: Structure | None = None,
    date: dt.date,
    time: dt.time,
) -> TransactionSet:
    """The 856 transaction set (ST first, no SE). ``date``/``time`` fill BSN03/BSN04 when the notice has none."""
    chosen = resolve_structure(notice, structure)
    bsn: list[Element] = [
        "BSN",
        notice.purpose_code or "00",
        required(notice.shipment_id, "BSN02", "shipment id"),
        format_date(notice.notice_date or date),
        format_time(notice.notice_time or time),
        STRUCTURE_CODES[chosen],
    ]
    h = _Hierarchy()
    shipment = h.level(None, "S", bool(notice.orders))
    td1 = _td1(notice.packaging_code, notice.lading_quantity, notice.gross_weight, notice.weight_unit, "shipment")
    if td1 is not None:
        h.segments.append(td1)
    if notice.carrier is not None:
        h.segments.append(td5_segment(notice.carrier))
    h.segments.extend(ref_segments(notice.references))
    h.segments.extend(["REF", "2I", number] for number in notice.tracking_numbers)
    dates: list[DateRef] = []
    if notice.ship_date is not None:
        dates.append(DateRef(qualifier="011", date=notice.ship_date))
    if notice.estimated_delivery_date is not None:
        dates.append(DateRef(qualifier="017", date=notice.estimated_delivery_date))
    # ship_date / estimated_delivery_date may also be among notice.dates (a reader keeps both): write each once
    h.segments.extend(dtm_segments([*dates, *(d for d in notice.dates if d not in dates)]))
    h.segments.extend(n1_loops(notice.parties))
    for order in notice.orders:
        _order(h, shipment, order, chosen)
    return [["ST", "856"], bsn, *h.segments, ["CTT", str(h.count)]]


def write_ship_notices(
    notices: Sequence[ShipNotice],
    envelope: X12Envelope,
    st_numbers: Sequence[int],
    *,
    structure: Structure | None = None,
) -> bytes:
    """One interchange with one GS*SH group holding an 856 per notice."""
    sets = [ship_notice_segments(n, structure=structure, date=envelope.date, time=envelope.time) for n in notices]
    return write_interchange(envelope, [("SH", sets)], st_numbers)


def write_ship_notice(
    notice: ShipNotice, envelope: X12Envelope, st_number: int = 1, *, structure: Structure | None = None
) -> bytes:
    """One interchange carrying one 856."""
    return write_ship_notices([notice], envelope, [st_number], structure=structure)
