"""CSV and record-tagged flat files to canonical documents, driven by a ``CsvMapping``.

Rules:
- Bytes in, documents and issues out; ``ParseError`` only when the file cannot be read at all
  (undecodable bytes, broken quoting, a mapped column missing from the header, empty file).
- Rows are numbered as a spreadsheet shows them: the header row is row 1. Every cell issue carries
  ``position`` = row number and ``element`` = 1-based column number (the message names the
  column header and the value too).
- Rows with the same ``group_by`` value make one document, in order of first appearance;
  document-level values come from the first row that has them; each row with any ``lines.*``
  value makes one line. Ship notices read ``orders.*`` per row: each line goes under its order.
  Without ``group_by`` the whole file is one document.
- A document without its business key (po_number / shipment_id / invoice_number) is not built:
  ``csv.missing_key`` error. A bad number or date is a ``csv.bad_decimal`` / ``csv.bad_date``
  error and the field stays empty; the document is still built so that every problem is reported.
- Money and quantities are ``Decimal``; ``decimal_comma`` reads ``1.234,50`` as 1234.50.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from parsers.canonical import (
    Address,
    Carrier,
    Contact,
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
from parsers.csv.mapping import CsvColumn, CsvMapping, RecordLayout, field_type, is_line_field
from parsers.issues import Issue, Level, ParseError, error, warning

__all__ = ["CsvDocument", "CsvResult", "read_csv", "read_csv_pair"]

CsvDocument = PurchaseOrder | ShipNotice | Invoice
_MAX_ECHO = 80
_BOM = "\ufeff"


@dataclass(slots=True)
class CsvResult:
    """What ``read_csv`` returns: the documents it could build and every issue it found."""

    documents: list[CsvDocument] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        """The error-severity issues."""
        return [i for i in self.issues if i.is_error]


@dataclass(frozen=True, slots=True)
class _Cell:
    """One mapped value and where it came from."""

    value: str
    row: int
    column: int | None  # 0-based; None for mapping defaults
    label: str  # header name or "column N"
    file: str  # "" for a single file, "header" / "detail" for a pair


_Values = dict[str, list[_Cell]]


@dataclass(slots=True)
class _Group:
    """The rows of one document: document-level values and one values dict per line."""

    key: str | None
    first_row: int
    file: str
    header: _Values = field(default_factory=dict)
    lines: list[_Values] = field(default_factory=list)


def _echo(value: str) -> str:
    """A value shortened for an issue message."""
    return value if len(value) <= _MAX_ECHO else value[:_MAX_ECHO] + "..."


def _where(cell: _Cell) -> str:
    """'row 3, column 2 (PRICE)' with the file name for header/detail pairs."""
    prefix = f"{cell.file} file " if cell.file else ""
    if cell.column is None:
        return f"{prefix}row {cell.row}, mapping default for {cell.label}"
    return f"{prefix}row {cell.row}, column {cell.column + 1} ({cell.label})"


def _decode(data: bytes, mapping: CsvMapping, file: str) -> str:
    """Bytes to text in the mapping's encoding; a leading BOM is dropped."""
    try:
        text = data.decode(mapping.encoding)
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        prefix = f"{file} file: " if file else ""
        raise ParseError.of(
            "csv.bad_encoding",
            f"{prefix}row {row}: bytes {data[exc.start : exc.start + 4]!r} at offset {exc.start} "
            f"are not valid {mapping.encoding}",
            position=row,
        ) from None
    return text.removeprefix(_BOM)


def _parse_rows(text: str, mapping: CsvMapping, file: str) -> list[tuple[int, list[str]]]:
    """CSV rows with their 1-based record numbers; blank rows dropped."""
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=mapping.delimiter, quotechar=mapping.quotechar, strict=False
    )
    rows: list[tuple[int, list[str]]] = []
    number = 0
    try:
        for row in reader:
            number += 1
            if any(cell.strip() for cell in row):
                rows.append((number, row))
    except csv.Error as exc:
        prefix = f"{file} file: " if file else ""
        raise ParseError.of("csv.malformed", f"{prefix}row {number + 1}: {exc}", position=number + 1) from None
    return rows


