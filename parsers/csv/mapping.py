"""How a partner's CSV (or record-tagged flat file) maps to canonical documents.

Rules:
- A mapping is frozen data (it lives in partner profiles: ``partners.profile.CsvMapping`` is this
  class). Field paths are checked when the mapping is built, so a typo fails at profile load,
  not at 3 a.m. on a partner's file.
- Field paths name canonical fields, dotted: ``po_number``, ``order_date``, ``lines.quantity``,
  ``lines.product_ids.UP``, ``parties.ST.name``, ``parties.ST.address.city``, ``references.DP``,
  ``dates.002``, ``lines.dates.002``. Ship notices add ``orders.po_number`` and ``lines.sscc``.
  In record layouts, ``parties.*.name`` takes its role from ``RecordLayout.roles`` by occurrence.
- Columns are header names (``has_header=True``) or 0-based positions.
- ``layout="delimited"`` reads CSV rows grouped by ``group_by``; ``layout="records"`` reads lines
  that start with a record tag (``HEA``, ``LIN``, ``PO``...), fixed-width or delimited per record.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "CsvColumn",
    "CsvMapping",
    "DocumentKindName",
    "FixedField",
    "RecordLayout",
    "field_type",
    "is_line_field",
    "validate_field_path",
]

DocumentKindName = Literal["purchase_order", "ship_notice", "invoice"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- field paths

_KEY_FIELD = {"purchase_order": "po_number", "ship_notice": "shipment_id", "invoice": "invoice_number"}
# header fields by kind: name -> type ("str", "decimal", "date", "int", "list")
_HEADER_FIELDS: dict[str, dict[str, str]] = {
    "purchase_order": {
        "po_number": "str",
        "purpose_code": "str",
        "order_type": "str",
        "release_number": "str",
        "order_date": "date",
        "currency": "str",
        "contract_number": "str",
        "total_amount": "decimal",
        "notes": "list",
    },
    "ship_notice": {
        "shipment_id": "str",
        "purpose_code": "str",
        "notice_date": "date",
        "ship_date": "date",
        "estimated_delivery_date": "date",
        "packaging_code": "str",
        "lading_quantity": "decimal",
        "gross_weight": "decimal",
        "weight_unit": "str",
        "tracking_numbers": "list",
        "carrier.id": "str",
        "carrier.id_qualifier": "str",
        "carrier.routing": "str",
        "carrier.transport_method": "str",
        "orders.po_number": "str",
        "orders.po_date": "date",
        "orders.release_number": "str",
        "orders.invoice_number": "str",
    },
    "invoice": {
        "invoice_number": "str",
        "invoice_date": "date",
        "po_number": "str",
        "po_date": "date",
        "purpose_code": "str",
        "transaction_type": "str",
        "currency": "str",
        "total_amount": "decimal",
        "notes": "list",
        "terms.net_days": "int",
        "terms.description": "str",
    },
}
_LINE_FIELDS: dict[str, dict[str, str]] = {
    "purchase_order": {
        "lines.line_number": "str",
        "lines.quantity": "decimal",
        "lines.unit_of_measure": "str",
        "lines.unit_price": "decimal",
        "lines.price_basis": "str",
        "lines.description": "str",
        "lines.amount": "decimal",
        "lines.pack": "decimal",
        "lines.size": "decimal",
        "lines.size_unit": "str",
    },
    "ship_notice": {
        "lines.line_number": "str",
        "lines.quantity": "decimal",
        "lines.quantity_shipped": "decimal",
        "lines.unit_of_measure": "str",
        "lines.quantity_ordered": "decimal",
        "lines.ordered_unit_of_measure": "str",
        "lines.description": "str",
        "lines.sscc": "str",
    },
}
_LINE_FIELDS["invoice"] = dict(_LINE_FIELDS["purchase_order"])
_PARTY_ATTRS = {
    "name",
    "id",
    "id_qualifier",
    "address.line",
    "address.city",
    "address.state",
    "address.postal_code",
    "address.country",
    "contact.name",
    "contact.phone",
    "contact.email",
}
_QUALIFIED = re.compile(r"^(lines\.)?(references|dates|product_ids)\.([A-Za-z0-9]{1,3})$")
_PARTY = re.compile(r"^parties\.([A-Za-z0-9]{1,3}|\*)\.(.+)$")


def field_type(kind: str, path: str) -> str | None:
    """The value type of a field path for a document kind ("str", "decimal", "date", "int", "list"), or None."""
    if path in _HEADER_FIELDS[kind]:
        return _HEADER_FIELDS[kind][path]
    if path in _LINE_FIELDS[kind]:
        return _LINE_FIELDS[kind][path]
    qualified = _QUALIFIED.match(path)
    if qualified:
        line, group = qualified[1], qualified[2]
        if group == "product_ids" and not line:
            return None
        return "date" if group == "dates" else "str"
    party = _PARTY.match(path)
    if party and party[2] in _PARTY_ATTRS:
        return "list" if party[2] == "address.line" else "str"
    return None


def validate_field_path(kind: str, path: str) -> None:
    """Raise ValueError when ``path`` is not a field a ``kind`` document can take from a column."""
    if field_type(kind, path) is None:
        known = sorted(_HEADER_FIELDS[kind]) + sorted(_LINE_FIELDS[kind])
        raise ValueError(
            f"unknown field path {path!r} for {kind}; use one of {', '.join(known)}, references.<Q>, "
            "dates.<Q>, lines.product_ids.<Q>, lines.references.<Q>, lines.dates.<Q>, parties.<ROLE>.<attr>"
        )


def is_line_field(path: str) -> bool:
    """True when a field belongs to a line (LineItem / ShippedItem) rather than the document."""
    return path.startswith("lines.")


def key_field(kind: str) -> str:
    """The business-key field of a kind (po_number, shipment_id, invoice_number)."""
    return _KEY_FIELD[kind]


# --------------------------------------------------------------------------- models


class CsvColumn(_Frozen):
    """One canonical field taken from a CSV column (by header name or 0-based position), with a default."""

    field: str  # dotted canonical path, e.g. "po_number", "lines.quantity"
    column: str | int | None = None  # None: always the default (a constant)
    default: str | None = None

    @model_validator(mode="after")
    def _column_or_default(self) -> CsvColumn:
        if self.column is None and self.default is None:
            raise ValueError(f"field {self.field!r} needs a column or a default")
        if isinstance(self.column, int) and self.column < 0:
            raise ValueError(f"field {self.field!r}: column positions are 0-based and not negative")
        return self


class FixedField(_Frozen):
    """A field at a fixed position in a record line (0-based ``start`` counted from the line start)."""

    field: str
    start: int | None = Field(default=None, ge=0)  # None: always the default (a constant)
    length: int | None = Field(default=None, ge=1)  # None: to the end of the line
    default: str | None = None

    @model_validator(mode="after")
    def _start_or_default(self) -> FixedField:
        if self.start is None and self.default is None:
            raise ValueError(f"field {self.field!r} needs a start position or a default")
        return self


class RecordLayout(_Frozen):
    """One record type of a record-tagged flat file: lines starting with ``tag``."""

    tag: str = Field(min_length=1)
    starts_document: bool = False  # this record opens a new document (the header record)
    fields: list[FixedField] = Field(default_factory=list)  # fixed-width fields
    delimiter: str | None = None  # delimited record: fields split by this after the tag
    columns: list[CsvColumn] = Field(default_factory=list)  # delimited fields by 0-based position
    repeat_delimiter: str | None = None  # one record holding several lines, split by this first
    roles: list[str] = Field(default_factory=list)  # "parties.*" role by occurrence: ["ST", "BT"]

    @model_validator(mode="after")
    def _shape(self) -> RecordLayout:
        if self.columns and self.delimiter is None:
            raise ValueError(f"record {self.tag!r}: columns need a delimiter")
        if any(isinstance(c.column, str) for c in self.columns):
            raise ValueError(f"record {self.tag!r}: record columns are 0-based positions, not names")
        return self


class CsvMapping(_Frozen):
    """How a partner's CSV / flat files map to canonical documents."""

    kind: DocumentKindName = "purchase_order"
    layout: Literal["delimited", "records"] = "delimited"
    delimiter: str = ","
    quotechar: str = '"'
    decimal_comma: bool = False  # "1.234,50" -> 1234.50
    has_header: bool = True
    encoding: str = "utf-8-sig"  # a UTF-8 BOM is dropped whatever the encoding says
    date_format: str = "%Y-%m-%d"
    date_formats: list[str] = Field(default_factory=list)  # more formats tried after date_format
    group_by: str | int | None = None  # column that groups rows into one document (the PO number)
    columns: list[CsvColumn] = Field(default_factory=list)
    detail_columns: list[CsvColumn] = Field(default_factory=list)  # header/detail: the detail file's
    detail_join_key: str | int | None = None  # header/detail files joined by this detail column
    records: list[RecordLayout] = Field(default_factory=list)  # layout="records"

    @field_validator("delimiter", "quotechar")
    @classmethod
    def _one_char(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError("delimiter and quotechar must be one character")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @model_validator(mode="after")
    def _paths(self) -> CsvMapping:
        fields = [c.field for c in self.columns] + [c.field for c in self.detail_columns]
        for layout in self.records:
            fields += [f.field for f in layout.fields] + [c.field for c in layout.columns]
        for path in fields:
            validate_field_path(self.kind, path)
        named = [c.column for c in self.columns + self.detail_columns if isinstance(c.column, str)]
        if named and not self.has_header:
            raise ValueError("columns are named but has_header is false; use 0-based positions")
        if self.layout == "records" and not self.records:
            raise ValueError("layout 'records' needs at least one record layout")
        if self.detail_columns and self.detail_join_key is None:
            raise ValueError("detail_columns need detail_join_key (the detail file's key column)")
        return self

    @property
    def all_date_formats(self) -> list[str]:
        """``date_format`` followed by ``date_formats``, without repeats."""
        return list(dict.fromkeys([self.date_format, *self.date_formats]))

    @property
    def key_field(self) -> str:
        """The business-key field of this mapping's kind."""
        return key_field(self.kind)
