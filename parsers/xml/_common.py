"""What the XML readers share: the result type and an issue collector with typed value readers.

Rules:
- Money and quantities become ``Decimal`` (never float); a value that is not a number is an error
  issue naming the element and the value, and the field is left empty.
- Dates are ISO 8601 (``2000-10-12``, ``2000-10-12T18:41:29-08:00``, ``...Z``); the calendar date
  is the one written in the document (no conversion to UTC: the partner's business day counts).
- A missing business key (order id, shipment id, invoice id) is an error; missing optional data is
  silently absent.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from lxml import etree

from parsers.canonical import Invoice, PurchaseOrder, ShipNotice
from parsers.issues import Issue, Level, error, warning

XmlDocument = PurchaseOrder | ShipNotice | Invoice

_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})")
_TIME = re.compile(r"T(\d{2}):(\d{2})(?::(\d{2}))?")
_MAX_VALUE_ECHO = 80


@dataclass(slots=True)
class XmlResult:
    """What ``read_xml`` returns: the documents it could build and every issue it found."""

    documents: list[XmlDocument] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    format: str | None = None  # "cxml", "ubl", "x12xml", "inhouse"
    document_type: str | None = None  # root / request element, e.g. "OrderRequest", "DespatchAdvice"

    @property
    def errors(self) -> list[Issue]:
        """The error-severity issues."""
        return [i for i in self.issues if i.is_error]


def _echo(value: str) -> str:
    """A value shortened for echoing in an issue."""
    return value if len(value) <= _MAX_VALUE_ECHO else value[:_MAX_VALUE_ECHO] + "..."


def line_of(node: etree._Element | None) -> int | None:
    """The source line of an element, for issue positions."""
    if node is None:
        return None
    line: object = node.sourceline
    return line if isinstance(line, int) else None


class Collector:
    """Collects issues while a reader walks a document and turns text into typed values."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def missing(self, what: str, node: etree._Element | None, *, mandatory: bool = True) -> None:
        """Record that a required element or attribute is absent."""
        make = error if mandatory else warning
        self.issues.append(
            make("xml.missing_element", f"{what} is missing", level=Level.TRANSACTION, position=line_of(node))
        )

    def add(self, issue: Issue) -> None:
        """Record an issue found by a reader."""
        self.issues.append(issue)

    def decimal(self, text: str | None, what: str, node: etree._Element | None) -> Decimal | None:
        """A Decimal from element text; None when empty; an error issue when not a number."""
        if text is None or not text.strip():
            return None
        raw = text.strip().replace(" ", "")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            self.issues.append(
                error(
                    "xml.bad_decimal",
                    f"{what} is not a number: {_echo(text.strip())!r}",
                    level=Level.ELEMENT,
                    position=line_of(node),
                    value=_echo(text.strip()),
                )
            )
            return None
        return value

    def date(self, text: str | None, what: str, node: etree._Element | None) -> dt.date | None:
        """The calendar date of an ISO 8601 date or date-time; an error issue when unreadable."""
        if text is None or not text.strip():
            return None
        match = _DATE.match(text)
        if match:
            try:
                return dt.date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                pass
        self.issues.append(
            error(
                "xml.bad_date",
                f"{what} is not an ISO 8601 date: {_echo(text.strip())!r}",
                level=Level.ELEMENT,
                position=line_of(node),
                value=_echo(text.strip()),
            )
        )
        return None

    def time(self, text: str | None) -> dt.time | None:
        """The wall-clock time of an ISO 8601 date-time (or a bare ``HH:MM[:SS]``); None if absent or bad."""
        if text is None:
            return None
        match = _TIME.search(text) or re.match(r"^\s*(\d{2}):(\d{2})(?::(\d{2}))?", text)
        if not match:
            return None
        try:
            return dt.time(int(match[1]), int(match[2]), int(match[3] or 0))
        except ValueError:
            return None


def text_of(node: etree._Element | None) -> str | None:
    """All text inside an element, whitespace-collapsed; None when absent or blank."""
    if node is None:
        return None
    text = " ".join("".join(str(t) for t in node.itertext()).split())
    return text or None


def attr(node: etree._Element | None, name: str) -> str | None:
    """An attribute value, stripped; None when absent or blank."""
    if node is None:
        return None
    value = node.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None
