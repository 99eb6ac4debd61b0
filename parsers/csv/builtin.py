"""Named example mappings for the public sample files we test against (and to copy from).

Each mapping says in its comment which file shape it reads. Where a file carries no business key
(the OCA order file, the EdiFabric flat PO, the Bots article list) the mapping supplies a constant
default: a real partner profile would do the same, or the partner would add the column.
"""

from __future__ import annotations

from parsers.csv.mapping import CsvColumn, CsvMapping, FixedField, RecordLayout

__all__ = ["BUILTIN_MAPPINGS", "builtin_mapping"]


def _cols(*pairs: tuple[str, str | int | None] | tuple[str, str | int | None, str]) -> list[CsvColumn]:
    """CsvColumns from (field, column[, default]) tuples."""
    return [CsvColumn(field=p[0], column=p[1], default=p[2] if len(p) > 2 else None) for p in pairs]


# EdiFabric PurchaseOrder.csv: BOM, header row, PO header repeated on every line (denormalised).
EDIFABRIC_PURCHASE_ORDER = CsvMapping(
    kind="purchase_order",
    date_format="%Y%m%d",
    group_by="PO_NUMBER",
    columns=_cols(
        ("po_number", "PO_NUMBER"),
        ("order_date", "PO_DATE"),
        ("parties.ST.name", "CUSTOMER_NAME"),
        ("parties.ST.id", "CUSTOMER_NUMBER"),
        ("parties.ST.address.line", "ADDRESS"),
        ("parties.ST.address.city", "CITY"),
        ("parties.ST.address.state", "STATE"),
        ("parties.ST.address.postal_code", "POSTAL_CODE"),
        ("lines.line_number", "LINE_NUMBER"),
        ("lines.product_ids.UP", "UPC_NUMBER"),
        ("lines.quantity", "QUANTITY"),
        ("lines.unit_price", "PRICE"),
        ("lines.unit_of_measure", "UOM"),
    ),
)

# Bots csv2edi test.csv: no header, every field quoted, 30 columns of an EDIFACT ORDERS D96A feed
# (positions as the Bots orders_to_csv grammar lays them out: 4 BGM order number, 5 order date,
# 10 buyer GLN, 11 supplier GLN, 12 delivery party GLN, 13 invoicee GLN, 15 requested delivery date,
# 23 reference, 25 line number, 26 article EAN, 29 quantity).
BOTS_ORDERS_CSV = CsvMapping(
    kind="purchase_order",
    has_header=False,
    date_format="%Y%m%d",
    group_by=4,
    columns=_cols(
        ("po_number", 4),
        ("order_date", 5),
        ("parties.BY.id", 10),
        ("parties.BY.id_qualifier", None, "UL"),
        ("parties.SU.id", 11),
        ("parties.ST.id", 12),
        ("parties.BT.id", 13),
        ("dates.002", 15),
        ("references.CT", 23),
        ("lines.line_number", 25),
        ("lines.product_ids.EN", 26),
        ("lines.quantity", 29),
    ),
)

# Bots pricat articledata01.csv: semicolon, header, decimal comma, dd-mm-yyyy dates, padded values.
# It is an article/price list, not an order: it is read as one "order" of article lines so the
# prices and validity dates come through; the document number is a constant.
BOTS_ARTICLEDATA = CsvMapping(
    kind="purchase_order",
    delimiter=";",
    decimal_comma=True,
    date_format="%d-%m-%Y",
    columns=_cols(
        ("po_number", None, "ARTICLEDATA"),
        ("lines.product_ids.EN", "GTIN/EAN"),
        ("lines.product_ids.VN", "ArticleNumber"),
        ("lines.description", "Description"),
        ("lines.unit_price", "RetailPrice"),
        ("lines.dates.007", "DateFrom"),
        ("lines.dates.036", "DateUntill"),
    ),
)

# OCA sale_order_import_csv order_file_test1.csv: "product_code;qty", no header, no order number.
OCA_ORDER_FILE = CsvMapping(
    kind="purchase_order",
    delimiter=";",
    has_header=False,
    columns=_cols(
        ("po_number", None, "OCA-ORDER"),
        ("lines.product_ids.VN", 0),
        ("lines.quantity", 1),
    ),
)

# Bots orders1.inh: fixed-width records, HEA header (order number at 53, date at 66) and LIN lines
# (line number at 3, EAN at 9, quantity with 3 decimals at 58).
BOTS_ORDERS_FIXED = CsvMapping(
    kind="purchase_order",
    layout="records",
    date_format="%Y%m%d",
    records=[
        RecordLayout(
            tag="HEA",
            starts_document=True,
            fields=[
                FixedField(field="po_number", start=53, length=13),
                FixedField(field="order_date", start=66, length=8),
                FixedField(field="parties.BY.id", start=23, length=13),
                FixedField(field="parties.BY.id_qualifier", default="UL"),
            ],
        ),
        RecordLayout(
            tag="LIN",
            fields=[
                FixedField(field="lines.line_number", start=3, length=6),
                FixedField(field="lines.product_ids.EN", start=9, length=13),
                FixedField(field="lines.quantity", start=58, length=16),
            ],
        ),
    ],
)

# EdiFabric Flat_PO.txt: "PO<date>" header, two fixed-width "US" address records (ship-to, then
# bill-to) and one "ITEMS" record holding comma-separated items with '|' sub-fields. No order number.
EDIFABRIC_FLAT_PO = CsvMapping(
    kind="purchase_order",
    layout="records",
    records=[
        RecordLayout(
            tag="PO",
            starts_document=True,
            fields=[
                FixedField(field="po_number", default="FLAT-PO"),
                FixedField(field="order_date", start=2, length=10),
            ],
        ),
        RecordLayout(
            tag="US",
            roles=["ST", "BT"],
            fields=[
                FixedField(field="parties.*.name", start=10, length=20),
                FixedField(field="parties.*.address.line", start=30, length=20),
                FixedField(field="parties.*.address.city", start=50, length=15),
                FixedField(field="parties.*.address.state", start=65, length=2),
                FixedField(field="parties.*.address.postal_code", start=68, length=10),
                FixedField(field="parties.*.address.country", default="US"),
            ],
        ),
        RecordLayout(
            tag="ITEMS",
            delimiter="|",
            repeat_delimiter=",",
            columns=[
                CsvColumn(field="lines.product_ids.VN", column=0),
                CsvColumn(field="lines.description", column=1),
                CsvColumn(field="lines.quantity", column=2),
                CsvColumn(field="lines.unit_price", column=3),
                CsvColumn(field="lines.references.ZZ", column=4),
            ],
        ),
    ],
)

BUILTIN_MAPPINGS: dict[str, CsvMapping] = {
    "edifabric_purchase_order": EDIFABRIC_PURCHASE_ORDER,
    "bots_orders_csv": BOTS_ORDERS_CSV,
    "bots_articledata": BOTS_ARTICLEDATA,
    "oca_order_file": OCA_ORDER_FILE,
    "bots_orders_fixed": BOTS_ORDERS_FIXED,
    "edifabric_flat_po": EDIFABRIC_FLAT_PO,
}


def builtin_mapping(name: str) -> CsvMapping:
    """A built-in mapping by name (KeyError lists the names)."""
    try:
        return BUILTIN_MAPPINGS[name]
    except KeyError:
        raise KeyError(f"no built-in CSV mapping {name!r}; known: {', '.join(sorted(BUILTIN_MAPPINGS))}") from None