def _resolve(
    columns: list[CsvColumn], header: list[str] | None, file: str, extra: list[str | int | None]
) -> tuple[dict[int, int | None], dict[str | int | None, int | None]]:
    """Column positions for mapped columns (and extra key columns); a missing named column is fatal."""
    names: dict[str, int] = {}
    if header is not None:
        for index, name in enumerate(header):
            names.setdefault(name.strip(), index)
            names.setdefault(name.strip().lower(), index)

    def position(column: str | int | None) -> int | None:
        if column is None or isinstance(column, int):
            return column
        found = names.get(column.strip(), names.get(column.strip().lower()))
        if found is None:
            prefix = f"{file} file: " if file else ""
            shown = ", ".join(h.strip() for h in (header or []))
            raise ParseError.of(
                "csv.missing_column",
                f"{prefix}the header row has no column {column!r} (it has: {_echo(shown)})",
                position=1,
                value=column,
            )
        return found

    return {i: position(c.column) for i, c in enumerate(columns)}, {k: position(k) for k in extra}


def _label(header: list[str] | None, index: int | None, column: CsvColumn) -> str:
    """The header name of a column, or ``column N``."""
    if header is not None and index is not None and index < len(header):
        return header[index].strip()
    return column.field if index is None else f"column {index + 1}"


def _row_values(
    row: list[str],
    number: int,
    columns: list[CsvColumn],
    positions: dict[int, int | None],
    header: list[str] | None,
    file: str,
) -> _Values:
    """The mapped values of one row (defaults filled in), by field path."""
    values: _Values = {}
    for i, column in enumerate(columns):
        index = positions[i]
        raw = row[index].strip() if index is not None and index < len(row) else ""
        if raw:
            cell = _Cell(raw, number, index, _label(header, index, column), file)
        elif column.default is not None:
            cell = _Cell(column.default, number, None, column.field, file)
        else:
            continue
        values.setdefault(column.field, []).append(cell)
    return values


def _split(values: _Values) -> tuple[_Values, _Values]:
    """Document-level and line-level values of one row."""
    head = {k: v for k, v in values.items() if not is_line_field(k) and not k.startswith("orders.")}
    line = {k: v for k, v in values.items() if is_line_field(k) or k.startswith("orders.")}
    return head, line


def _merge(into: _Values, values: _Values) -> None:
    """Add document-level values: the first row that has a field wins (lists accumulate)."""
    for path, cells in values.items():
        if path not in into:
            into[path] = list(cells)


def _delimited_groups(
    text: str, mapping: CsvMapping, columns: list[CsvColumn], group_by: str | int | None, file: str
) -> tuple[list[_Group], dict[str, _Group]]:
    """Rows of a delimited file grouped into documents by the ``group_by`` column."""
    rows = _parse_rows(text, mapping, file)
    header: list[str] | None = None
    if mapping.has_header:
        if not rows:
            raise ParseError.of("csv.empty", f"{file + ' file ' if file else ''}has no header row")
        header = rows.pop(0)[1]
    positions, extra = _resolve(columns, header, file, [group_by])
    group_index = extra[group_by]
    groups: dict[str, _Group] = {}
    ordered: list[_Group] = []
    for number, row in rows:
        values = _row_values(row, number, columns, positions, header, file)
        key = ""
        if group_index is not None:
            key = row[group_index].strip() if group_index < len(row) else ""
        group = groups.get(key)
        if group is None:
            group = _Group(key or None, number, file)
            groups[key] = group
            ordered.append(group)
        head, line = _split(values)
        _merge(group.header, head)
        if line:
            group.lines.append(line)
    return ordered, groups


