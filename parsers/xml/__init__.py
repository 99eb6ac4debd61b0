"""XML readers: safe parsing plus cXML, UBL 2.x, X12-as-XML and in-house XML to canonical documents."""

from parsers.xml._common import XmlDocument, XmlResult
from parsers.xml.reader import read_xml, sniff_dialect
from parsers.xml.safe import XmlLimits, parse_xml

__all__ = ["XmlDocument", "XmlLimits", "XmlResult", "parse_xml", "read_xml", "sniff_dialect"]
