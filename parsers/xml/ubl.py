"""UBL 2.x documents to canonical documents: Order, DespatchAdvice, Invoice (and CreditNote).

Rules:
- Elements are found by the standard cbc/cac namespaces; the root namespace names the document
  (``urn:oasis:names:specification:ubl:schema:xsd:Order-2`` ...). UBL 2.0 and 2.1 read the same.
- ``cbc:ID`` of the document is the business key and mandatory (order number, despatch advice
  number, invoice number).
- UBL party roles map to X12 entity codes (table below); item identifications map to product id
  qualifiers (buyer's -> BP, seller's -> VN, manufacturer's -> MG, standard GTIN -> UP/EN/UK by length).
- A DespatchAdvice's ``TransportHandlingUnit/cbc:ID`` is the SSCC of the pack (Peppol BIS uses it so).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

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
from parsers.issues import error
from parsers.xml._common import Collector, XmlResult, attr, line_of, text_of

__all__ = ["UBL_DOCUMENTS", "UBL_NS_PREFIX", "read_ubl"]

UBL_NS_PREFIX = "urn:oasis:names:specification:ubl:schema:xsd:"
NS = {
    "cbc": UBL_NS_PREFIX + "CommonBasicComponents-2",
    "cac": UBL_NS_PREFIX + "CommonAggregateComponents-2",
}
# UBL document (root local name) -> what we make of it; None: recognised but not translated
UBL_DOCUMENTS: dict[str, str | None] = {
    "Order": "purchase_order",
    "DespatchAdvice": "ship_notice",
    "Invoice": "invoice",
    "CreditNote": "invoice",
    "OrderResponse": None,
    "OrderResponseSimple": None,
    "OrderChange": None,
    "OrderCancellation": None,
    "ReceiptAdvice": None,
    "ApplicationResponse": None,
    "Catalogue": None,
}
# Peppol/ISO 6523 party identifier scheme -> X12 N103 id code qualifier
SCHEME_QUALIFIERS = {"0088": "UL", "0060": "1", "GLN": "UL", "DUNS": "1"}
# UNCL1001 invoice type code -> X12 BIG07 transaction type
INVOICE_TYPES = {"380": "DI", "381": "CR", "383": "DR", "384": "DI", "386": "DI", "389": "DI", "393": "DI"}
# product qualifier of a standard item id by digit count: UPC-A, EAN-13, GTIN-14
GTIN_QUALIFIERS = {12: "UP", 13: "EN", 14: "UK"}


class _UblReader:
    """Reads one UBL document; collects issues and the document currency as it goes."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.c = Collector()
        self.name = etree.QName(root).localname

    # ------------------------------------------------------------------ lookups

    def find(self, node: etree._Element | None, path: str) -> etree._Element | None:
        """The first element at a ``cac:X/cbc:Y`` path."""
        if node is None:
            return None
        return node.find(path, NS)

    def findall(self, node: etree._Element | None, path: str) -> list[etree._Element]:
        """All elements at a ``cac:X/cbc:Y`` path."""
        if node is None:
            return []
        return list(node.findall(path, NS))

    def text(self, node: etree._Element | None, path: str) -> str | None:
        """The text at a path, or None."""
        return text_of(self.find(node, path))

    def amount(self, node: etree._Element | None, path: str) -> Decimal | None:
        """A Decimal amount or quantity at a path."""
        found = self.find(node, path)
        return self.c.decimal(found.text if found is not None else None, f"{self.name} {path}", found)

    def date(self, node: etree._Element | None, path: str) -> dt.date | None:
        """A date at a path (None when absent)."""
        found = self.find(node, path)
        return self.c.date(found.text if found is not None else None, f"{self.name} {path}", found)

    # ------------------------------------------------------------------ shared pieces

    def envelope(self, sender: Party | None, receiver: Party | None) -> SourceEnvelope:
        """The UBL document's identity as a SourceEnvelope (parties' endpoint ids as sender/receiver)."""
        return SourceEnvelope(
            format="ubl",
            sender_qualifier=sender.id_qualifier if sender else None,
            sender_id=sender.id if sender else None,
            receiver_qualifier=receiver.id_qualifier if receiver else None,
            receiver_id=receiver.id if receiver else None,
            version=self.text(self.root, "cbc:UBLVersionID") or self.text(self.root, "cbc:CustomizationID"),
            transaction_set_id=self.name,
            implementation_reference=self.text(self.root, "cbc:ProfileID"),
            payload_id=self.text(self.root, "cbc:UUID") or self.text(self.root, "cbc:ID"),
        )

    def party(self, node: etree._Element | None, role: str) -> Party | None:
        """A Party from a UBL ``cac:Party`` element."""
        if node is None:
            return None
        ident = self.find(node, "cac:PartyIdentification/cbc:ID")
        if ident is None:
            ident = self.find(node, "cbc:EndpointID")
        scheme = attr(ident, "schemeID")
        name = (
            self.text(node, "cac:PartyName/cbc:Name")
            or self.text(node, "cac:PartyLegalEntity/cbc:RegistrationName")
            or self.text(node, "cac:PartyTaxScheme/cbc:RegistrationName")
        )
        contact = self.find(node, "cac:Contact")
        contacts = [self.contact(contact)] if contact is not None else []
        return Party(
            role=role,
            name=name,
            id_qualifier=SCHEME_QUALIFIERS.get(scheme or "", scheme) if ident is not None else None,
            id=text_of(ident),
            address=self.address(self.find(node, "cac:PostalAddress")),
            contacts=contacts,
        )

    def contact(self, node: etree._Element) -> Contact:
        """A Contact from ``cac:Contact`` / ``cac:DeliveryContact``."""
        return Contact(
            function_code="IC",
            name=self.text(node, "cbc:Name"),
            phone=self.text(node, "cbc:Telephone"),
            email=self.text(node, "cbc:ElectronicMail"),
            fax=self.text(node, "cbc:Telefax"),
        )

    def address(self, node: etree._Element | None) -> Address | None:
        """An Address from ``cac:PostalAddress`` / ``cac:Address`` / ``cac:DespatchAddress``."""
        if node is None:
            return None
        street = " ".join(t for t in (self.text(node, "cbc:BuildingNumber"), self.text(node, "cbc:StreetName")) if t)
        lines = [t for t in [street, self.text(node, "cbc:AdditionalStreetName")] if t]
        lines += [t for t in (text_of(n) for n in self.findall(node, "cac:AddressLine/cbc:Line")) if t]
        return Address(
            lines=lines,
            city=self.text(node, "cbc:CityName"),
            state=self.text(node, "cbc:CountrySubentity"),
            postal_code=self.text(node, "cbc:PostalZone"),
            country=self.text(node, "cac:Country/cbc:IdentificationCode"),
        )

    def roles(self, table: list[tuple[str, str]]) -> list[Party]:
        """Parties at ``cac:<Role>Party/cac:Party`` paths under the root, by (element, X12 role)."""
        parties = []
        for element, role in table:
            party = self.party(self.find(self.root, f"cac:{element}/cac:Party"), role)
            if party is not None:
                parties.append(party)
        return parties

    def delivery_party(self, delivery: etree._Element | None) -> Party | None:
        """The ship-to Party from a ``cac:Delivery`` (location id and address, delivery party name)."""
        if delivery is None:
            return None
        location = self.find(delivery, "cac:DeliveryLocation")
        dparty = self.find(delivery, "cac:DeliveryParty")
        if location is None and dparty is None:
            return None
        party = self.party(dparty, "ST") if dparty is not None else Party(role="ST")
        assert party is not None
        loc_id = self.find(location, "cbc:ID")
        update: dict[str, object] = {}
        if loc_id is not None and text_of(loc_id):
            scheme = attr(loc_id, "schemeID")
            update["id"] = text_of(loc_id)
            update["id_qualifier"] = SCHEME_QUALIFIERS.get(scheme or "", scheme)
        address = self.address(self.find(location, "cac:Address"))
        if address is not None:
            update["address"] = address
        return party.model_copy(update=update)

    def allowances(self, node: etree._Element | None) -> list[AllowanceCharge]:
        """AllowanceCharge children of ``node``."""
        result = []
        for ac in self.findall(node, "cac:AllowanceCharge"):
            indicator: Literal["A", "C"] = "C" if self.text(ac, "cbc:ChargeIndicator") == "true" else "A"
            result.append(
                AllowanceCharge(
                    indicator=indicator,
                    code=self.text(ac, "cbc:AllowanceChargeReasonCode"),
                    amount=self.amount(ac, "cbc:Amount"),
                    percent=self.amount(ac, "cbc:MultiplierFactorNumeric"),
                    description=self.text(ac, "cbc:AllowanceChargeReason"),
                )
            )
        return result

    def taxes(self, node: etree._Element | None) -> list[Tax]:
        """Taxes from ``cac:TaxTotal``: one per TaxSubtotal, or the total when there are none."""
        taxes = []
        for total in self.findall(node, "cac:TaxTotal"):
            subtotals = self.findall(total, "cac:TaxSubtotal")
            if not subtotals:
                taxes.append(Tax(amount=self.amount(total, "cbc:TaxAmount")))
            for sub in subtotals:
                taxes.append(
                    Tax(
                        type_code=self.text(sub, "cac:TaxCategory/cbc:ID"),
                        amount=self.amount(sub, "cbc:TaxAmount"),
                        percent=self.amount(sub, "cac:TaxCategory/cbc:Percent"),
                    )
                )
        return taxes

    def product_ids(self, item: etree._Element | None) -> list[ProductId]:
        """ProductIds from a ``cac:Item``."""
        ids = []
        for path, qualifier in (
            ("cac:BuyersItemIdentification/cbc:ID", "BP"),
            ("cac:SellersItemIdentification/cbc:ID", "VN"),
            ("cac:ManufacturersItemIdentification/cbc:ID", "MG"),
        ):
            value = self.text(item, path)
            if value:
                ids.append(ProductId(qualifier=qualifier, value=value))
        standard = self.text(item, "cac:StandardItemIdentification/cbc:ID")
        if standard:
            digits = len(standard) if standard.isdecimal() else 0
            ids.append(ProductId(qualifier=GTIN_QUALIFIERS.get(digits, "EN"), value=standard))
        return ids

    def item_description(self, item: etree._Element | None) -> str | None:
        """The item's description, else its name."""
        return self.text(item, "cbc:Description") or self.text(item, "cbc:Name")

    def period_dates(self, period: etree._Element | None, start: str, end: str) -> list[DateRef]:
        """DateRefs from a UBL period's StartDate/EndDate with the given X12 qualifiers."""
        dates = []
        for tag, qualifier in (("StartDate", start), ("EndDate", end)):
            found = self.find(period, f"cbc:{tag}")
            if found is not None:
                when = self.c.date(found.text, f"{self.name} {tag}", found)
                time_text = self.text(period, f"cbc:{tag.replace('Date', 'Time')}")
                dates.append(DateRef(qualifier=qualifier, date=when, time=self.c.time(time_text)))
        return dates

    def key(self, what: str) -> str | None:
        """The document's mandatory ``cbc:ID``; an error issue when absent."""
        value = self.text(self.root, "cbc:ID")
        if value is None:
            self.c.missing(f"{self.name}/cbc:ID ({what})", self.root)
        return value

    def notes(self, node: etree._Element | None) -> list[str]:
        """``cbc:Note`` texts."""
        return [t for t in (text_of(n) for n in self.findall(node, "cbc:Note")) if t]

    # ------------------------------------------------------------------ Order

    def order(self) -> PurchaseOrder | None:
        """A UBL Order as a PurchaseOrder."""
        po_number = self.key("the order number")
        if po_number is None:
            return None
        root = self.root
        parties = self.roles(
            [
                ("BuyerCustomerParty", "BY"),
                ("SellerSupplierParty", "SE"),
                ("OriginatorCustomerParty", "OB"),
                ("AccountingCustomerParty", "BT"),
            ]
        )
        delivery = self.find(root, "cac:Delivery")
        ship_to = self.delivery_party(delivery)
        if ship_to is not None:
            parties.append(ship_to)
        references = []
        for path, qualifier in (
            ("cbc:SalesOrderID", "VN"),
            ("cbc:CustomerReference", "CR"),
            ("cac:QuotationDocumentReference/cbc:ID", "PR"),
            ("cac:ProjectReference/cbc:ID", "JB"),
            ("cbc:AccountingCost", "AU"),
        ):
            value = self.text(root, path)
            if value:
                references.append(Reference(qualifier=qualifier, value=value))
        terms = [PaymentTerms(description=n) for n in self.notes(self.find(root, "cac:PaymentTerms"))]
        buyer = next((p for p in parties if p.role == "BY"), None)
        seller = next((p for p in parties if p.role == "SE"), None)
        lines = [self.order_line(line) for line in self.findall(root, "cac:OrderLine")]
        return PurchaseOrder(
            po_number=po_number,
            purpose_code="00",
            order_type="SA",
            order_date=self.date(root, "cbc:IssueDate"),
            currency=self.text(root, "cbc:DocumentCurrencyCode"),
            contract_number=self.text(root, "cac:Contract/cbc:ID"),
            parties=parties,
            references=references,
            dates=self.period_dates(self.find(delivery, "cac:RequestedDeliveryPeriod"), "002", "063"),
            terms=terms,
            allowances_charges=self.allowances(root),
            taxes=self.taxes(root),
            notes=self.notes(root),
            lines=lines,
            total_amount=self.amount(root, "cac:AnticipatedMonetaryTotal/cbc:PayableAmount"),
            line_count=len(lines),
            source=self.envelope(buyer, seller),
        )

    def order_line(self, order_line: etree._Element) -> LineItem:
        """One ``cac:OrderLine`` as a LineItem."""
        line = self.find(order_line, "cac:LineItem")
        item = self.find(line, "cac:Item")
        quantity = self.find(line, "cbc:Quantity")
        tax_category = self.find(item, "cac:ClassifiedTaxCategory")
        taxes = []
        if tax_category is not None:
            taxes.append(
                Tax(type_code=self.text(tax_category, "cbc:ID"), percent=self.amount(tax_category, "cbc:Percent"))
            )
        return LineItem(
            line_number=self.text(line, "cbc:ID"),
            quantity=self.c.decimal(quantity.text if quantity is not None else None, "Quantity", quantity),
            unit_of_measure=attr(quantity, "unitCode"),
            unit_price=self.amount(line, "cac:Price/cbc:PriceAmount"),
            product_ids=self.product_ids(item),
            description=self.item_description(item),
            dates=self.period_dates(self.find(line, "cac:Delivery/cac:RequestedDeliveryPeriod"), "002", "063"),
            references=[Reference(qualifier="L1", description=n) for n in self.notes(order_line)],
            allowances_charges=self.allowances(line),
            taxes=taxes,
            amount=self.amount(line, "cbc:LineExtensionAmount"),
        )

    # ------------------------------------------------------------------ DespatchAdvice

    def despatch_advice(self) -> ShipNotice | None:
        """A UBL DespatchAdvice as a ShipNotice (orders by OrderReference, packs by SSCC)."""
        shipment_id = self.key("the despatch advice number")
        if shipment_id is None:
            return None
        root = self.root
        parties = self.roles(
            [
                ("DespatchSupplierParty", "SF"),
                ("DeliveryCustomerParty", "ST"),
                ("BuyerCustomerParty", "BY"),
                ("SellerSupplierParty", "SE"),
            ]
        )
        shipment = self.find(root, "cac:Shipment")
        delivery = self.find(shipment, "cac:Delivery")
        carrier_name = self.text(shipment, "cac:Consignment/cac:CarrierParty/cac:PartyName/cbc:Name")
        carrier_id = self.text(shipment, "cac:Consignment/cac:CarrierParty/cac:PartyIdentification/cbc:ID")
        carrier = Carrier(id=carrier_id, routing=carrier_name) if (carrier_name or carrier_id) else None
        tracking = [t for t in (text_of(n) for n in self.findall(delivery, "cbc:TrackingID")) if t]
        references = []
        if self.text(shipment, "cbc:ID"):
            references.append(Reference(qualifier="SI", value=self.text(shipment, "cbc:ID")))
        weight = self.find(shipment, "cbc:GrossWeightMeasure")
        default_po = self.text(root, "cac:OrderReference/cbc:ID")
        orders: dict[str | None, OrderLevel] = {}
        for line in self.findall(root, "cac:DespatchLine"):
            po = self.text(line, "cac:OrderLineReference/cac:OrderReference/cbc:ID") or default_po
            order = orders.setdefault(po, OrderLevel(po_number=po))
            shipped = self.despatch_line(line)
            units = self.findall(line, "cac:Shipment/cac:TransportHandlingUnit")
            if not units:
                order.items.append(shipped)
            for unit in units[:1]:  # an item is counted once, in its first handling unit
                sscc = self.text(unit, "cbc:ID")
                pack = next((p for p in order.packs if sscc and p.sscc == sscc), None)
                if pack is None:
                    pack = self.handling_unit(unit)
                    order.packs.append(pack)
                pack.items.append(shipped)
        if not orders and default_po:
            orders[default_po] = OrderLevel(po_number=default_po)
        supplier = next((p for p in parties if p.role == "SF"), None)
        customer = next((p for p in parties if p.role == "ST"), None)
        estimated = self.find(delivery, "cac:EstimatedDeliveryPeriod/cbc:StartDate")
        return ShipNotice(
            shipment_id=shipment_id,
            purpose_code="00",
            notice_date=self.date(root, "cbc:IssueDate"),
            notice_time=self.c.time(self.text(root, "cbc:IssueTime")),
            ship_date=self.date(delivery, "cac:Despatch/cbc:ActualDespatchDate"),
            estimated_delivery_date=self.c.date(
                estimated.text if estimated is not None else None, "EstimatedDeliveryPeriod", estimated
            ),
            parties=parties,
            references=references,
            carrier=carrier,
            tracking_numbers=tracking,
            lading_quantity=self.amount(shipment, "cbc:TotalTransportHandlingUnitQuantity"),
            gross_weight=self.amount(shipment, "cbc:GrossWeightMeasure"),
            weight_unit=attr(weight, "unitCode"),
            orders=list(orders.values()),
            line_count=len(self.findall(root, "cac:DespatchLine")),
            source=self.envelope(supplier, customer),
        )

    def handling_unit(self, unit: etree._Element) -> PackLevel:
        """A ``cac:TransportHandlingUnit`` as a PackLevel (its SSCC) with its packages as child packs."""
        packages = [
            PackLevel(hl_code="P", sscc=self.text(p, "cbc:ID"), packaging_code=self.text(p, "cbc:PackagingTypeCode"))
            for p in self.findall(unit, "cac:Package")
        ]
        return PackLevel(
            hl_code="T" if packages else "P",
            sscc=self.text(unit, "cbc:ID"),
            packaging_code=self.text(unit, "cbc:TransportHandlingUnitTypeCode"),
            packs=packages,
        )

    def despatch_line(self, line: etree._Element) -> ShippedItem:
        """One ``cac:DespatchLine`` as a ShippedItem."""
        item = self.find(line, "cac:Item")
        delivered = self.find(line, "cbc:DeliveredQuantity")
        outstanding = self.amount(line, "cbc:OutstandingQuantity")
        references = [Reference(qualifier="L1", description=n) for n in self.notes(line)]
        if outstanding is not None:
            references.append(Reference(qualifier="ZZ", value=str(outstanding), description="OutstandingQuantity"))
        lot = self.text(item, "cac:ItemInstance/cac:LotIdentification/cbc:LotNumberID")
        if lot:
            references.append(Reference(qualifier="LT", value=lot))
        return ShippedItem(
            line_number=self.text(line, "cac:OrderLineReference/cbc:LineID") or self.text(line, "cbc:ID"),
            product_ids=self.product_ids(item),
            quantity_shipped=self.c.decimal(
                delivered.text if delivered is not None else None, "DeliveredQuantity", delivered
            ),
            unit_of_measure=attr(delivered, "unitCode"),
            description=self.item_description(item),
            references=references,
        )

    # ------------------------------------------------------------------ Invoice / CreditNote

    def invoice(self) -> Invoice | None:
        """A UBL Invoice or CreditNote as an Invoice."""
        invoice_number = self.key("the invoice number")
        if invoice_number is None:
            return None
        root = self.root
        credit = self.name == "CreditNote"
        type_code = self.text(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode")
        parties = self.roles(
            [
                ("AccountingSupplierParty", "SE"),
                ("AccountingCustomerParty", "BT"),
                ("PayeeParty", "PE"),
                ("SellerSupplierParty", "SE"),
                ("BuyerCustomerParty", "BY"),
            ]
        )
        payee = self.party(self.find(root, "cac:PayeeParty"), "PE")
        if payee is not None and not any(p.role == "PE" for p in parties):
            parties.append(payee)
        ship_to = self.delivery_party(self.find(root, "cac:Delivery"))
        if ship_to is not None:
            parties.append(ship_to)
        references = []
        for path, qualifier in (
            ("cbc:BuyerReference", "CR"),
            ("cac:ContractDocumentReference/cbc:ID", "CT"),
            ("cac:DespatchDocumentReference/cbc:ID", "BM"),
            ("cbc:AccountingCost", "AU"),
        ):
            value = self.text(root, path)
            if value:
                references.append(Reference(qualifier=qualifier, value=value))
        totals = self.find(root, "cac:LegalMonetaryTotal")
        for name in ("LineExtensionAmount", "TaxExclusiveAmount", "TaxInclusiveAmount", "PayableAmount"):
            amount = self.amount(totals, f"cbc:{name}")
            if amount is not None:
                references.append(Reference(qualifier="ZZ", value=str(amount), description=name))
        terms = []
        due = self.find(root, "cbc:DueDate")
        term_notes = self.notes(self.find(root, "cac:PaymentTerms"))
        if due is not None or term_notes:
            terms.append(
                PaymentTerms(
                    net_due_date=self.c.date(due.text if due is not None else None, "DueDate", due),
                    description=" ".join(term_notes) or None,
                )
            )
        line_tag = "cac:CreditNoteLine" if credit else "cac:InvoiceLine"
        qty_tag = "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity"
        lines = [self.invoice_line(line, qty_tag) for line in self.findall(root, line_tag)]
        delivery_date = self.find(root, "cac:Delivery/cbc:ActualDeliveryDate")
        dates = []
        if delivery_date is not None:
            dates.append(
                DateRef(qualifier="011", date=self.c.date(delivery_date.text, "ActualDeliveryDate", delivery_date))
            )
        seller = next((p for p in parties if p.role == "SE"), None)
        buyer = next((p for p in parties if p.role == "BT"), None)
        total = self.amount(totals, "cbc:PayableAmount")
        if total is None:
            total = self.amount(totals, "cbc:TaxInclusiveAmount")
        return Invoice(
            invoice_number=invoice_number,
            invoice_date=self.date(root, "cbc:IssueDate"),
            po_number=self.text(root, "cac:OrderReference/cbc:ID"),
            purpose_code="00",
            transaction_type="CR" if credit else INVOICE_TYPES.get(type_code or "380", "DI"),
            currency=self.text(root, "cbc:DocumentCurrencyCode"),
            parties=parties,
            references=references,
            dates=dates,
            terms=terms,
            lines=lines,
            allowances_charges=self.allowances(root),
            taxes=self.taxes(root),
            total_amount=total,
            amount_subject_to_discount=self.amount(totals, "cbc:LineExtensionAmount"),
            line_count=len(lines),
            notes=self.notes(root),
            source=self.envelope(seller, buyer),
        )

    def invoice_line(self, line: etree._Element, qty_tag: str) -> LineItem:
        """One ``cac:InvoiceLine`` / ``cac:CreditNoteLine`` as a LineItem."""
        item = self.find(line, "cac:Item")
        quantity = self.find(line, qty_tag)
        references = []
        po_line = self.text(line, "cac:OrderLineReference/cbc:LineID")
        if po_line:
            references.append(Reference(qualifier="LI", value=po_line))
        tax_category = self.find(item, "cac:ClassifiedTaxCategory")
        taxes = []
        if tax_category is not None:
            taxes.append(
                Tax(type_code=self.text(tax_category, "cbc:ID"), percent=self.amount(tax_category, "cbc:Percent"))
            )
        return LineItem(
            line_number=self.text(line, "cbc:ID"),
            quantity=self.c.decimal(quantity.text if quantity is not None else None, qty_tag, quantity),
            unit_of_measure=attr(quantity, "unitCode"),
            unit_price=self.amount(line, "cac:Price/cbc:PriceAmount"),
            product_ids=self.product_ids(item),
            description=self.item_description(item),
            references=references + [Reference(qualifier="L1", description=n) for n in self.notes(line)],
            allowances_charges=self.allowances(line),
            taxes=taxes,
            amount=self.amount(line, "cbc:LineExtensionAmount"),
        )


def read_ubl(root: etree._Element) -> XmlResult:
    """Translate a parsed UBL 2.x document into canonical documents and issues."""
    name = etree.QName(root).localname
    result = XmlResult(format="ubl", document_type=name)
    target = UBL_DOCUMENTS.get(name)
    if target is None:
        result.issues.append(
            error(
                "xml.unsupported_document",
                f"UBL {name} is not translated (supported: Order, DespatchAdvice, Invoice, CreditNote)",
                value=name,
                position=line_of(root),
            )
        )
        return result
    reader = _UblReader(root)
    document: PurchaseOrder | ShipNotice | Invoice | None
    if target == "purchase_order":
        document = reader.order()
    elif target == "ship_notice":
        document = reader.despatch_advice()
    else:
        document = reader.invoice()
    if document is not None:
        result.documents.append(document)
    result.issues.extend(reader.c.issues)
    return result