def _record_groups(text: str, mapping: CsvMapping, issues: list[Issue]) -> list[_Group]:
    """Lines of a record-tagged flat file grouped into documents at each ``starts_document`` record."""
    layouts = sorted(mapping.records, key=lambda r: len(r.tag), reverse=True)
    groups: list[_Group] = []
    occurrences: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        layout = next((r for r in layouts if line.startswith(r.tag)), None)
        if layout is None:
            issues.append(
                warning(
                    "csv.unknown_record",
                    f"row {number}: no record layout for a line starting {_echo(line[:10])!r}; skipped",
                    level=Level.SEGMENT,
                    position=number,
                    value=_echo(line[:20]),
                )
            )
            continue
        if layout.starts_document or not groups:
            if not layout.starts_document:
                issues.append(
                    warning(
                        "csv.record_before_header",
                        f"row {number}: {layout.tag!r} record before any document header record",
                        position=number,
                    )
                )
            groups.append(_Group(None, number, ""))
            occurrences = {}
        group = groups[-1]
        occurrence = occurrences.get(layout.tag, 0)
        occurrences[layout.tag] = occurrence + 1
        for values in _record_values(line, number, layout, occurrence, issues):
            head, line_values = _split(values)
            _merge(group.header, head)
            if line_values:
                group.lines.append(line_values)
    return groups


def _record_values(line: str, number: int, layout: RecordLayout, occurrence: int, issues: list[Issue]) -> list[_Values]:
    """The mapped values of one record line (several for a record with ``repeat_delimiter``)."""
    role: str | None = None
    if layout.roles:
        if occurrence >= len(layout.roles):
            issues.append(
                warning(
                    "csv.extra_record",
                    f"row {number}: more {layout.tag!r} records than roles {layout.roles}; skipped",
                    position=number,
                )
            )
            return []
        role = layout.roles[occurrence]

    def path(name: str) -> str:
        return name.replace("parties.*.", f"parties.{role}.") if role else name

    values: _Values = {}
    for fixed in layout.fields:
        raw = ""
        if fixed.start is not None:
            end = None if fixed.length is None else fixed.start + fixed.length
            raw = line[fixed.start : end].strip()
        if raw and fixed.start is not None:
            values.setdefault(path(fixed.field), []).append(
                _Cell(raw, number, fixed.start, f"{layout.tag} position {fixed.start + 1}", "")
            )
        elif fixed.default is not None:
            values.setdefault(path(fixed.field), []).append(_Cell(fixed.default, number, None, fixed.field, ""))
    if layout.delimiter is None:
        return [values]
    body = line[len(layout.tag) :]
    for sep in (layout.repeat_delimiter, layout.delimiter):
        if sep and body.startswith(sep):
            body = body[len(sep) :]
            break
    parts = body.split(layout.repeat_delimiter) if layout.repeat_delimiter else [body]
    result = []
    for part in parts:
        cells = part.split(layout.delimiter)
        one: _Values = {k: list(v) for k, v in values.items()}
        for column in layout.columns:
            index = column.column if isinstance(column.column, int) else None
            raw = cells[index].strip() if index is not None and index < len(cells) else ""
            if raw:
                one.setdefault(path(column.field), []).append(
                    _Cell(raw, number, index, f"{layout.tag} field {(index or 0) + 1}", "")
                )
            elif column.default is not None:
                one.setdefault(path(column.field), []).append(_Cell(column.default, number, None, column.field, ""))
        result.append(one)
    return result


