"""CSV and flat-file reader with mappings, on fixtures written for these tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from parsers.canonical import Invoice, PurchaseOrder, ShipNotice
from parsers.csv import CsvColumn, CsvMapping, FixedField, RecordLayout, read_csv, read_csv_pair
from parsers.issues import ParseError
from partners.profile import CsvMapping as ProfileCsvMapping
from partners.profile import PartnerProfile

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "csv"


def fixture(name: str) -> bytes:
    """Bytes of a fixture file."""
    return (FIXTURES / name).read_bytes()


def cols(**fields: str | int) -> list[CsvColumn]:
    """CsvColumns from field=column keywords (dots in field paths written as __)."""
    return [CsvColumn(field=name.replace("__", "."), column=column) for name, column in fields.items()]


GERMAN_PO = CsvMapping(
    kind="purchase_order",
    delimiter=";",
    decimal_comma=True,
    date_format="%d.%m.%Y",
    group_by="PO",
    columns=[
        *cols(po_number="PO", order_date="Datum", lines__quantity="Menge", lines__unit_price="Preis"),
        CsvColumn(field="lines.product_ids.VN", column="Artikel"),
        CsvColumn(field="lines.product_ids.EN", column="EAN"),
        CsvColumn(field="parties.ST.address.line", column="Lieferadresse"),
        CsvColumn(field="currency", column=None, default="EUR"),
    ],
)


def test_decimal_comma_bom_semicolon_grouping() -> None:
    result = read_csv(fixture("po_decimal_comma.csv"), GERMAN_PO)
    assert result.issues == []
    first, second = result.documents
    assert isinstance(first, PurchaseOrder) and isinstance(second, PurchaseOrder)
    assert first.po_number == "4711"  # the BOM did not stick to the first header name
    assert first.order_date == dt.date(2024, 3, 15) and first.currency == "EUR"
    assert [line.quantity for line in first.lines] == [Decimal("1000.5"), Decimal("2")]
    assert [line.unit_price for line in first.lines] == [Decimal("1234.56"), Decimal("0.99")]
    assert first.lines[0].product_id("EN") == "4006381333931"
    assert first.parties[0].address is not None and first.parties[0].address.lines == ["Hauptstr. 1"]
    assert second.po_number == "4712" and len(second.lines) == 1
    assert first.source is not None and first.source.format == "csv"


def test_bom_with_plain_utf8_encoding() -> None:
    mapping = GERMAN_PO.model_copy(update={"encoding": "utf-8"})
    assert [d.business_key for d in read_csv(fixture("po_decimal_comma.csv"), mapping).documents] == ["4711", "4712"]


def test_bad_values_carry_row_column_and_value() -> None:
    mapping = CsvMapping(
        group_by="PO",
        columns=cols(
            po_number="PO",
            order_date="DATE",
            lines__product_ids__VN="SKU",
            lines__quantity="QTY",
            lines__unit_price="PRICE",
        ),
    )
    result = read_csv(fixture("po_bad_values.csv"), mapping)
    by_code = {(i.code, i.position, i.element): i for i in result.issues}
    date_issue = by_code[("csv.bad_date", 2, 2)]
    assert date_issue.value == "2024-02-30" and "row 2, column 2 (DATE)" in date_issue.message
    qty_issue = by_code[("csv.bad_decimal", 2, 4)]
    assert qty_issue.value == "ten" and "QTY" in qty_issue.message
    assert ("csv.bad_decimal", 3, 5) in by_code  # 'abc' price on row 3
    missing = by_code[("csv.missing_key", 4, None)]
    assert "po_number" in missing.message
    assert all(i.is_error for i in result.issues)
    (po,) = result.documents  # P-1 is still built so every problem is reported at once
    assert po.business_key == "P-1" and po.order_date is None  # type: ignore[union-attr]


def test_ship_notice_orders_and_sscc_packs() -> None:
    mapping = CsvMapping(
        kind="ship_notice",
        group_by="ASN",
        columns=cols(
            shipment_id="ASN",
            ship_date="SHIPDATE",
            orders__po_number="PO",
            lines__line_number="LINE",
            lines__product_ids__UP="UPC",
            lines__quantity="QTY",
            lines__sscc="SSCC",
        ),
    )
    result = read_csv(fixture("asn.csv"), mapping)
    assert result.issues == []
    (asn,) = result.documents
    assert isinstance(asn, ShipNotice)
    assert asn.shipment_id == "SH-1" and asn.ship_date == dt.date(2024, 3, 4)
    assert asn.po_numbers == ["PO-1", "PO-2"]
    po1, po2 = asn.orders
    assert [p.sscc for p in po1.packs] == ["000123456789012345"] and len(po1.packs[0].items) == 2
    assert [p.sscc for p in po2.packs] == ["000123456789012352"]
    assert po2.items[0].product_id("UP") == "012345678929" and po2.items[0].quantity_shipped == Decimal(2)


INVOICE_PAIR = CsvMapping(
    kind="invoice",
    group_by="INVOICE",
    columns=cols(invoice_number="INVOICE", invoice_date="DATE", po_number="PO", total_amount="TOTAL"),
    detail_join_key="INVOICE",
    detail_columns=cols(
        lines__line_number="LINE", lines__product_ids__VN="SKU", lines__quantity="QTY", lines__unit_price="PRICE"
    ),
)


def test_header_detail_join() -> None:
    result = read_csv_pair(fixture("invoice_header.csv"), fixture("invoice_detail.csv"), INVOICE_PAIR)
    one, two = result.documents
    assert isinstance(one, Invoice) and isinstance(two, Invoice)
    assert (one.invoice_number, one.po_number, one.total_amount) == ("I-1", "PO-1", Decimal("150.00"))
    assert [line.product_id("VN") for line in one.lines] == ["SKU-1", "SKU-2"]
    assert [line.product_id("VN") for line in two.lines] == ["SKU-3"]
    (orphan,) = result.issues
    assert orphan.code == "csv.orphan_detail" and orphan.value == "I-9" and orphan.position == 5


def test_missing_header_column_is_a_parse_error() -> None:
    mapping = CsvMapping(columns=cols(po_number="ORDER_NO"))
    with pytest.raises(ParseError) as info:
        read_csv(fixture("po_bad_values.csv"), mapping)
    assert info.value.issue.code == "csv.missing_column" and "ORDER_NO" in str(info.value)


def test_undecodable_bytes_name_the_row() -> None:
    data = b"PO,QTY\nP-1,1\nP-\xff,2\n"
    with pytest.raises(ParseError) as info:
        read_csv(data, CsvMapping(encoding="utf-8", columns=cols(po_number="PO")))
    assert info.value.issue.code == "csv.bad_encoding" and info.value.issue.position == 3
    latin = read_csv(data, CsvMapping(encoding="latin-1", group_by="PO", columns=cols(po_number="PO")))
    assert [d.business_key for d in latin.documents] == ["P-1", "P-\xff"]


def test_empty_file() -> None:
    with pytest.raises(ParseError) as info:
        read_csv(b"\xef\xbb\xbf\r\n", CsvMapping(columns=cols(po_number="PO")))
    assert info.value.issue.code == "csv.empty"


def test_records_layout_fixed_width_and_repeats() -> None:
    mapping = CsvMapping(
        layout="records",
        date_format="%Y%m%d",
        records=[
            RecordLayout(
                tag="H",
                starts_document=True,
                fields=[
                    FixedField(field="po_number", start=1, length=6),
                    FixedField(field="order_date", start=7, length=8),
                ],
            ),
            RecordLayout(tag="N", roles=["ST", "BT"], fields=[FixedField(field="parties.*.name", start=1)]),
            RecordLayout(
                tag="I",
                delimiter="|",
                repeat_delimiter=";",
                columns=[
                    CsvColumn(field="lines.product_ids.VN", column=0),
                    CsvColumn(field="lines.quantity", column=1),
                ],
            ),
        ],
    )
    data = b"HPO-1  20240105\nNShip Here\nNBill Here\nNThird\nIA|1;B|2.5\nXjunk\nHPO-2  2024013x\nIC|x\n"
    result = read_csv(data, mapping)
    one, two = result.documents
    assert isinstance(one, PurchaseOrder)
    assert one.order_date == dt.date(2024, 1, 5)
    assert [(p.role, p.name) for p in one.parties] == [("ST", "Ship Here"), ("BT", "Bill Here")]
    assert [(line.product_id("VN"), line.quantity) for line in one.lines] == [("A", 1), ("B", Decimal("2.5"))]
    codes = sorted((i.code, i.position) for i in result.issues)
    assert codes == [("csv.bad_date", 7), ("csv.bad_decimal", 8), ("csv.extra_record", 4), ("csv.unknown_record", 6)]
    assert two.business_key == "PO-2"


def test_mapping_rejects_unknown_field_paths() -> None:
    with pytest.raises(ValidationError, match="unknown field path"):
        CsvMapping(columns=[CsvColumn(field="lines.qty", column=0)])
    with pytest.raises(ValidationError, match="has_header"):
        CsvMapping(has_header=False, columns=[CsvColumn(field="po_number", column="PO")])
    with pytest.raises(ValidationError, match="encoding"):
        CsvMapping(encoding="no-such-codec")


def test_partner_profile_uses_the_parsers_mapping() -> None:
    assert ProfileCsvMapping is CsvMapping
    profile = PartnerProfile.model_validate(
        {"id": "acme", "csv": {"kind": "ship_notice", "columns": [{"field": "shipment_id", "column": "ASN"}]}}
    )
    assert isinstance(profile.csv, CsvMapping) and profile.csv.key_field == "shipment_id"
