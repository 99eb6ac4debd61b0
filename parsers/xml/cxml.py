"""cXML requests to canonical documents: OrderRequest, ShipNoticeRequest, InvoiceDetailRequest.

Rules:
- ``Header/From`` is the sender, ``Header/To`` the receiver (``Credential@domain`` is the qualifier,
  ``Identity`` the id); ``Sender`` is used only when ``From`` is absent. ``SharedSecret`` is never
  copied anywhere.
- Business keys (``orderID``, ``shipmentID``, ``invoiceID``) are mandatory: without one the request
  yields no document and an ``xml.missing_element`` error.
- Request types we do not translate (StatusUpdateRequest, ConfirmationRequest, ...) give an
  ``xml.unsupported_document`` issue, never an exception.
- Code tables (below) translate cXML words to X12 codes so the canonical documents look alike
  whichever format they came in.
"""

from __future__ import annotations

import re
from decimal import Decimal

from lxml import etree

from parsers.canonical import (
    Address,
    AllowanceCharge,
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
    Tax,
)
from parsers.issues import Level, error
from parsers.xml._common import Collector, XmlResult, attr, line_of, text_of

__all__ = ["SUPPORTED_REQUESTS", "read_cxml"]

# cXML OrderRequestHeader@type / ShipNoticeHeader@operation -> X12 purpose code (BEG01 / BSN01)
PURPOSE_CODES = {"new": "00", "update": "05", "delete": "01"}
# cXML Contact@role / InvoicePartner role -> X12 N101 entity code
ROLE_CODES = {
    "shipTo": "ST",
    "shipFrom": "SF",
    "billTo": "BT",
    "buyer": "BY",
    "buyerAccount": "BY",
    "soldTo": "SO",
    "supplierCorporate": "SU",
    "supplierAccount": "SU",
    "supplierMasterAccount": "SU",
    "from": "II",
    "issuerOfInvoice": "II",
    "remitTo": "RI",
    "billFrom": "II",
    "receivingBank": "RB",
    "endUser": "EN",
}
# InvoiceDetailRequestHeader@purpose -> X12 BIG07 transaction type code
INVOICE_TRANSACTION_TYPES = {
    "standard": "DI",
    "creditMemo": "CR",
    "lineLevelCreditMemo": "CR",
    "debitMemo": "DR",
    "lineLevelDebitMemo": "DR",
}
# ItemID children -> ProductId qualifier
ITEM_ID_QUALIFIERS = {"SupplierPartID": "VN", "BuyerPartID": "BP", "ManufacturerPartID": "MG"}

SUPPORTED_REQUESTS = ("OrderRequest", "ShipNoticeRequest", "InvoiceDetailRequest")


def _find(node: etree._Element | None, path: str) -> etree._Element | None:
    """The first element at a namespace-agnostic path like ``"Request/OrderRequest"``."""
    if node is None:
        return None
    return node.find("/".join("{*}" + step for step in path.split("/")))


def _findall(node: etree._Element | None, path: str) -> list[etree._Element]:
    """All elements at a namespace-agnostic path."""
    if node is None:
        return []
    return list(node.findall("/".join("{*}" + step for step in path.split("/"))))