class _Builder:
    """Turns groups of mapped values into canonical documents, converting and checking each value."""

    def __init__(self, mapping: CsvMapping, issues: list[Issue]) -> None:
        self.mapping = mapping
        self.issues = issues

    # ------------------------------------------------------------------ value conversion

    def _bad(self, code: str, what: str, cell: _Cell) -> None:
        """Record a bad cell value."""
        self.issues.append(
            error(
                code,
                f"{_where(cell)}: {_echo(cell.value)!r} is not {what}",
                level=Level.ELEMENT,
                position=cell.row,
                element=cell.column + 1 if cell.column is not None else None,
                value=_echo(cell.value),
                extra={"column": cell.label, **({"file": cell.file} if cell.file else {})},
            )
        )

    def decimal(self, cell: _Cell) -> Decimal | None:
        """A Decimal from a cell (decimal comma aware)."""
        raw = cell.value.replace(" ", "").replace("\u00a0", "")
        if self.mapping.decimal_comma:
            raw = raw.replace(".", "").replace(",", ".")
        elif "," in raw and "." in raw:
            raw = raw.replace(",", "")  # thousands separators: 1,234.50
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            self._bad("csv.bad_decimal", "a number", cell)
            return None
        return value

    def date(self, cell: _Cell) -> dt.date | None:
        """A date from a cell, trying each of the mapping's date formats."""
        for fmt in self.mapping.all_date_formats:
            try:
                return dt.datetime.strptime(cell.value, fmt).date()
            except ValueError:
                continue
        self._bad("csv.bad_date", f"a date ({' or '.join(self.mapping.all_date_formats)})", cell)
        return None

    def integer(self, cell: _Cell) -> int | None:
        """An integer from a cell."""
        if cell.value.isdecimal():
            return int(cell.value)
        self._bad("csv.bad_integer", "a whole number", cell)
        return None

    def value(self, values: _Values, path: str) -> object:
        """The converted value of a field (first cell), or None."""
        cells = values.get(path)
        if not cells:
            return None
        kind = field_type(self.mapping.kind, path)
        cell = cells[0]
        if kind == "decimal":
            return self.decimal(cell)
        if kind == "date":
            return self.date(cell)
        if kind == "int":
            return self.integer(cell)
        if kind == "list":
            return [c.value for c in cells]
        return cell.value

    def fields(self, values: _Values, names: list[str], prefix: str = "") -> dict[str, object]:
        """Converted values for plain fields (``prefix`` + name), skipping absent ones."""
        result: dict[str, object] = {}
        for name in names:
            converted = self.value(values, prefix + name)
            if converted is not None:
                result[name] = converted
        return result

    def qualified(self, values: _Values, group: str) -> list[tuple[str, object]]:
        """(qualifier, converted value) pairs for ``<group>.<Q>`` fields, in mapping order."""
        pairs = []
        for path in values:
            head, _, qualifier = path.rpartition(".")
            if head == group:
                converted = self.value(values, path)
                if converted is not None:
                    pairs.append((qualifier, converted))
        return pairs

    def parties(self, values: _Values) -> list[Party]:
        """Parties from ``parties.<ROLE>.<attr>`` fields."""
        by_role: dict[str, dict[str, object]] = {}
        for path in values:
            if not path.startswith("parties."):
                continue
            _, role, attr = path.split(".", 2)
            converted = self.value(values, path)
            if converted is not None:
                by_role.setdefault(role, {})[attr] = converted
        parties = []
        for role, attrs in by_role.items():
            address = None
            address_attrs = {k.removeprefix("address."): v for k, v in attrs.items() if k.startswith("address.")}
            if address_attrs:
                lines = address_attrs.pop("line", [])
                address = Address.model_validate({"lines": lines, **address_attrs})
            contact_attrs = {k.removeprefix("contact."): v for k, v in attrs.items() if k.startswith("contact.")}
            contacts = [Contact.model_validate(contact_attrs)] if contact_attrs else []
            plain = {k: v for k, v in attrs.items() if "." not in k}
            if not (address or contacts or plain.get("name") or plain.get("id")):
                continue  # only defaults such as an id qualifier: no party was sent
            parties.append(Party.model_validate({"role": role, **plain, "address": address, "contacts": contacts}))
        return parties

    def common(self, values: _Values) -> dict[str, object]:
        """References, dates and parties of the document."""
        return {
            "references": [Reference(qualifier=q, value=str(v)) for q, v in self.qualified(values, "references")],
            "dates": [DateRef.model_validate({"qualifier": q, "date": v}) for q, v in self.qualified(values, "dates")],
            "parties": self.parties(values),
        }

    def line_item(self, values: _Values) -> LineItem:
        """A LineItem (PO / invoice line) from line values."""
        data = self.fields(
            values,
            [
                "line_number",
                "quantity",
                "unit_of_measure",
                "unit_price",
                "price_basis",
                "description",
                "amount",
                "pack",
                "size",
                "size_unit",
            ],
            "lines.",
        )
        data["product_ids"] = [
            ProductId(qualifier=q, value=str(v)) for q, v in self.qualified(values, "lines.product_ids")
        ]
        data["references"] = [
            Reference(qualifier=q, value=str(v)) for q, v in self.qualified(values, "lines.references")
        ]
        data["dates"] = [
            DateRef.model_validate({"qualifier": q, "date": v}) for q, v in self.qualified(values, "lines.dates")
        ]
        return LineItem.model_validate(data)

    def shipped_item(self, values: _Values) -> ShippedItem:
        """A ShippedItem from line values (``lines.quantity`` is the quantity shipped)."""
        data = self.fields(
            values,
            [
                "line_number",
                "quantity_shipped",
                "unit_of_measure",
                "quantity_ordered",
                "ordered_unit_of_measure",
                "description",
            ],
            "lines.",
        )
        if "quantity_shipped" not in data:
            quantity = self.value(values, "lines.quantity")
            if quantity is not None:
                data["quantity_shipped"] = quantity
        data["product_ids"] = [
            ProductId(qualifier=q, value=str(v)) for q, v in self.qualified(values, "lines.product_ids")
        ]
        data["references"] = [
            Reference(qualifier=q, value=str(v)) for q, v in self.qualified(values, "lines.references")
        ]
        data["dates"] = [
            DateRef.model_validate({"qualifier": q, "date": v}) for q, v in self.qualified(values, "lines.dates")
        ]
        return ShippedItem.model_validate(data)

    # ------------------------------------------------------------------ documents

    def key(self, group: _Group) -> str | None:
        """The group's business key; an error issue when absent."""
        cells = group.header.get(self.mapping.key_field)
        if cells:
            return cells[0].value
        prefix = f"{group.file} file " if group.file else ""
        self.issues.append(
            error(
                "csv.missing_key",
                f"{prefix}rows from {group.first_row}: no {self.mapping.key_field} (the document's business key); "
                "no document built",
                level=Level.TRANSACTION,
                position=group.first_row,
            )
        )
        return None

    def build(self, group: _Group) -> CsvDocument | None:
        """One canonical document from a group, or None when its key is missing."""
        key = self.key(group)
        if key is None:
            return None
        source = SourceEnvelope(format="csv", payload_id=key)
        values = group.header
        if self.mapping.kind == "purchase_order":
            data = self.fields(
                values,
                [
                    "purpose_code",
                    "order_type",
                    "release_number",
                    "order_date",
                    "currency",
                    "contract_number",
                    "total_amount",
                    "notes",
                ],
            )
            lines = [self.line_item(v) for v in group.lines]
            return PurchaseOrder.model_validate(
                {"po_number": key, **data, **self.common(values), "lines": lines, "source": source}
            )
        if self.mapping.kind == "invoice":
            data = self.fields(
                values,
                [
                    "invoice_date",
                    "po_number",
                    "po_date",
                    "purpose_code",
                    "transaction_type",
                    "currency",
                    "total_amount",
                    "notes",
                ],
            )
            terms = self.fields(values, ["net_days", "description"], "terms.")
            lines = [self.line_item(v) for v in group.lines]
            return Invoice.model_validate(
                {
                    "invoice_number": key,
                    **data,
                    **self.common(values),
                    "terms": [PaymentTerms.model_validate(terms)] if terms else [],
                    "lines": lines,
                    "source": source,
                }
            )
        return self.ship_notice(key, group, source)

    def ship_notice(self, key: str, group: _Group, source: SourceEnvelope) -> ShipNotice:
        """A ShipNotice: lines go under the OrderLevel of their ``orders.po_number``, into packs by SSCC."""
        values = group.header
        data = self.fields(
            values,
            [
                "purpose_code",
                "notice_date",
                "ship_date",
                "estimated_delivery_date",
                "packaging_code",
                "lading_quantity",
                "gross_weight",
                "weight_unit",
                "tracking_numbers",
            ],
        )
        carrier = self.fields(values, ["id", "id_qualifier", "routing", "transport_method"], "carrier.")
        orders: dict[str | None, OrderLevel] = {}
        header_order = self.fields(values, ["po_number", "po_date", "release_number", "invoice_number"], "orders.")
        for line in group.lines:
            order_values = {**values, **{k: v for k, v in line.items() if k.startswith("orders.")}}
            po_cells = order_values.get("orders.po_number")
            po = po_cells[0].value if po_cells else None
            order = orders.get(po)
            if order is None:
                order_data = self.fields(
                    order_values, ["po_number", "po_date", "release_number", "invoice_number"], "orders."
                )
                order = orders[po] = OrderLevel.model_validate(order_data)
            if not any(k.startswith("lines.") for k in line):
                continue  # a row that only names an order
            item = self.shipped_item(line)
            sscc_cells = line.get("lines.sscc")
            if sscc_cells:
                sscc = sscc_cells[0].value
                pack = next((p for p in order.packs if p.sscc == sscc), None)
                if pack is None:
                    pack = PackLevel(sscc=sscc)
                    order.packs.append(pack)
                pack.items.append(item)
            else:
                order.items.append(item)
        if not orders and header_order:
            orders[None] = OrderLevel.model_validate(header_order)
        return ShipNotice.model_validate(
            {
                "shipment_id": key,
                **data,
                **self.common(values),
                "carrier": Carrier.model_validate(carrier) if carrier else None,
                "orders": list(orders.values()),
                "source": source,
            }
        )


