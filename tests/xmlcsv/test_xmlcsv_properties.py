"""Property tests: any bytes into the XML and CSV readers give documents/issues or ParseError, nothing else."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.csv import CsvColumn, CsvMapping, read_csv, read_csv_pair
from parsers.issues import ParseError
from parsers.xml import read_xml

CSV_MAPPING = CsvMapping(
    kind="ship_notice",
    has_header=False,
    decimal_comma=True,
    group_by=0,
    columns=[
        CsvColumn(field="shipment_id", column=0),
        CsvColumn(field="ship_date", column=1),
        CsvColumn(field="orders.po_number", column=2),
        CsvColumn(field="lines.quantity", column=3),
        CsvColumn(field="lines.sscc", column=4),
        CsvColumn(field="parties.ST.name", column=5),
    ],
)
PAIR_MAPPING = CsvMapping(
    kind="invoice",
    group_by="A",
    columns=[CsvColumn(field="invoice_number", column="A"), CsvColumn(field="total_amount", column="B")],
    detail_join_key="A",
    detail_columns=[CsvColumn(field="lines.quantity", column="B")],
)

XML_PIECES = st.sampled_from(
    [
        b"<cXML>",
        b"</cXML>",
        b"<Request>",
        b"<OrderRequest>",
        b'<OrderRequestHeader orderID="1"/>',
        b'<ItemOut quantity="x" lineNumber="1"/>',
        b"<!DOCTYPE a>",
        b"&amp;",
        b"<?xml version='1.0'?>",
        b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">',
        b"</Invoice>",
        b'<cbc:ID xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">1</cbc:ID>',
        b"\xff",
        b"\x00",
        b"]]>",
        b"<![CDATA[",
        b"<!--",
        b"-->",
    ]
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.binary(max_size=400) | st.lists(XML_PIECES | st.binary(max_size=8), max_size=25).map(b"".join))
def test_read_xml_never_raises_anything_but_parse_error(data: bytes) -> None:
    try:
        result = read_xml(data)
    except ParseError as exc:
        assert exc.issue.code.startswith("xml.")
        return
    assert isinstance(result.documents, list) and isinstance(result.issues, list)


CSV_TEXT = st.lists(
    st.lists(st.sampled_from(["S1", "S2", "", "2024-01-01", "x", "1,5", "1.000,5", '"q', "0" * 18, "é"]), max_size=7)
    .map(";".join)
    .map(lambda s: s.replace(";", ",")),
    max_size=8,
).map("\n".join)


@FAST
@given(st.binary(max_size=300) | CSV_TEXT.map(lambda t: t.encode()))
def test_read_csv_never_raises_anything_but_parse_error(data: bytes) -> None:
    try:
        result = read_csv(data, CSV_MAPPING)
    except ParseError as exc:
        assert exc.issue.code.startswith("csv.")
        return
    for issue in result.issues:
        assert issue.code.startswith("csv.")


@FAST
@given(st.binary(max_size=120), st.binary(max_size=120))
def test_read_csv_pair_never_raises_anything_but_parse_error(header: bytes, detail: bytes) -> None:
    try:
        read_csv_pair(b"A,B\n" + header, b"A,B\n" + detail, PAIR_MAPPING)
    except ParseError as exc:
        assert exc.issue.code.startswith("csv.")
