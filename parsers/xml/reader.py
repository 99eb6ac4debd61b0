"""``read_xml``: sniff which XML business document some bytes are and translate it.

Rules:
- Safe parsing first (``parsers.xml.safe``): entity declarations, truncation, non-XML and oversize
  input raise ``ParseError`` before any mapping runs.
- The dialect is chosen by the root element, in this order (a lookup table, not guesswork):
  ``cXML`` -> cXML; a root in a ``urn:oasis:names:specification:ubl:schema:xsd:*`` namespace -> UBL;
  StAEDI / EdiEngine X12-as-XML -> X12 segments; the Bots demo in-house ASN (``message``).
- A root we do not know is ``xml.wrong_root`` (ParseError): nobody can read that file.
  A known dialect with an untranslated document type is an ``xml.unsupported_document`` issue.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from parsers.issues import ParseError
from parsers.xml._common import XmlResult
from parsers.xml.cxml import read_cxml
from parsers.xml.inhouse import is_bots_asn, read_bots_asn
from parsers.xml.safe import DEFAULT_LIMITS, XmlLimits, parse_xml
from parsers.xml.ubl import UBL_NS_PREFIX, read_ubl
from parsers.xml.x12xml import is_x12_xml, read_x12_xml

__all__ = ["XmlResult", "read_xml", "sniff_dialect"]


def _is_cxml(root: etree._Element) -> bool:
    """A cXML envelope."""
    return etree.QName(root).localname == "cXML"


def _is_ubl(root: etree._Element) -> bool:
    """A UBL 2.x document (root in a UBL document namespace)."""
    namespace = etree.QName(root).namespace or ""
    return namespace.startswith(UBL_NS_PREFIX)


_DIALECTS: list[tuple[str, Callable[[etree._Element], bool], Callable[[etree._Element], XmlResult]]] = [
    ("cxml", _is_cxml, read_cxml),
    ("ubl", _is_ubl, read_ubl),
    ("x12xml", is_x12_xml, read_x12_xml),
    ("inhouse", is_bots_asn, read_bots_asn),
]


def sniff_dialect(root: etree._Element) -> str | None:
    """The name of the XML dialect of a parsed root element, or None when we do not know it."""
    for name, test, _ in _DIALECTS:
        if test(root):
            return name
    return None


def read_xml(data: bytes, *, limits: XmlLimits = DEFAULT_LIMITS) -> XmlResult:
    """Parse XML bytes safely, sniff cXML / UBL / X12-as-XML / in-house, and translate them.

    Raises ``ParseError`` when the bytes cannot be read as a known XML document at all.
    """
    root = parse_xml(data, limits=limits)
    for _, test, reader in _DIALECTS:
        if test(root):
            return reader(root)
    qname = etree.QName(root)
    where = f" in namespace {qname.namespace}" if qname.namespace else ""
    raise ParseError.of(
        "xml.wrong_root",
        f"root element <{qname.localname}>{where} is not a document we read (cXML, UBL 2.x, X12-as-XML)",
        value=qname.localname,
    )
