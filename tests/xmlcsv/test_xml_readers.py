"""cXML, UBL, X12-as-XML readers and the safe XML parser, on fixtures written for these tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from parsers.canonical import Invoice, PurchaseOrder, ShipNotice
from parsers.issues import ParseError
from parsers.xml import XmlLimits, parse_xml, read_xml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "xml"


def fixture(name: str) -> bytes:
    """Bytes of a fixture file."""
    return (FIXTURES / name).read_bytes()


def only(data: bytes) -> PurchaseOrder | ShipNotice | Invoice:
    """The one document read from ``data``, asserting no error issues."""
    result = read_xml(data)
    assert not result.errors, result.errors
    assert len(result.documents) == 1
    return result.documents[0]


def test_cxml_order_request() -> None:
    po = only(fixture("cxml_order.xml"))
    assert isinstance(po, PurchaseOrder)
    assert po.po_number == "PO-77"
    assert po.purpose_code == "05"  # type="update"
    assert po.order_date == dt.date(2024, 3, 1)  # the date as written, not shifted to UTC
    assert po.total_amount == Decimal("1234.50") and po.currency == "USD"
    assert po.source is not None
    assert (po.source.format, po.source.sender_qualifier, po.source.sender_id) == ("cxml", "DUNS", "123456789")
    assert (po.source.receiver_id, po.source.payload_id, po.source.usage_indicator) == (
        "AN01",
        "po-77@buyer.example",
        "T",
    )
    assert "s3cret" not in po.model_dump_json()
    ship_to = next(p for p in po.parties if p.role == "ST")
    assert ship_to.name == "Store 9" and ship_to.id == "DC-9"
    assert ship_to.address is not None and ship_to.address.city == "Springfield" and ship_to.address.country == "US"
    assert [p.role for p in po.parties] == ["ST", "BT"]
    assert po.taxes[0].amount == Decimal("4.50")
    assert po.allowances_charges[0].amount == Decimal("10.00") and po.allowances_charges[0].indicator == "C"
    assert po.notes == ["Deliver to dock 3"]
    first, second = po.lines
    assert first.quantity == Decimal("12") and isinstance(first.quantity, Decimal)
    assert first.unit_price == Decimal("100.0375")
    assert first.product_id("VN") == "SKU-1" and first.product_id("BP") == "B-1"
    assert first.unit_of_measure == "EA" and first.description == "Widget"
    assert first.dates[0].qualifier == "002" and first.dates[0].date == dt.date(2024, 3, 10)
    assert second.quantity == Decimal("2.5") and second.unit_price is None  # optional price: fine


def test_cxml_ship_notice_with_sscc_pack() -> None:
    asn = only(fixture("cxml_ship_notice.xml"))
    assert isinstance(asn, ShipNotice)
    assert asn.shipment_id == "SH-5" and asn.purpose_code == "00"
    assert asn.notice_date == dt.date(2024, 3, 5) and asn.notice_time == dt.time(8, 0)
    assert asn.ship_date == dt.date(2024, 3, 4) and asn.estimated_delivery_date == dt.date(2024, 3, 7)
    assert asn.carrier is not None and asn.carrier.id == "UPSN" and asn.carrier.id_qualifier == "2"
    assert asn.tracking_numbers == ["1Z999"]
    assert asn.po_numbers == ["PO-77"]
    order = asn.orders[0]
    assert order.po_date == dt.date(2024, 3, 1)
    assert [p.sscc for p in order.packs] == ["000123456789012345"]
    assert order.packs[0].items[0].quantity_shipped == Decimal("6")
    assert order.items[0].product_id("VN") == "SKU-1"  # the item without packaging
    assert [p.role for p in asn.parties] == ["SF"]


def test_cxml_invoice_detail_request() -> None:
    inv = only(fixture("cxml_invoice.xml"))
    assert isinstance(inv, Invoice)
    assert inv.invoice_number == "INV-9" and inv.invoice_date == dt.date(2024, 3, 9)
    assert inv.transaction_type == "CR"  # purpose="creditMemo"
    assert inv.po_number == "PO-77" and inv.po_date == dt.date(2024, 3, 1)
    assert inv.currency == "EUR"
    assert inv.total_amount == Decimal("719.00")  # DueAmount
    assert inv.amount_subject_to_discount == Decimal("600.00")  # SubtotalAmount
    assert inv.taxes[0].amount == Decimal("114.00")
    assert inv.allowances_charges[0].code == "D240" and inv.allowances_charges[0].amount == Decimal("5.00")
    assert inv.terms[0].net_days == 45
    assert [p.role for p in inv.parties] == ["RI"]
    line = inv.lines[0]
    assert line.amount == Decimal("600.00") and line.product_id("VN") == "SKU-1"


def test_cxml_missing_order_id_is_an_error_not_a_crash() -> None:
    data = fixture("cxml_order.xml").replace(b'orderID="PO-77" ', b"")
    result = read_xml(data)
    assert result.documents == []
    assert [i.code for i in result.errors] == ["xml.missing_element"]
    assert "orderID" in result.errors[0].message


def test_cxml_bad_quantity_names_value() -> None:
    result = read_xml(fixture("cxml_order.xml").replace(b'quantity="12"', b'quantity="twelve"'))
    assert len(result.documents) == 1
    bad = [i for i in result.errors if i.code == "xml.bad_decimal"]
    assert bad and bad[0].value == "twelve" and "ItemOut line 1" in bad[0].message


def test_cxml_unknown_request_is_unsupported() -> None:
    data = b"""<cXML payloadID="1" timestamp="2024-01-01T00:00:00Z"><Header/><Request>
      <ConfirmationRequest><ConfirmationHeader type="accept"/></ConfirmationRequest></Request></cXML>"""
    result = read_xml(data)
    assert result.documents == []
    assert [i.code for i in result.issues] == ["xml.unsupported_document"]
    assert result.document_type == "ConfirmationRequest"


def test_ubl_order() -> None:
    po = only(fixture("ubl_order.xml"))
    assert isinstance(po, PurchaseOrder)
    assert po.po_number == "UBL-PO-1" and po.order_date == dt.date(2024, 4, 2) and po.currency == "EUR"
    buyer = next(p for p in po.parties if p.role == "BY")
    assert buyer.name == "Buyer BV" and buyer.id == "4000001000005" and buyer.id_qualifier == "UL"
    ship_to = next(p for p in po.parties if p.role == "ST")
    assert ship_to.id == "4000001000012" and ship_to.address is not None and ship_to.address.city == "Utrecht"
    assert po.dates[0].date == dt.date(2024, 4, 10)
    assert po.allowances_charges[0].indicator == "A" and po.allowances_charges[0].amount == Decimal("5.00")
    assert po.taxes[0].amount == Decimal("21.00")
    assert po.total_amount == Decimal("116.00")
    line = po.lines[0]
    assert (line.quantity, line.unit_of_measure, line.unit_price) == (Decimal(4), "EA", Decimal("25.00"))
    assert line.product_id("VN") == "S-1" and line.product_id("UK") == "04000000000017"


def test_ubl_despatch_advice_packs_by_sscc() -> None:
    asn = only(fixture("ubl_despatch.xml"))
    assert isinstance(asn, ShipNotice)
    assert asn.shipment_id == "DA-1" and asn.ship_date == dt.date(2024, 4, 5)
    assert asn.gross_weight == Decimal("12.5") and asn.weight_unit == "KGM"
    assert asn.tracking_numbers == ["TRK-1"]
    assert asn.po_numbers == ["UBL-PO-1"]
    packs = asn.orders[0].packs
    assert [p.sscc for p in packs] == ["340123450000000018"]
    assert [i.quantity_shipped for i in packs[0].items] == [Decimal(3), Decimal(1)]


def test_ubl_invoice() -> None:
    inv = only(fixture("ubl_invoice.xml"))
    assert isinstance(inv, Invoice)
    assert inv.invoice_number == "UBL-INV-1" and inv.po_number == "UBL-PO-1" and inv.transaction_type == "DI"
    assert inv.total_amount == Decimal("128.50")
    assert inv.terms[0].net_due_date == dt.date(2024, 5, 6)
    assert inv.taxes[0].percent == Decimal("21") and inv.taxes[0].type_code == "S"
    assert inv.allowances_charges[0].indicator == "C"
    assert inv.lines[0].quantity == Decimal(4) and inv.lines[0].amount == Decimal("100.00")


def test_ubl_missing_id_is_an_error() -> None:
    result = read_xml(fixture("ubl_invoice.xml").replace(b"<cbc:ID>UBL-INV-1</cbc:ID>", b""))
    assert result.documents == [] and [i.code for i in result.errors] == ["xml.missing_element"]


def test_ubl_bad_date_is_reported() -> None:
    result = read_xml(fixture("ubl_order.xml").replace(b"2024-04-02", b"02/04/2024"))
    assert [i.code for i in result.errors] == ["xml.bad_date"]
    assert result.documents[0].order_date is None  # type: ignore[union-attr]


def test_xxe_external_entity_refused() -> None:
    with pytest.raises(ParseError) as info:
        read_xml(fixture("xxe_file.xml"))
    assert info.value.issue.code == "xml.entity_declaration"
    assert "root:" not in str(info.value)


def test_xxe_in_utf16_refused() -> None:
    data = fixture("xxe_file.xml").decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    with pytest.raises(ParseError) as info:
        read_xml(data)
    assert info.value.issue.code == "xml.entity_declaration"


def test_billion_laughs_refused() -> None:
    with pytest.raises(ParseError) as info:
        read_xml(fixture("billion_laughs.xml"))
    assert info.value.issue.code == "xml.entity_declaration"


def test_external_dtd_reference_is_not_fetched_but_allowed() -> None:
    # cXML's own DOCTYPE names a DTD on the network; it is neither loaded nor a reason to refuse.
    data = fixture("cxml_order.xml").replace(
        b"http://xml.cxml.org/schemas/cXML/1.2.050/cXML.dtd", b"file:///definitely/not/here.dtd"
    )
    assert only(data).po_number == "PO-77"  # type: ignore[union-attr]


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_truncated_xml(cut: float) -> None:
    data = fixture("cxml_order.xml")
    with pytest.raises(ParseError) as info:
        read_xml(data[: int(len(data) * cut)])
    assert info.value.issue.code == "xml.truncated"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "xml.empty"),
        (b"   \n", "xml.empty"),
        (b"ISA*00*          *00*", "xml.not_xml"),
        (b"<a><b></a>", "xml.malformed"),
        (b"<html><body>hello</body></html>", "xml.wrong_root"),
        (b'<Order xmlns="urn:example:not-ubl"/>', "xml.wrong_root"),
    ],
)
def test_unreadable_xml(data: bytes, code: str) -> None:
    with pytest.raises(ParseError) as info:
        read_xml(data)
    assert info.value.issue.code == code


def test_limits() -> None:
    deep = b"<a>" * 50 + b"</a>" * 50
    with pytest.raises(ParseError) as info:
        parse_xml(deep, limits=XmlLimits(max_depth=20))
    assert info.value.issue.code == "xml.too_deep"
    wide = b"<a>" + b"<b/>" * 100 + b"</a>"
    with pytest.raises(ParseError) as info:
        parse_xml(wide, limits=XmlLimits(max_elements=50))
    assert info.value.issue.code == "xml.too_many_elements"
    with pytest.raises(ParseError) as info:
        parse_xml(wide, limits=XmlLimits(max_bytes=100))
    assert info.value.issue.code == "xml.too_large"
    with pytest.raises(ParseError) as info:
        parse_xml(wide, expected_roots={"cXML"})
    assert info.value.issue.code == "xml.wrong_root"


def test_staedi_x12_as_xml() -> None:
    data = b"""<l:INTERCHANGE xmlns:l="urn:xlate.io:staedi:names:loops" xmlns:s="urn:xlate.io:staedi:names:segments"
      xmlns:e="urn:xlate.io:staedi:names:elements"><l:GROUP><l:TRANSACTION>
      <s:ST><e:ST01>850</e:ST01><e:ST02>0001</e:ST02></s:ST>
      <s:BEG><e:BEG01>00</e:BEG01><e:BEG02>SA</e:BEG02><e:BEG03>X-1</e:BEG03><e:BEG05>20240102</e:BEG05></s:BEG>
      <s:PO1><e:PO101>1</e:PO101><e:PO102>3</e:PO102><e:PO103>EA</e:PO103><e:PO104>1.25</e:PO104>
        <e:PO106>UP</e:PO106><e:PO107>012345678905</e:PO107></s:PO1>
      <s:SE><e:SE01>4</e:SE01><e:SE02>0001</e:SE02></s:SE></l:TRANSACTION></l:GROUP></l:INTERCHANGE>"""
    po = only(data)
    assert isinstance(po, PurchaseOrder)
    assert po.po_number == "X-1" and po.order_date == dt.date(2024, 1, 2)
    assert po.lines[0].unit_price == Decimal("1.25") and po.lines[0].product_id("UP") == "012345678905"