def read_csv(data: bytes, mapping: CsvMapping) -> CsvResult:
    """Read a CSV (or record-tagged flat file) into canonical documents as ``mapping`` says.

    Raises ``ParseError`` only when the file cannot be read at all.
    """
    result = CsvResult()
    text = _decode(data, mapping, "")
    if not text.strip():
        raise ParseError.of("csv.empty", "the file is empty")
    if mapping.layout == "records":
        groups = _record_groups(text, mapping, result.issues)
    else:
        groups, _ = _delimited_groups(text, mapping, mapping.columns, mapping.group_by, "")
    builder = _Builder(mapping, result.issues)
    for group in groups:
        document = builder.build(group)
        if document is not None:
            result.documents.append(document)
    if not groups:
        result.issues.append(error("csv.no_rows", "the file has no data rows", level=Level.FILE))
    return result


def read_csv_pair(header_data: bytes, detail_data: bytes, mapping: CsvMapping) -> CsvResult:
    """Read a header file and a detail file joined on a key into canonical documents.

    ``mapping.columns`` and ``group_by`` describe the header file (one row per document, or several
    rows grouped); ``detail_columns`` and ``detail_join_key`` the detail file (one row per line).
    """
    if mapping.group_by is None or mapping.detail_join_key is None:
        raise ValueError("read_csv_pair needs mapping.group_by (header key) and mapping.detail_join_key")
    result = CsvResult()
    header_text = _decode(header_data, mapping, "header")
    detail_text = _decode(detail_data, mapping, "detail")
    groups, by_key = _delimited_groups(header_text, mapping, mapping.columns, mapping.group_by, "header")
    details, _ = _delimited_groups(detail_text, mapping, mapping.detail_columns, mapping.detail_join_key, "detail")
    for detail in details:
        target = by_key.get(detail.key or "")
        if target is None or detail.key is None:
            result.issues.append(
                error(
                    "csv.orphan_detail",
                    f"detail file rows from {detail.first_row}: key {detail.key!r} has no row in the header file",
                    level=Level.TRANSACTION,
                    position=detail.first_row,
                    value=detail.key,
                    extra={"file": "detail"},
                )
            )
            continue
        target.lines.extend(detail.lines)
    builder = _Builder(mapping, result.issues)
    for group in groups:
        document = builder.build(group)
        if document is not None:
            result.documents.append(document)
    return result
