"""The Bots demo in-house XML ship notice (``<message>`` with ``docnum``, ``partys``, ``orders``).

Rules:
- Recognised only when the root is ``message`` without a namespace and has a ``docnum`` child.
- ``docnum`` is the shipment id (mandatory); each ``order`` becomes an OrderLevel; a ``line`` with
  an ``sscc`` goes into the PackLevel of that SSCC, otherwise directly under the order.
- ``gtin`` maps by digit count to UP (12), EN (13) or UK (14).
"""

from __future__ import annotations

from lxml import etree

from parsers.canonical import OrderLevel, PackLevel, Party, ProductId, ShipNotice, ShippedItem, SourceEnvelope
from parsers.xml._common import Collector, XmlResult, text_of

__all__ = ["is_bots_asn", "read_bots_asn"]

GTIN_QUALIFIERS = {12: "UP", 13: "EN", 14: "UK"}
# <party> child -> Party.id_qualifier
PARTY_ID_FIELDS = {"gln": "UL", "externalID": "92", "dunsnumber": "1"}


def is_bots_asn(root: etree._Element) -> bool:
    """True for the Bots in-house ASN layout."""
    return root.tag == "message" and root.find("docnum") is not None


def _text(node: etree._Element | None, tag: str) -> str | None:
    """Text of a direct child, or None."""
    return text_of(node.find(tag)) if node is not None else None


def read_bots_asn(root: etree._Element) -> XmlResult:
    """Translate a Bots in-house ASN into a ShipNotice."""
    c = Collector()
    result = XmlResult(format="inhouse", document_type="message")
    shipment_id = _text(root, "docnum")
    if shipment_id is None:
        c.missing("message/docnum (the shipment id)", root)
        result.issues = c.issues
        return result
    parties = []
    for party in root.findall("partys/party"):
        role = _text(party, "qual") or "ZZ"
        qualifier, value = next(
            ((q, _text(party, tag)) for tag, q in PARTY_ID_FIELDS.items() if _text(party, tag)), (None, None)
        )
        parties.append(Party(role=role, name=_text(party, "name"), id_qualifier=qualifier, id=value))
    orders = []
    for order in root.findall("orders/order"):
        level = OrderLevel(
            po_number=_text(order, "ordernumber"),
            po_date=c.date(_text(order, "orderdtm"), "order/orderdtm", order.find("orderdtm")),
        )
        packs: dict[str, PackLevel] = {}
        for line in order.findall("lines/line"):
            gtin = _text(line, "gtin")
            ids = []
            if gtin:
                ids.append(ProductId(qualifier=GTIN_QUALIFIERS.get(len(gtin), "EN"), value=gtin))
            item = ShippedItem(
                line_number=_text(line, "linenum"),
                product_ids=ids,
                quantity_shipped=c.decimal(_text(line, "delqua"), "line/delqua", line.find("delqua")),
                description=_text(line, "desc"),
            )
            sscc = _text(line, "sscc")
            if sscc:
                packs.setdefault(sscc, PackLevel(sscc=sscc)).items.append(item)
            else:
                level.items.append(item)
        level.packs.extend(packs.values())
        orders.append(level)
    test = _text(root, "testindicator")
    notice = ShipNotice(
        shipment_id=shipment_id,
        purpose_code="00",
        notice_date=c.date(_text(root, "docdtm"), "message/docdtm", root.find("docdtm")),
        parties=parties,
        orders=orders,
        source=SourceEnvelope(
            format="xml",
            sender_id=_text(root, "sender"),
            receiver_id=_text(root, "receiver"),
            usage_indicator=test if test in ("P", "T") else None,
            transaction_set_id="message",
            payload_id=shipment_id,
        ),
    )
    result.documents.append(notice)
    result.issues = c.issues
    return result