class _CxmlReader:
    """Reads one cXML document; collects issues as it goes."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.c = Collector()
        self.currency: str | None = None

    # ------------------------------------------------------------------ shared pieces

    def envelope(self, request_name: str) -> SourceEnvelope:
        """The cXML header ids, payloadID and timestamp as a SourceEnvelope."""
        header = _find(self.root, "Header")
        sender = _find(header, "From/Credential")
        if sender is None:
            sender = _find(header, "Sender/Credential")
        receiver = _find(header, "To/Credential")
        request = _find(self.root, "Request")
        mode = attr(request, "deploymentMode")
        timestamp = attr(self.root, "timestamp")
        version = attr(self.root, "version")
        system_url = getattr(self.root.getroottree().docinfo, "system_url", None) or ""
        match = re.search(r"/cXML/(\d+\.\d+\.\d+)/", system_url)
        if match:
            version = match[1]
        return SourceEnvelope(
            format="cxml",
            sender_qualifier=attr(sender, "domain"),
            sender_id=text_of(_find(sender, "Identity")),
            receiver_qualifier=attr(receiver, "domain"),
            receiver_id=text_of(_find(receiver, "Identity")),
            interchange_date=self.c.date(timestamp, "cXML@timestamp", self.root) if timestamp else None,
            interchange_time=self.c.time(timestamp),
            usage_indicator={"test": "T", "production": "P"}.get(mode or ""),
            version=version,
            transaction_set_id=request_name,
            payload_id=attr(self.root, "payloadID"),
        )

    def money(self, node: etree._Element | None, what: str) -> Decimal | None:
        """The amount in ``node/Money`` (or ``node`` itself if it is Money); remembers the currency."""
        money = node if node is not None and etree.QName(node).localname == "Money" else _find(node, "Money")
        if money is None:
            return None
        currency = attr(money, "currency")
        if currency and self.currency is None:
            self.currency = currency
        return self.c.decimal(money.text, what, money)

    def address(self, node: etree._Element | None, role: str) -> Party | None:
        """A Party from a cXML ``Address`` element (ShipTo/BillTo/Contact)."""
        if node is None:
            return None
        postal = _find(node, "PostalAddress")
        contacts: list[Contact] = []
        lines: list[str] = []
        if postal is not None:
            lines = [t for t in (text_of(s) for s in _findall(postal, "Street")) if t]
            for deliver_to in _findall(postal, "DeliverTo"):
                name = text_of(deliver_to)
                if name:
                    contacts.append(Contact(function_code="DC", name=name))
        phone = self.phone(_find(node, "Phone"))
        email = text_of(_find(node, "Email"))
        fax = self.phone(_find(node, "Fax"))
        if phone or email or fax:
            contacts.append(Contact(function_code="IC", phone=phone, email=email, fax=fax))
        country = _find(postal, "Country")
        address = None
        if postal is not None:
            address = Address(
                lines=lines,
                city=text_of(_find(postal, "City")),
                state=text_of(_find(postal, "State")),
                postal_code=text_of(_find(postal, "PostalCode")),
                country=attr(country, "isoCountryCode") or text_of(country),
            )
        address_id = attr(node, "addressID")
        return Party(
            role=role,
            name=text_of(_find(node, "Name")),
            id_qualifier="92" if address_id else None,
            id=address_id,
            address=address,
            contacts=contacts,
        )

    @staticmethod
    def phone(node: etree._Element | None) -> str | None:
        """A telephone number ``+CC AREA NUMBER`` from a cXML Phone/Fax element."""
        number = _find(node, "TelephoneNumber")
        if number is None:
            return None
        parts = [
            text_of(_find(number, "CountryCode")),
            text_of(_find(number, "AreaOrCityCode")),
            text_of(_find(number, "Number")),
        ]
        text = " ".join(p for p in parts if p)
        if parts[0] and text:
            text = "+" + text
        extension = text_of(_find(number, "Extension"))
        return (text + (f" x{extension}" if extension else "")) or None

    def contacts_as_parties(self, node: etree._Element | None) -> list[Party]:
        """Parties from ``Contact role=...`` children (ship-from, remit-to, ...)."""
        parties = []
        for contact in _findall(node, "Contact"):
            role = ROLE_CODES.get(attr(contact, "role") or "")
            if role is None:
                continue
            party = self.address(contact, role)
            if party is not None:
                parties.append(party)
        return parties

    def comments(self, node: etree._Element | None) -> list[str]:
        """The text of ``Comments`` children (attachments contribute their URL text)."""
        return [t for t in (text_of(c) for c in _findall(node, "Comments")) if t]

    def product_ids(self, item_id: etree._Element | None) -> list[ProductId]:
        """ProductIds from an ``ItemID`` (SupplierPartID -> VN, BuyerPartID -> BP, ...)."""
        ids = []
        for child_name, qualifier in ITEM_ID_QUALIFIERS.items():
            value = text_of(_find(item_id, child_name))
            if value:
                ids.append(ProductId(qualifier=qualifier, value=value))
        return ids

    def tax(self, node: etree._Element | None, what: str) -> Tax | None:
        """A Tax from a cXML ``Tax`` element (amount and the first TaxDetail percentage/category)."""
        if node is None:
            return None
        detail = _find(node, "TaxDetail")
        percent = attr(detail, "percentageRate")
        return Tax(
            type_code=attr(detail, "category"),
            amount=self.money(node, what),
            percent=self.c.decimal(percent, f"{what} TaxDetail@percentageRate", detail) if percent else None,
        )

    def quantity(self, node: etree._Element, what: str) -> Decimal | None:
        """The ``quantity`` attribute as a Decimal."""
        return self.c.decimal(attr(node, "quantity"), what, node)

    # ------------------------------------------------------------------ OrderRequest

    def order(self, request: etree._Element) -> PurchaseOrder | None:
        """An OrderRequest as a PurchaseOrder."""
        header = _find(request, "OrderRequestHeader")
        if header is None:
            self.c.missing("OrderRequest/OrderRequestHeader", request)
            return None
        po_number = attr(header, "orderID")
        if po_number is None:
            self.c.missing("OrderRequestHeader@orderID (the order number)", header)
            return None
        order_type = attr(header, "type") or "new"
        purpose = PURPOSE_CODES.get(order_type)
        if purpose is None:
            self.c.add(
                error(
                    "xml.bad_code",
                    f"OrderRequestHeader@type {order_type!r} is not new, update or delete",
                    level=Level.ELEMENT,
                    position=line_of(header),
                    value=order_type,
                )
            )
        parties = [
            p
            for p in (
                self.address(_find(header, "ShipTo/Address"), "ST"),
                self.address(_find(header, "BillTo/Address"), "BT"),
            )
            if p is not None
        ]
        parties += self.contacts_as_parties(header)
        total = self.money(_find(header, "Total"), "OrderRequestHeader/Total")
        taxes = [t for t in [self.tax(_find(header, "Tax"), "OrderRequestHeader/Tax")] if t]
        charges = []
        shipping = _find(header, "Shipping")
        if shipping is not None:
            charges.append(
                AllowanceCharge(
                    indicator="C",
                    code="D240",
                    amount=self.money(shipping, "OrderRequestHeader/Shipping"),
                    description=text_of(_find(shipping, "Description")),
                )
            )
        references = []
        for ref_name, qualifier in (("SupplierOrderInfo", "VN"), ("DocumentReference", "PR")):
            ref = _find(header, ref_name)
            value = attr(ref, "orderID") or attr(ref, "payloadID")
            if value:
                references.append(Reference(qualifier=qualifier, value=value))
        lines = [self.order_line(item) for item in _findall(request, "ItemOut")]
        return PurchaseOrder(
            po_number=po_number,
            purpose_code=purpose,
            order_type={"new": "NE"}.get(order_type, "SA") if purpose else None,
            order_date=self.c.date(attr(header, "orderDate"), "OrderRequestHeader@orderDate", header),
            currency=self.currency,
            parties=parties,
            references=references,
            taxes=taxes,
            allowances_charges=charges,
            notes=self.comments(header),
            lines=lines,
            total_amount=total,
            source=self.envelope("OrderRequest"),
        )

    def order_line(self, item: etree._Element) -> LineItem:
        """One ``ItemOut`` as a LineItem."""
        line_number = attr(item, "lineNumber")
        what = f"ItemOut line {line_number or '?'}"
        detail = _find(item, "ItemDetail")
        ids = self.product_ids(_find(item, "ItemID"))
        manufacturer = text_of(_find(detail, "ManufacturerPartID"))
        if manufacturer:
            ids.append(ProductId(qualifier="MG", value=manufacturer))
        references = []
        aux = text_of(_find(item, "ItemID/SupplierPartAuxiliaryID"))
        if aux:
            references.append(Reference(qualifier="ZZ", value=aux, description="SupplierPartAuxiliaryID"))
        references += [Reference(qualifier="L1", description=c) for c in self.comments(item)]
        dates = []
        delivery = attr(item, "requestedDeliveryDate")
        if delivery:
            dates.append(
                DateRef(
                    qualifier="002",
                    date=self.c.date(delivery, f"{what} @requestedDeliveryDate", item),
                    time=None,
                )
            )
        taxes = [t for t in [self.tax(_find(item, "Tax"), f"{what} Tax")] if t]
        return LineItem(
            line_number=line_number,
            quantity=self.quantity(item, f"{what} @quantity"),
            unit_of_measure=text_of(_find(detail, "UnitOfMeasure")),
            unit_price=self.money(_find(detail, "UnitPrice"), f"{what} UnitPrice"),
            product_ids=ids,
            description=text_of(_find(detail, "Description")),
            dates=dates,
            references=references,
            taxes=taxes,
        )

    # ------------------------------------------------------------------ ShipNoticeRequest

    def ship_notice(self, request: etree._Element) -> ShipNotice | None:
        """A ShipNoticeRequest as a ShipNotice."""
        header = _find(request, "ShipNoticeHeader")
        if header is None:
            self.c.missing("ShipNoticeRequest/ShipNoticeHeader", request)
            return None
        shipment_id = attr(header, "shipmentID")
        if shipment_id is None:
            self.c.missing("ShipNoticeHeader@shipmentID (the shipment id)", header)
            return None
        operation = attr(header, "operation") or "new"
        notice_date = attr(header, "noticeDate")
        carrier = None
        tracking: list[str] = []
        for control in _findall(request, "ShipControl"):
            scac = None
            name = None
            for ident in _findall(control, "CarrierIdentifier"):
                domain = (attr(ident, "domain") or "").lower()
                if domain == "scac":
                    scac = text_of(ident)
                elif domain == "companyname":
                    name = text_of(ident)
            if carrier is None and (scac or name):
                carrier = Carrier(id_qualifier="2" if scac else None, id=scac, routing=name)
            tracking += [t for t in (text_of(s) for s in _findall(control, "ShipmentIdentifier")) if t]
        references = [Reference(qualifier="L1", description=c) for c in self.comments(header)]
        orders = [self.shipped_order(portion) for portion in _findall(request, "ShipNoticePortion")]
        return ShipNotice(
            shipment_id=shipment_id,
            purpose_code=PURPOSE_CODES.get(operation),
            notice_date=self.c.date(notice_date, "ShipNoticeHeader@noticeDate", header),
            notice_time=self.c.time(notice_date),
            ship_date=self.c.date(attr(header, "shipmentDate"), "ShipNoticeHeader@shipmentDate", header),
            estimated_delivery_date=self.c.date(attr(header, "deliveryDate"), "ShipNoticeHeader@deliveryDate", header),
            parties=self.contacts_as_parties(header),
            references=references,
            carrier=carrier,
            tracking_numbers=tracking,
            orders=orders,
            source=self.envelope("ShipNoticeRequest"),
        )

    def shipped_order(self, portion: etree._Element) -> OrderLevel:
        """One ``ShipNoticePortion`` as an OrderLevel; items in a packaging SSCC go into a PackLevel."""
        ref = _find(portion, "OrderReference")
        doc_ref = _find(ref, "DocumentReference")
        references = []
        if attr(doc_ref, "payloadID"):
            references.append(Reference(qualifier="PR", value=attr(doc_ref, "payloadID")))
        loose: list[ShippedItem] = []
        packs: dict[str, PackLevel] = {}
        for item in _findall(portion, "ShipNoticeItem"):
            shipped = self.shipped_item(item)
            sscc = None
            packaging = _find(item, "Packaging")
            for code in ("ShippingContainerSerialCode", "ShippingContainerSerialCodeReference"):
                sscc = sscc or text_of(_find(packaging, code))
            if sscc:
                pack = packs.setdefault(
                    sscc, PackLevel(sscc=sscc, packaging_code=text_of(_find(packaging, "PackagingCode")))
                )
                pack.items.append(shipped)
            else:
                loose.append(shipped)
        return OrderLevel(
            po_number=attr(ref, "orderID"),
            po_date=self.c.date(attr(ref, "orderDate"), "OrderReference@orderDate", ref),
            references=references,
            packs=list(packs.values()),
            items=loose,
        )

    def shipped_item(self, item: etree._Element) -> ShippedItem:
        """One ``ShipNoticeItem`` as a ShippedItem."""
        line_number = attr(item, "lineNumber")
        what = f"ShipNoticeItem line {line_number or '?'}"
        detail = _find(item, "ShipNoticeItemDetail")
        return ShippedItem(
            line_number=line_number,
            product_ids=self.product_ids(_find(item, "ItemID")),
            quantity_shipped=self.quantity(item, f"{what} @quantity"),
            unit_of_measure=text_of(_find(item, "UnitOfMeasure")),
            description=text_of(_find(detail, "Description")),
        )

    # ------------------------------------------------------------------ InvoiceDetailRequest

    def invoice(self, request: etree._Element) -> Invoice | None:
        """An InvoiceDetailRequest as an Invoice."""
        header = _find(request, "InvoiceDetailRequestHeader")
        if header is None:
            self.c.missing("InvoiceDetailRequest/InvoiceDetailRequestHeader", request)
            return None
        invoice_id = attr(header, "invoiceID")
        if invoice_id is None:
            self.c.missing("InvoiceDetailRequestHeader@invoiceID (the invoice number)", header)
            return None
        purpose = attr(header, "purpose") or "standard"
        parties = []
        for partner in _findall(header, "InvoicePartner"):
            parties += self.contacts_as_parties(partner)
        parties += self.contacts_as_parties(_find(header, "InvoiceDetailShipping"))
        terms = []
        for term in _findall(header, "PaymentTerm"):
            days = attr(term, "payInNumberOfDays")
            rate = attr(term, "percentageRate")
            terms.append(
                PaymentTerms(
                    net_days=int(days) if days and days.isdecimal() else None,
                    discount_percent=self.c.decimal(rate, "PaymentTerm@percentageRate", term) if rate else None,
                )
            )
        references = [Reference(qualifier="L1", description=c) for c in self.comments(header)]
        po_numbers: list[tuple[str | None, str | None]] = []
        lines: list[LineItem] = []
        for order in _findall(request, "InvoiceDetailOrder"):
            order_ref = _find(order, "InvoiceDetailOrderInfo/OrderReference")
            po = attr(order_ref, "orderID") or attr(_find(order_ref, "DocumentReference"), "payloadID")
            po_date = attr(order_ref, "orderDate")
            if po:
                po_numbers.append((po, po_date))
            for item in _findall(order, "InvoiceDetailItem"):
                lines.append(self.invoice_line(item, po))
        summary = _find(request, "InvoiceDetailSummary")
        taxes = [t for t in [self.tax(_find(summary, "Tax"), "InvoiceDetailSummary/Tax")] if t]
        charges: list[AllowanceCharge] = []
        for name, code in (("ShippingAmount", "D240"), ("SpecialHandlingAmount", "H090")):
            amount = self.money(_find(summary, name), f"InvoiceDetailSummary/{name}")
            if amount is not None:
                charges.append(AllowanceCharge(indicator="C", code=code, amount=amount))
        discount = self.money(_find(summary, "InvoiceDetailDiscount"), "InvoiceDetailSummary/InvoiceDetailDiscount")
        if discount is not None:
            charges.append(AllowanceCharge(indicator="A", code="C310", amount=discount))
        totals = {
            name: self.money(_find(summary, name), f"InvoiceDetailSummary/{name}")
            for name in ("DueAmount", "NetAmount", "GrossAmount", "SubtotalAmount")
        }
        total = next((v for v in totals.values() if v is not None), None)
        for name, value in totals.items():
            if value is not None:
                references.append(Reference(qualifier="ZZ", value=str(value), description=name))
        first_po, first_po_date = po_numbers[0] if po_numbers else (None, None)
        references += [Reference(qualifier="PO", value=po) for po, _ in po_numbers[1:]]
        return Invoice(
            invoice_number=invoice_id,
            invoice_date=self.c.date(attr(header, "invoiceDate"), "InvoiceDetailRequestHeader@invoiceDate", header),
            po_number=first_po,
            po_date=self.c.date(first_po_date, "OrderReference@orderDate", None) if first_po_date else None,
            purpose_code=PURPOSE_CODES.get(attr(header, "operation") or "new"),
            transaction_type=INVOICE_TRANSACTION_TYPES.get(purpose),
            currency=self.currency,
            parties=parties,
            references=references,
            terms=terms,
            lines=lines,
            allowances_charges=charges,
            taxes=taxes,
            total_amount=total,
            amount_subject_to_discount=totals["SubtotalAmount"],
            source=self.envelope("InvoiceDetailRequest"),
        )

    def invoice_line(self, item: etree._Element, po_number: str | None) -> LineItem:
        """One ``InvoiceDetailItem`` as a LineItem (the PO line it bills goes into references)."""
        line_number = attr(item, "invoiceLineNumber")
        what = f"InvoiceDetailItem line {line_number or '?'}"
        item_ref = _find(item, "InvoiceDetailItemReference")
        references = []
        if attr(item_ref, "lineNumber"):
            references.append(Reference(qualifier="LI", value=attr(item_ref, "lineNumber")))
        if po_number:
            references.append(Reference(qualifier="PO", value=po_number))
        taxes = [t for t in [self.tax(_find(item, "Tax"), f"{what} Tax")] if t]
        return LineItem(
            line_number=line_number,
            quantity=self.quantity(item, f"{what} @quantity"),
            unit_of_measure=text_of(_find(item, "UnitOfMeasure")),
            unit_price=self.money(_find(item, "UnitPrice"), f"{what} UnitPrice"),
            product_ids=self.product_ids(_find(item_ref, "ItemID")),
            description=text_of(_find(item_ref, "Description")),
            references=references,
            taxes=taxes,
            amount=self.money(_find(item, "SubtotalAmount"), f"{what} SubtotalAmount"),
        )


def read_cxml(root: etree._Element) -> XmlResult:
    """Translate a parsed cXML document (root ``cXML``) into canonical documents and issues."""
    reader = _CxmlReader(root)
    result = XmlResult(format="cxml")
    request = _find(root, "Request")
    if request is None:
        if _find(root, "Response") is not None or _find(root, "Message") is not None:
            kind = "Response" if _find(root, "Response") is not None else "Message"
            result.document_type = kind
            result.issues.append(
                error("xml.unsupported_document", f"cXML {kind} documents are not translated", value=kind)
            )
            return result
        reader.c.missing("cXML/Request", root)
        result.issues = reader.c.issues
        return result
    body = next((child for child in request if isinstance(child.tag, str)), None)
    if body is None:
        reader.c.missing("the request element inside cXML/Request", request)
        result.issues = reader.c.issues
        return result
    name = etree.QName(body).localname
    result.document_type = name
    document: PurchaseOrder | ShipNotice | Invoice | None
    if name == "OrderRequest":
        document = reader.order(body)
    elif name == "ShipNoticeRequest":
        document = reader.ship_notice(body)
    elif name == "InvoiceDetailRequest":
        document = reader.invoice(body)
    else:
        result.issues.append(
            error(
                "xml.unsupported_document",
                f"cXML {name} is not translated (supported: {', '.join(SUPPORTED_REQUESTS)})",
                value=name,
                position=line_of(body),
            )
        )
        return result
    if document is not None:
        result.documents.append(document)
    result.issues.extend(reader.c.issues)
    return result
