"""Safe XML parsing: partner bytes in, an lxml element tree out, or a ParseError that says why.

Rules:
- Entities are never expanded, no network access, no DTD is loaded or validated against.
  A DOCTYPE that only names an external DTD (cXML does: ``<!DOCTYPE cXML SYSTEM "...cXML.dtd">``)
  is allowed and ignored; a DOCTYPE that *declares* entities (XXE, billion laughs) is refused
  before libxml2 ever sees the document.
- Size, depth and element-count limits bound the work a hostile file can cause.
- Every failure is the remote side's fault and becomes ``ParseError`` with an ``xml.*`` code:
  ``xml.empty``, ``xml.not_xml``, ``xml.too_large``, ``xml.entity_declaration``, ``xml.truncated``,
  ``xml.malformed``, ``xml.too_deep``, ``xml.too_many_elements``, ``xml.wrong_root``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, cast

from lxml import etree

from parsers.issues import ParseError

__all__ = ["DEFAULT_LIMITS", "XmlLimits", "local_name", "namespace_of", "parse_xml"]


@dataclass(frozen=True, slots=True)
class XmlLimits:
    """Upper bounds on one XML document: bytes, element nesting depth and element count."""

    max_bytes: int = 64 * 1024 * 1024
    max_depth: int = 128
    max_elements: int = 2_000_000


DEFAULT_LIMITS = XmlLimits()

# A DOCTYPE with an internal subset that declares entities, in any ASCII-compatible encoding.
_ENTITY_DECL = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def _text_for_scan(data: bytes) -> bytes:
    """The document as ASCII-compatible bytes for the entity pre-scan (UTF-16 is transcoded)."""
    head = data[:4]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) >= 2 and (head[0] == 0 or head[1] == 0)):
        for codec in ("utf-16", "utf-16-le", "utf-16-be"):
            try:
                return data.decode(codec).encode("utf-8", "replace")
            except UnicodeDecodeError:
                continue
    return data


def _make_parser() -> etree.XMLParser:
    """An lxml parser with every dangerous feature off (a new one per call: parsers are not thread-safe)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(
    data: bytes,
    *,
    limits: XmlLimits = DEFAULT_LIMITS,
    expected_roots: Collection[str] | None = None,
) -> etree._Element:
    """Parse partner XML bytes safely and return the root element.

    ``expected_roots`` (local names, or ``{namespace}name``) makes any other root a ``xml.wrong_root``.
    """
    if len(data) > limits.max_bytes:
        raise ParseError.of("xml.too_large", f"XML document is {len(data)} bytes; the limit is {limits.max_bytes}")
    stripped = data
    for bom in _BOMS:
        if stripped.startswith(bom):
            stripped = stripped[len(bom) :]
            break
    if not stripped.strip(b" \t\r\n\x00"):
        raise ParseError.of("xml.empty", "the document is empty")
    scan = _text_for_scan(data)
    if not scan.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise ParseError.of("xml.not_xml", "the document is not XML: it does not start with '<'")
    if _ENTITY_DECL.search(scan):
        raise ParseError.of(
            "xml.entity_declaration",
            "the document's DOCTYPE declares entities (possible XXE or entity-expansion attack); refused",
        )
    # Push parsing tells the two failures apart: an error while feeding is malformed XML; an error
    # only at close() means everything so far was fine and the document just stopped (truncated).
    parser = _make_parser()
    try:
        parser.feed(data)
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        raise ParseError.of("xml.malformed", f"the XML is not well-formed: {exc.msg}", position=line) from None
    except ValueError as exc:  # e.g. bad encodings
        raise ParseError.of("xml.malformed", f"the XML cannot be read: {exc}") from None
    try:
        root = parser.close()
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        raise ParseError.of(
            "xml.truncated", f"the XML document ends before it is complete: {exc.msg}", position=line
        ) from None
    if root is None:
        raise ParseError.of("xml.empty", "the document has no root element")
    docinfo = root.getroottree().docinfo
    dtd = docinfo.internalDTD
    if dtd is not None and any(True for _ in cast(Any, dtd).iterentities()):
        raise ParseError.of("xml.entity_declaration", "the document's DOCTYPE declares entities; refused")
    _check_shape(root, limits)
    if expected_roots is not None:
        qname = etree.QName(root)
        if qname.localname not in expected_roots and root.tag not in expected_roots:
            raise ParseError.of(
                "xml.wrong_root",
                f"unexpected root element <{qname.localname}>; expected one of {sorted(expected_roots)}",
                value=qname.localname,
            )
    return root


def _check_shape(root: etree._Element, limits: XmlLimits) -> None:
    """Refuse trees deeper or bigger than the limits, and any leftover entity reference."""
    count = 0
    depth = 0
    for event, node in etree.iterwalk(root, events=("start", "end")):
        if event == "end":
            depth -= 1
            continue
        depth += 1
        count += 1
        if isinstance(node, etree._Entity):
            raise ParseError.of("xml.entity_declaration", "the document references entities; refused")
        if depth > limits.max_depth:
            raise ParseError.of("xml.too_deep", f"XML elements nest deeper than {limits.max_depth} levels")
        if count > limits.max_elements:
            raise ParseError.of("xml.too_many_elements", f"XML has more than {limits.max_elements} elements")


def local_name(node: etree._Element) -> str:
    """The element's tag without its namespace."""
    return etree.QName(node).localname


def namespace_of(node: etree._Element) -> str | None:
    """The element's namespace URI, or None."""
    return etree.QName(node).namespace
