"""X12 rendered as XML (StAEDI and EdiEngine layouts) to canonical 850 / 810 / 856 documents.

Rules:
- Both layouts are first flattened to X12 segments (id + positional element values); the mapping
  then reads segments exactly as an X12 reader would, so the two XML layouts behave alike.
- StAEDI: segments are elements in ``urn:xlate.io:staedi:names:segments``; an element's position is
  the number at the end of its name (``BEG03`` -> 3); a composite's components are joined by ``:``.
- EdiEngine: ``EdiTrans`` holds ``EdiSegment`` (``Name`` + ``Content/E`` positional values);
  the transaction set id comes from ``EdiTrans/Name`` (``M_856``).
- Only the segments the canonical models carry are read; the rest are ignored, not errors.
- Business keys (BEG03, BIG02, BSN02) are mandatory; dates are CCYYMMDD or YYMMDD; TDS01 has an
  implied two decimals.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from lxml import etree

from parsers.canonical import (
    Address,
    Carrier,
    DateRef,
    Invoice,
    LineItem,
    OrderLevel,
    PackLevel,
    Party,
    PaymentTerms,
    ProductId,
    PurchaseOrder,
    Reference,
    ShipNotice,
    ShippedItem,
    SourceEnvelope,
)
from parsers.issues import Level, error
from parsers.xml._common import Collector, XmlResult, line_of, text_of

__all__ = ["is_x12_xml", "read_x12_xml"]

STAEDI_SEGMENTS = "urn:xlate.io:staedi:names:segments"
STAEDI_LOOPS = "urn:xlate.io:staedi:names:loops"
_POSITION = re.compile(r"(\d{2})")


@dataclass(slots=True)
class _Segment:
    """One X12 segment taken from XML: its id, element values (1-based via ``get``) and XML node."""

    id: str
    elements: list[str | None]
    node: etree._Element

    def get(self, position: int) -> str | None:
        """The element at a 1-based position, or None when absent/empty."""
        if position < 1 or position > len(self.elements):
            return None
        value = self.elements[position - 1]
        return value if value else None


@dataclass(slots=True)
class _Transaction:
    """The segments of one transaction set with the envelope values seen around it."""

    set_id: str | None
    segments: list[_Segment] = field(default_factory=list)
    envelope: dict[str, str | None] = field(default_factory=dict)


def is_x12_xml(root: etree._Element) -> bool:
    """True for StAEDI or EdiEngine X12-as-XML."""
    return etree.QName(root).namespace == STAEDI_LOOPS or root.tag == "EdiTrans"


def _staedi_segments(root: etree._Element) -> list[_Segment]:
    """Flatten a StAEDI document into segments."""
    segments = []
    for node in root.iter(f"{{{STAEDI_SEGMENTS}}}*"):
        values: dict[int, str | None] = {}
        seg_id = etree.QName(node).localname
        for child in node:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            match = _POSITION.fullmatch(name.removeprefix(seg_id))
            if not name.startswith(seg_id) or not match:
                continue
            value: str | None
            if len(child):
                value = ":".join(text_of(c) or "" for c in child).rstrip(":")
            else:
                value = child.text.strip() if child.text else None
            values[int(match[1])] = value or None
        size = max(values, default=0)
        segments.append(_Segment(seg_id, [values.get(i) for i in range(1, size + 1)], node))
    return segments


def _edi_engine_segments(root: etree._Element) -> list[_Segment]:
    """Flatten an EdiEngine document into segments."""
    segments = []
    for node in root.iter("EdiSegment"):
        name = text_of(node.find("Name"))
        content = node.find("Content")
        if not name or content is None:
            continue
        values = [(e.text.strip() if e.text else None) or None for e in content if e.tag == "E"]
        segments.append(_Segment(name, values, node))
    return segments


def _transactions(root: etree._Element) -> list[_Transaction]:
    """Split flattened segments into transaction sets, carrying ISA/GS values along."""
    if root.tag == "EdiTrans":
        name = text_of(root.find("Name")) or ""
        return [_Transaction(name.removeprefix("M_") or None, _edi_engine_segments(root))]
    transactions: list[_Transaction] = []
    envelope: dict[str, str | None] = {}
    current: _Transaction | None = None
    for seg in _staedi_segments(root):
        if seg.id == "ISA":
            envelope = {
                "sender_qualifier": seg.get(5),
                "sender_id": (seg.get(6) or "").strip() or None,
                "receiver_qualifier": seg.get(7),
                "receiver_id": (seg.get(8) or "").strip() or None,
                "interchange_control_number": seg.get(13),
                "usage_indicator": seg.get(15),
            }
        elif seg.id == "GS":
            envelope = envelope | {
                "functional_id_code": seg.get(1),
                "group_sender_id": seg.get(2),
                "group_receiver_id": seg.get(3),
                "group_control_number": seg.get(6),
                "version": seg.get(8),
            }
        elif seg.id == "ST":
            current = _Transaction(seg.get(1), envelope=envelope | {"transaction_set_control_number": seg.get(2)})
            transactions.append(current)
        elif seg.id == "SE":
            current = None
        elif current is not None:
            current.segments.append(seg)
    return transactions


class _X12Mapper:
    """Maps the segments of one transaction set to a canonical document."""

    def __init__(self, c: Collector) -> None:
        self.c = c

    def date(self, seg: _Segment, position: int) -> dt.date | None:
        """A CCYYMMDD / YYMMDD date element; an error issue when unreadable."""
        value = seg.get(position)
        if value is None:
            return None
        for fmt in ("%Y%m%d", "%y%m%d"):
            try:
                if len(value) == len(dt.date(2000, 1, 1).strftime(fmt)):
                    return dt.datetime.strptime(value, fmt).date()
            except ValueError:
                break
        self.c.add(
            error(
                "xml.bad_date",
                f"{seg.id}{position:02d} is not a date: {value!r}",
                level=Level.ELEMENT,
                segment=seg.id,
                element=position,
                position=line_of(seg.node),
                value=value,
            )
        )
        return None

    def number(self, seg: _Segment, position: int) -> Decimal | None:
        """A numeric element as a Decimal."""
        return self.c.decimal(seg.get(position), f"{seg.id}{position:02d}", seg.node)

    @staticmethod
    def product_ids(seg: _Segment, first: int) -> list[ProductId]:
        """Qualifier/value pairs from ``first`` onwards (PO106/PO107, LIN02/LIN03, ...)."""
        ids = []
        for pos in range(first, len(seg.elements) + 1, 2):
            qualifier, value = seg.get(pos), seg.get(pos + 1)
            if qualifier and value:
                ids.append(ProductId(qualifier=qualifier, value=value))
        return ids

    def parties(self, segments: list[_Segment]) -> list[Party]:
        """N1/N3/N4 groups as Parties."""
        parties: list[Party] = []
        for seg in segments:
            if seg.id == "N1":
                parties.append(Party(role=seg.get(1) or "ZZ", name=seg.get(2), id_qualifier=seg.get(3), id=seg.get(4)))
            elif seg.id in ("N3", "N4") and parties:
                address = parties[-1].address or Address()
                if seg.id == "N3":
                    address.lines.extend(v for v in (seg.get(1), seg.get(2)) if v)
                else:
                    address = address.model_copy(
                        update={
                            "city": seg.get(1),
                            "state": seg.get(2),
                            "postal_code": seg.get(3),
                            "country": seg.get(4),
                        }
                    )
                parties[-1] = parties[-1].model_copy(update={"address": address})
        return parties

    @staticmethod
    def references(segments: list[_Segment]) -> list[Reference]:
        """REF segments as References."""
        return [
            Reference(qualifier=s.get(1) or "ZZ", value=s.get(2), description=s.get(3))
            for s in segments
            if s.id == "REF"
        ]

    def dates(self, segments: list[_Segment]) -> list[DateRef]:
        """DTM segments as DateRefs."""
        return [DateRef(qualifier=s.get(1) or "ZZ", date=self.date(s, 2)) for s in segments if s.id == "DTM"]

    def terms(self, segments: list[_Segment]) -> list[PaymentTerms]:
        """ITD segments as PaymentTerms."""
        result = []
        for s in segments:
            if s.id != "ITD":
                continue
            disc_days, net_days = s.get(5), s.get(7)
            result.append(
                PaymentTerms(
                    type_code=s.get(1),
                    basis_date_code=s.get(2),
                    discount_percent=self.number(s, 3),
                    discount_days=int(disc_days) if disc_days and disc_days.isdecimal() else None,
                    net_days=int(net_days) if net_days and net_days.isdecimal() else None,
                    description=s.get(12),
                )
            )
        return result

    def carrier(self, segments: list[_Segment]) -> Carrier | None:
        """The first TD5 as a Carrier."""
        td5 = next((s for s in segments if s.id == "TD5"), None)
        if td5 is None:
            return None
        return Carrier(
            routing_sequence=td5.get(1),
            id_qualifier=td5.get(2),
            id=td5.get(3),
            transport_method=td5.get(4),
            routing=td5.get(5),
        )

    def lines(self, segments: list[_Segment], line_tag: str) -> list[LineItem]:
        """PO1/IT1 lines with their PID descriptions."""
        lines: list[LineItem] = []
        for s in segments:
            if s.id == line_tag:
                lines.append(
                    LineItem(
                        line_number=s.get(1),
                        quantity=self.number(s, 2),
                        unit_of_measure=s.get(3),
                        unit_price=self.number(s, 4),
                        price_basis=s.get(5),
                        product_ids=self.product_ids(s, 6),
                    )
                )
            elif s.id == "PID" and lines and lines[-1].description is None:
                lines[-1].description = s.get(5)
        return lines

    def header_segments(self, segments: list[_Segment], line_tag: str) -> list[_Segment]:
        """The segments before the first detail line."""
        result = []
        for s in segments:
            if s.id == line_tag:
                break
            result.append(s)
        return result

    def purchase_order(self, t: _Transaction, source: SourceEnvelope) -> PurchaseOrder | None:
        """An 850."""
        beg = next((s for s in t.segments if s.id == "BEG"), None)
        if beg is None or beg.get(3) is None:
            self.c.missing("BEG03 (the purchase order number)", beg.node if beg else None)
            return None
        head = self.header_segments(t.segments, "PO1")
        cur = next((s for s in head if s.id == "CUR"), None)
        ctt = next((s for s in t.segments if s.id == "CTT"), None)
        amt = next((s for s in t.segments if s.id == "AMT" and s.get(1) == "TT"), None)
        return PurchaseOrder(
            po_number=beg.get(3) or "",
            purpose_code=beg.get(1),
            order_type=beg.get(2),
            release_number=beg.get(4),
            order_date=self.date(beg, 5),
            currency=cur.get(2) if cur else None,
            parties=self.parties(head),
            references=self.references(head),
            dates=self.dates(head),
            terms=self.terms(head),
            carrier=self.carrier(head),
            lines=self.lines(t.segments, "PO1"),
            total_amount=self.number(amt, 2) if amt else None,
            line_count=int(ctt.get(1) or 0) if ctt and (ctt.get(1) or "").isdecimal() else None,
            source=source,
        )

    def invoice(self, t: _Transaction, source: SourceEnvelope) -> Invoice | None:
        """An 810."""
        big = next((s for s in t.segments if s.id == "BIG"), None)
        if big is None or big.get(2) is None:
            self.c.missing("BIG02 (the invoice number)", big.node if big else None)
            return None
        head = self.header_segments(t.segments, "IT1")
        cur = next((s for s in head if s.id == "CUR"), None)
        tds = next((s for s in t.segments if s.id == "TDS"), None)
        ctt = next((s for s in t.segments if s.id == "CTT"), None)
        total = self.number(tds, 1) if tds else None
        return Invoice(
            invoice_number=big.get(2) or "",
            invoice_date=self.date(big, 1),
            po_date=self.date(big, 3),
            po_number=big.get(4),
            transaction_type=big.get(7),
            purpose_code=big.get(8),
            currency=cur.get(2) if cur else None,
            parties=self.parties(head),
            references=self.references(head),
            dates=self.dates(head),
            terms=self.terms(head),
            carrier=self.carrier(head),
            lines=self.lines(t.segments, "IT1"),
            total_amount=total.scaleb(-2) if total is not None else None,
            line_count=int(ctt.get(1) or 0) if ctt and (ctt.get(1) or "").isdecimal() else None,
            source=source,
        )

    def ship_notice(self, t: _Transaction, source: SourceEnvelope) -> ShipNotice | None:
        """An 856: HL levels S / O / T / P / I walked by their HL02 parents."""
        bsn = next((s for s in t.segments if s.id == "BSN"), None)
        if bsn is None or bsn.get(2) is None:
            self.c.missing("BSN02 (the shipment id)", bsn.node if bsn else None)
            return None
        by_level: dict[str, list[_Segment]] = {}
        level_code: dict[str, str] = {}
        parent: dict[str, str | None] = {}
        order_of: list[str] = []
        current = "0"
        for s in t.segments:
            if s.id == "HL":
                current = s.get(1) or str(len(order_of) + 1)
                level_code[current] = s.get(3) or ""
                parent[current] = s.get(2)
                order_of.append(current)
                by_level[current] = []
            elif s.id != "BSN":
                by_level.setdefault(current, []).append(s)
        shipment_segments = [s for hl in order_of if level_code[hl] == "S" for s in by_level[hl]]
        orders: dict[str, OrderLevel] = {}
        packs: dict[str, PackLevel] = {}

        def order_for(hl: str | None) -> OrderLevel | None:
            """The OrderLevel an HL belongs to (walking up its parents)."""
            while hl is not None and hl in level_code:
                if hl in orders:
                    return orders[hl]
                hl = parent.get(hl)
            return None

        def pack_for(hl: str | None) -> PackLevel | None:
            """The nearest PackLevel above (or at) an HL."""
            while hl is not None and hl in level_code:
                if hl in packs:
                    return packs[hl]
                if hl in orders:
                    return None
                hl = parent.get(hl)
            return None

        for hl in order_of:
            segs = by_level[hl]
            code = level_code[hl]
            if code == "O":
                prf = next((s for s in segs if s.id == "PRF"), None)
                orders[hl] = OrderLevel(
                    po_number=prf.get(1) if prf else None,
                    release_number=prf.get(2) if prf else None,
                    po_date=self.date(prf, 4) if prf else None,
                    references=self.references(segs),
                    parties=self.parties(segs),
                )
            elif code in ("T", "P"):
                man = next((s for s in segs if s.id == "MAN" and s.get(1) == "GM"), None)
                po4 = next((s for s in segs if s.id == "PO4"), None)
                pack = PackLevel(
                    hl_code="T" if code == "T" else "P",
                    sscc=man.get(2) if man else None,
                    marks=[
                        Reference(qualifier=s.get(1) or "ZZ", value=s.get(2))
                        for s in segs
                        if s.id == "MAN" and s is not man
                    ],
                    weight=self.number(po4, 6) if po4 else None,
                    weight_unit=po4.get(7) if po4 else None,
                )
                packs[hl] = pack
                above = pack_for(parent.get(hl))
                order = order_for(hl)
                if above is not None:
                    above.packs.append(pack)
                elif order is not None:
                    order.packs.append(pack)
            elif code == "I":
                lin = next((s for s in segs if s.id == "LIN"), None)
                sn1 = next((s for s in segs if s.id == "SN1"), None)
                pid = next((s for s in segs if s.id == "PID"), None)
                item = ShippedItem(
                    line_number=lin.get(1) if lin else None,
                    product_ids=self.product_ids(lin, 2) if lin else [],
                    quantity_shipped=self.number(sn1, 2) if sn1 else None,
                    unit_of_measure=sn1.get(3) if sn1 else None,
                    quantity_ordered=self.number(sn1, 5) if sn1 else None,
                    description=pid.get(5) if pid else None,
                )
                holder = pack_for(parent.get(hl))
                order = order_for(hl)
                if holder is not None:
                    holder.items.append(item)
                elif order is not None:
                    order.items.append(item)
        td1 = next((s for s in shipment_segments if s.id == "TD1"), None)
        dates = self.dates(shipment_segments)
        ctt = next((s for s in t.segments if s.id == "CTT"), None)
        return ShipNotice(
            shipment_id=bsn.get(2) or "",
            purpose_code=bsn.get(1),
            notice_date=self.date(bsn, 3),
            notice_time=None,
            structure_code=bsn.get(5),
            ship_date=next((d.date for d in dates if d.qualifier == "011"), None),
            estimated_delivery_date=next((d.date for d in dates if d.qualifier in ("017", "067")), None),
            parties=self.parties(shipment_segments),
            references=self.references(shipment_segments),
            dates=dates,
            carrier=self.carrier(shipment_segments),
            packaging_code=td1.get(1) if td1 else None,
            lading_quantity=self.number(td1, 2) if td1 else None,
            gross_weight=self.number(td1, 7) if td1 else None,
            weight_unit=td1.get(8) if td1 else None,
            orders=list(orders.values()),
            line_count=int(ctt.get(1) or 0) if ctt and (ctt.get(1) or "").isdecimal() else None,
            source=source,
        )


def read_x12_xml(root: etree._Element) -> XmlResult:
    """Translate X12-as-XML (StAEDI or EdiEngine) into canonical 850/810/856 documents."""
    c = Collector()
    result = XmlResult(format="x12xml", document_type=etree.QName(root).localname)
    mapper = _X12Mapper(c)
    for t in _transactions(root):
        source = SourceEnvelope.model_validate({"format": "x12", "transaction_set_id": t.set_id, **t.envelope})
        document: PurchaseOrder | Invoice | ShipNotice | None
        if t.set_id == "850":
            document = mapper.purchase_order(t, source)
        elif t.set_id == "810":
            document = mapper.invoice(t, source)
        elif t.set_id == "856":
            document = mapper.ship_notice(t, source)
        else:
            c.add(
                error("xml.unsupported_document", f"X12 transaction set {t.set_id} is not translated", value=t.set_id)
            )
            continue
        if document is not None:
            result.documents.append(document)
    result.issues = c.issues
    return result
