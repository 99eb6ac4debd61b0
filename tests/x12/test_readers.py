"""Readers: fixtures in, expected canonical values out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from parsers.canonical import AckStatus
from parsers.issues import ParseError
from parsers.x12 import InterchangeAckSegment, read_ta1, read_x12
from tests.x12._build import fixture, one_set


def test_850_4010_values() -> None:
    _, r = one_set(fixture("850_4010.x12"))
    assert r.kind == "purchase_order" and r.status == "accepted", r.issues
    po = r.document
    assert po.po_number == "PO-4711" and po.purpose_code == "00" and po.order_type == "SA"
    assert po.order_date == dt.date(2024, 1, 15) and po.currency == "USD"
    assert [(x.qualifier, x.value) for x in po.references] == [("DP", "038"), ("L1", "NOTES")]
    assert po.notes == ["HANDLE WITH CARE"]
    assert po.terms[0].discount_percent == Decimal("2") and po.terms[0].net_days == 46
    assert po.carrier.id == "UPSN" and po.carrier.routing == "UPS GROUND"
    st = po.parties[0]
    assert (st.role, st.name, st.id_qualifier, st.id) == ("ST", "ACME DC 5", "92", "0005")
    assert st.address.lines == ["100 MAIN ST", "DOCK 4"] and st.address.postal_code == "62701"
    assert [p.role for p in po.parties] == ["ST", "BT"]
    one, two = po.lines
    assert one.quantity == Decimal(12) and one.unit_price == Decimal("9.25") and one.unit_of_measure == "EA"
    assert one.product_id("UP") == "012345678905" and one.product_id("VN") == "W-100"
    assert one.description == "SMALL WIDGET" and one.pack == Decimal(6) and one.size == Decimal(2)
    assert one.allowances_charges[0].amount == Decimal("15.00")  # SAC05 implied 2 decimals
    assert two.product_id("BP") == "B-9" and two.dates[0].date == dt.date(2024, 2, 5)
    assert po.line_count == 2 and po.hash_total == Decimal(15) and po.total_amount == Decimal(171)
    src = po.source
    assert (src.sender_id, src.group_control_number, src.transaction_set_control_number, src.version) == (
        "SENDER", "101", "0001", "004010")


def test_850_5010_and_vics() -> None:
    _, r = one_set(fixture("850_5010.x12"))
    assert r.status == "accepted", r.issues
    assert r.document.source.implementation_reference == "005010"
    assert r.document.lines[0].line_number == "item-1" and r.document.lines[0].quantity == Decimal(8)
    _, r = one_set(fixture("850_vics.x12"))
    assert r.status == "accepted", r.issues
    assert [ln.product_id("IN") for ln in r.document.lines] == ["111", "222"]


def test_856_sopi() -> None:
    _, r = one_set(fixture("856_sopi.x12"))
    assert r.status == "accepted", r.issues
    asn = r.document
    assert asn.shipment_id == "SHIP-1" and asn.structure_code == "0001"
    assert asn.ship_date == dt.date(2024, 1, 15) and asn.estimated_delivery_date == dt.date(2024, 1, 18)
    assert asn.gross_weight == Decimal(24) and asn.weight_unit == "LB" and asn.packaging_code == "CTN"
    assert asn.carrier.id == "UPSN" and asn.tracking_numbers == ["1Z999"]
    assert [p.role for p in asn.parties] == ["SF", "ST"]
    (order,) = asn.orders
    assert order.po_number == "PO-4711" and order.po_date == dt.date(2024, 1, 10) and order.invoice_number == "INV-9"
    assert [p.sscc for p in order.packs] == ["00012345678901234567", "00012345678901234574"]
    item = order.packs[0].items[0]
    assert item.product_id("UP") == "012345678905" and item.quantity_shipped == Decimal(12)
    assert item.quantity_ordered == Decimal(12) and item.pack == Decimal(6) and item.description == "SMALL WIDGET"
    assert asn.po_numbers == ["PO-4711"]


def test_856_hl_tree_built_from_ids_not_order() -> None:
    _, r = one_set(fixture("856_sotpi_out_of_order.x12"))
    assert r.status == "accepted", r.issues
    (order,) = r.document.orders
    assert order.po_number == "PO-1"
    (tare,) = order.packs
    assert tare.hl_code == "T" and tare.sscc == "00012345678901234598"
    (carton,) = tare.packs
    assert carton.sscc == "00012345678901234581" and carton.items[0].product_id("UP") == "012345678905"
    assert order.items[0].product_id("UP") == "012345678912"  # item directly under the order


def test_810_values() -> None:
    _, r = one_set(fixture("810_4010.x12"))
    assert r.kind == "invoice" and r.status == "accepted", r.issues
    inv = r.document
    assert inv.invoice_number == "INV-9" and inv.po_number == "PO-4711" and inv.transaction_type == "DI"
    assert inv.invoice_date == dt.date(2024, 1, 15) and inv.purpose_code == "00"
    assert inv.total_amount == Decimal("176.00") and inv.discounted_amount_due == Decimal("172.48")
    assert inv.lines[0].allowances_charges[0].amount == Decimal("5.00")
    assert inv.allowances_charges[0].indicator == "A" and inv.allowances_charges[0].amount == Decimal("3.00")
    assert inv.taxes[0].amount == Decimal("5.5") and inv.carrier.id == "UPSN" and inv.line_count == 2
    assert inv.parties[0].address.city == "DALLAS"


def test_997_values() -> None:
    _, r = one_set(fixture("997_4010.x12"))
    assert r.kind == "functional_ack" and r.status == "accepted", r.issues
    fa = r.document
    assert fa.ack_type == "997"
    (g,) = fa.groups
    assert (g.functional_id_code, g.group_control_number, g.status) == ("PO", "55", AckStatus.PARTIALLY_ACCEPTED)
    assert (g.sets_included, g.sets_received, g.sets_accepted) == (2, 2, 1)
    ok, bad = g.transaction_sets
    assert ok.status is AckStatus.ACCEPTED and bad.status is AckStatus.REJECTED and bad.error_codes == ["5"]
    (seg,) = bad.segments
    assert (seg.segment_id, seg.position, seg.error_code) == ("PO1", 8, "8")
    assert [(e.position, e.component_position, e.reference_number, e.error_code, e.bad_value) for e in seg.elements] \
        == [(3, None, "355", "7", "INVALID"), (1, 2, "350", "4", None)]


def test_999_values() -> None:
    _, r = one_set(fixture("999_5010.x12"))
    assert r.status == "accepted", r.issues
    (g,) = r.document.groups
    assert g.version == "005010X222A1" and g.status is AckStatus.PARTIALLY_ACCEPTED
    bad = g.transaction_sets[1]
    assert bad.implementation_reference == "005010X222A1"
    (seg,) = bad.segments
    assert (seg.segment_id, seg.position, seg.loop_id, seg.error_code) == ("CLM", 22, "2300", "8")
    (el,) = seg.elements
    assert (el.position, el.component_position, el.reference_number, el.error_code) == (2, 1, "782", "1")
    assert seg.context[0] == "CLM01>123456789"
    assert seg.context[1].startswith("SITUATIONAL TRIGGER^OTHER TRIGGER>2*CLM*43")


def test_ta1() -> None:
    segs = [e.ta1 for e in read_x12(fixture("ta1.x12")) if isinstance(e, InterchangeAckSegment)]
    first, second = (read_ta1(s) for s in segs)
    assert (first.control_number, first.status, first.note_code) == ("000000101", AckStatus.REJECTED, "022")
    assert first.interchange_date == dt.date(2024, 1, 15) and second.status is AckStatus.ACCEPTED
    with pytest.raises(ParseError) as info:
        read_ta1(["TA1", "1", "240115", "1230", "Q", "000"])
    assert info.value.issue.code == "x12.ta1.status"
    with pytest.raises(ParseError):
        read_ta1(["TA1", "1"])


def test_unsupported_sets() -> None:
    from parsers.x12 import TransactionSet, read_transaction_set
    sets = [e for e in read_x12(fixture("unsupported.x12")) if isinstance(e, TransactionSet)]
    bad, other = (read_transaction_set(ts) for ts in sets)
    assert bad.kind == "unsupported" and bad.document is None and bad.status == "rejected"
    (issue,) = [i for i in bad.issues if i.code == "x12.unsupported_transaction_set"]
    assert "'000' is not an X12 transaction set" in issue.message and issue.x12_code == "6"
    assert other.kind == "unsupported" and other.status == "accepted_with_warnings"
    assert "855" in other.issues[-1].message
    assert read_transaction_set(sets[1], strict=True).status == "rejected"
