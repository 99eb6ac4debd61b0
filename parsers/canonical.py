"""Canonical business documents: what every inbound format translates to and every writer reads.

Rules:
- Money, quantities and percentages are ``Decimal``; never ``float``.
- Dates are ``datetime.date`` (and ``datetime.time`` where a format carries a time).
- Product identifiers are kept by qualifier (``ProductId``), so nothing the partner sent is lost
  even when we have no dedicated field for it.
- ``source`` records the envelope a document came in (or goes out) in; it is ``None`` for
  documents built by the ERP side before they are enveloped.
- Models are plain data: no I/O, no validation against partner profiles (that is ``partners``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    """Base for canonical models: strict about unknown fields, friendly to JSON."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, ser_json_inf_nan="constants")


class DocumentKind(StrEnum):
    """The kinds of document the gateway understands."""

    PURCHASE_ORDER = "purchase_order"
    SHIP_NOTICE = "ship_notice"
    INVOICE = "invoice"
    FUNCTIONAL_ACK = "functional_ack"


# --------------------------------------------------------------------------- shared pieces


class SourceEnvelope(_Model):
    """Where a document sat in its interchange: ids and control numbers (X12) or XML/CSV origin."""

    format: Literal["x12", "cxml", "ubl", "csv", "json", "xml"] = "x12"  # xml: in-house XML
    sender_qualifier: str | None = None
    sender_id: str | None = None
    receiver_qualifier: str | None = None
    receiver_id: str | None = None
    interchange_control_number: str | None = None  # ISA13
    interchange_date: dt.date | None = None  # ISA09
    interchange_time: dt.time | None = None  # ISA10
    usage_indicator: str | None = None  # ISA15: P production, T test
    group_sender_id: str | None = None  # GS02
    group_receiver_id: str | None = None  # GS03
    functional_id_code: str | None = None  # GS01 (PO, SH, IN, FA)
    group_control_number: str | None = None  # GS06
    version: str | None = None  # GS08, e.g. 004010, 004010VICS, 005010
    transaction_set_id: str | None = None  # ST01 (850, 856, 810, 997, 999)
    transaction_set_control_number: str | None = None  # ST02
    implementation_reference: str | None = None  # ST03 (5010)
    payload_id: str | None = None  # cXML payloadID / UBL ID / CSV file key


class Address(_Model):
    """A postal address (N3/N4, cXML PostalAddress, UBL PostalAddress)."""

    lines: list[str] = Field(default_factory=list)
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


class Contact(_Model):
    """A named contact with communication numbers (PER)."""

    function_code: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    fax: str | None = None


class Party(_Model):
    """A party (N1 loop): role by entity code (ST ship-to, BT bill-to, SF ship-from, ...)."""

    role: str  # N101 entity identifier code: ST, BT, BY, SE, SF, VN, RE, RI, SU, ...
    name: str | None = None
    id_qualifier: str | None = None  # N103: 1 DUNS, 9 DUNS+4, 92 buyer-assigned, UL GLN, ...
    id: str | None = None  # N104
    address: Address | None = None
    contacts: list[Contact] = Field(default_factory=list)


class Reference(_Model):
    """A reference number by qualifier (REF): DP department, IA vendor number, BM bill of lading..."""

    qualifier: str
    value: str | None = None
    description: str | None = None


class DateRef(_Model):
    """A qualified date/time (DTM): 002 delivery requested, 011 shipped, 017 estimated delivery..."""

    qualifier: str
    date: dt.date | None = None
    time: dt.time | None = None


class ProductId(_Model):
    """A product identifier by qualifier: UP (UPC), VN/VP (vendor part), BP/IN (buyer part), EN/UK (GTIN)..."""

    qualifier: str
    value: str


class AllowanceCharge(_Model):
    """An allowance or a charge (SAC / ITA / cXML Modifications / UBL AllowanceCharge)."""

    indicator: Literal["A", "C", "N"]  # A allowance, C charge, N no allowance or charge
    code: str | None = None  # SAC02, e.g. D240 freight, C310 discount
    amount: Decimal | None = None
    percent: Decimal | None = None
    rate: Decimal | None = None
    quantity: Decimal | None = None
    description: str | None = None


class Tax(_Model):
    """A tax amount (TXI / cXML Tax / UBL TaxTotal)."""

    type_code: str | None = None
    amount: Decimal | None = None
    percent: Decimal | None = None


class PaymentTerms(_Model):
    """Terms of sale (ITD): basis, discount percent/days, net days."""

    type_code: str | None = None
    basis_date_code: str | None = None
    discount_percent: Decimal | None = None
    discount_due_date: dt.date | None = None
    discount_days: int | None = None
    net_due_date: dt.date | None = None
    net_days: int | None = None
    discount_amount: Decimal | None = None
    description: str | None = None


class Carrier(_Model):
    """Carrier details (TD5 / cXML CarrierIdentifier / UBL Carrier)."""

    routing_sequence: str | None = None
    id_qualifier: str | None = None  # TD502: 2 = SCAC
    id: str | None = None  # SCAC
    transport_method: str | None = None  # TD504: M motor, U parcel, ...
    routing: str | None = None  # TD505 free text
    service_level: str | None = None


class LineItem(_Model):
    """An order or invoice line (PO1 / IT1 / cXML ItemOut / UBL OrderLine)."""

    line_number: str | None = None
    quantity: Decimal | None = None
    unit_of_measure: str | None = None  # EA, CA, PK, LB, ...
    unit_price: Decimal | None = None
    price_basis: str | None = None  # PO105 / IT105: PE, CP, ...
    product_ids: list[ProductId] = Field(default_factory=list)
    description: str | None = None
    pack: Decimal | None = None  # PO401 inner packs per outer
    size: Decimal | None = None  # PO402
    size_unit: str | None = None
    dates: list[DateRef] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    allowances_charges: list[AllowanceCharge] = Field(default_factory=list)
    taxes: list[Tax] = Field(default_factory=list)
    amount: Decimal | None = None  # extended amount when the partner states it

    def product_id(self, *qualifiers: str) -> str | None:
        """The first product id whose qualifier is one of ``qualifiers`` (e.g. ``"UP"``, ``"VN"``)."""
        for pid in self.product_ids:
            if pid.qualifier in qualifiers:
                return pid.value
        return None


# --------------------------------------------------------------------------- purchase order


class PurchaseOrder(_Model):
    """A purchase order (850, cXML OrderRequest, UBL Order, CSV)."""

    kind: Literal["purchase_order"] = "purchase_order"
    po_number: str
    purpose_code: str | None = None  # BEG01: 00 original, 01 cancel, 05 replace, 07 duplicate
    order_type: str | None = None  # BEG02: SA stand-alone, NE new, RL release, ...
    release_number: str | None = None
    order_date: dt.date | None = None
    currency: str | None = None
    contract_number: str | None = None
    parties: list[Party] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    dates: list[DateRef] = Field(default_factory=list)
    terms: list[PaymentTerms] = Field(default_factory=list)
    carrier: Carrier | None = None
    allowances_charges: list[AllowanceCharge] = Field(default_factory=list)
    taxes: list[Tax] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    lines: list[LineItem] = Field(default_factory=list)
    total_amount: Decimal | None = None  # AMT*TT or cXML Total
    line_count: int | None = None  # CTT01 as sent
    hash_total: Decimal | None = None  # CTT02 as sent
    source: SourceEnvelope | None = None

    @property
    def business_key(self) -> str:
        """The number that identifies this order to the business (dedup key)."""
        return self.po_number


# --------------------------------------------------------------------------- ship notice


class PackLevel(_Model):
    """A pack (HL P or T): carton or pallet with its SSCC-18 and the items in it."""

    hl_code: Literal["P", "T"] = "P"
    sscc: str | None = None  # MAN*GM
    marks: list[Reference] = Field(default_factory=list)  # other MAN qualifiers: CP, UC, ...
    weight: Decimal | None = None
    weight_unit: str | None = None
    packaging_code: str | None = None  # PO4 / TD1 packaging
    items: list[ShippedItem] = Field(default_factory=list)
    packs: list[PackLevel] = Field(default_factory=list)  # cartons on a tare (pallet)


class ShippedItem(_Model):
    """An item shipped (HL I: LIN + SN1 + PO4 + PID)."""

    line_number: str | None = None  # LIN01 or the PO line it fulfils
    product_ids: list[ProductId] = Field(default_factory=list)
    quantity_shipped: Decimal | None = None
    unit_of_measure: str | None = None
    quantity_ordered: Decimal | None = None
    ordered_unit_of_measure: str | None = None
    description: str | None = None
    pack: Decimal | None = None  # PO401 inner packs per outer
    size: Decimal | None = None  # PO402
    size_unit: str | None = None  # PO403
    references: list[Reference] = Field(default_factory=list)
    dates: list[DateRef] = Field(default_factory=list)

    def product_id(self, *qualifiers: str) -> str | None:
        """The first product id whose qualifier is one of ``qualifiers``."""
        for pid in self.product_ids:
            if pid.qualifier in qualifiers:
                return pid.value
        return None


class OrderLevel(_Model):
    """An order within a shipment (HL O: PRF and what was packed for that PO)."""

    po_number: str | None = None  # PRF01
    release_number: str | None = None
    po_date: dt.date | None = None  # PRF04
    invoice_number: str | None = None
    references: list[Reference] = Field(default_factory=list)
    parties: list[Party] = Field(default_factory=list)
    packs: list[PackLevel] = Field(default_factory=list)
    items: list[ShippedItem] = Field(default_factory=list)  # items directly under the order


class ShipNotice(_Model):
    """A ship notice / manifest (856, cXML ShipNoticeRequest, UBL DespatchAdvice, CSV)."""

    kind: Literal["ship_notice"] = "ship_notice"
    shipment_id: str  # BSN02
    purpose_code: str | None = None  # BSN01: 00 original, 01 cancel, 05 replace, 07 duplicate
    notice_date: dt.date | None = None  # BSN03
    notice_time: dt.time | None = None  # BSN04
    structure_code: str | None = None  # BSN05: 0001 S/O/P/I, 0002 S/O/T/P/I (pick and pack), 0004 S/O/I
    ship_date: dt.date | None = None  # DTM*011
    estimated_delivery_date: dt.date | None = None  # DTM*017 / 067
    parties: list[Party] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)  # BM bill of lading, CN pro number, ...
    dates: list[DateRef] = Field(default_factory=list)
    carrier: Carrier | None = None
    tracking_numbers: list[str] = Field(default_factory=list)
    packaging_code: str | None = None  # TD101
    lading_quantity: Decimal | None = None  # TD102
    gross_weight: Decimal | None = None  # TD107
    weight_unit: str | None = None  # TD108
    orders: list[OrderLevel] = Field(default_factory=list)
    line_count: int | None = None  # CTT01 as sent
    source: SourceEnvelope | None = None

    @property
    def business_key(self) -> str:
        """The number that identifies this shipment to the business (dedup key)."""
        return self.shipment_id

    @property
    def po_numbers(self) -> list[str]:
        """The purchase orders this shipment fulfils, in order, without repeats."""
        seen: list[str] = []
        for order in self.orders:
            if order.po_number and order.po_number not in seen:
                seen.append(order.po_number)
        return seen


# --------------------------------------------------------------------------- invoice


class Invoice(_Model):
    """An invoice (810, cXML InvoiceDetailRequest, UBL Invoice)."""

    kind: Literal["invoice"] = "invoice"
    invoice_number: str  # BIG02
    invoice_date: dt.date | None = None  # BIG01
    po_number: str | None = None  # BIG04
    po_date: dt.date | None = None  # BIG03
    purpose_code: str | None = None  # BIG07 transaction type / BIG08 purpose
    transaction_type: str | None = None  # BIG07: CR credit memo, DI debit invoice, ...
    currency: str | None = None
    parties: list[Party] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    dates: list[DateRef] = Field(default_factory=list)
    terms: list[PaymentTerms] = Field(default_factory=list)
    carrier: Carrier | None = None
    lines: list[LineItem] = Field(default_factory=list)
    allowances_charges: list[AllowanceCharge] = Field(default_factory=list)
    taxes: list[Tax] = Field(default_factory=list)
    total_amount: Decimal | None = None  # TDS01 (decimal applied)
    amount_subject_to_discount: Decimal | None = None  # TDS02
    discounted_amount_due: Decimal | None = None  # TDS03
    line_count: int | None = None  # CTT01 as sent
    notes: list[str] = Field(default_factory=list)
    source: SourceEnvelope | None = None

    @property
    def business_key(self) -> str:
        """The number that identifies this invoice to the business (dedup key)."""
        return self.invoice_number


# --------------------------------------------------------------------------- functional ack


class AckStatus(StrEnum):
    """Acknowledgment codes (AK5/AK9/IK5, TA104)."""

    ACCEPTED = "A"
    ACCEPTED_WITH_ERRORS = "E"
    PARTIALLY_ACCEPTED = "P"
    REJECTED = "R"
    MESSAGE_AUTHENTICATION_FAILED = "M"
    WHOLE_FUNCTIONAL_GROUP_REJECTED = "W"
    REJECTED_AFTER_DECRYPTION = "X"


class ElementNote(_Model):
    """An error in one element (AK4 / IK4): position, code and the bad value, if copied."""

    position: int  # AK401-1 / IK401-1
    component_position: int | None = None  # AK401-2
    repetition_position: int | None = None  # IK401-3 (5010)
    reference_number: str | None = None  # AK402 data element reference number
    error_code: str  # AK403 / IK403
    bad_value: str | None = None  # AK404 / IK404


class SegmentNote(_Model):
    """An error in one segment (AK3 / IK3) with its element errors."""

    segment_id: str
    position: int  # position in the transaction set, ST = 1
    loop_id: str | None = None
    error_code: str | None = None  # AK304 / IK304
    elements: list[ElementNote] = Field(default_factory=list)
    context: list[str] = Field(default_factory=list)  # CTX (999)


class TransactionSetAck(_Model):
    """The response for one transaction set (AK2..AK5 / IK2..IK5)."""

    transaction_set_id: str  # AK201
    control_number: str  # AK202
    implementation_reference: str | None = None  # AK203 (5010)
    status: AckStatus  # AK501 / IK501
    error_codes: list[str] = Field(default_factory=list)  # AK502..AK506 / IK502..
    segments: list[SegmentNote] = Field(default_factory=list)


class GroupAck(_Model):
    """The response for one functional group (AK1 + AK9)."""

    functional_id_code: str  # AK101
    group_control_number: str  # AK102
    version: str | None = None  # AK103 (5010)
    status: AckStatus  # AK901
    sets_included: int | None = None  # AK902
    sets_received: int | None = None  # AK903
    sets_accepted: int | None = None  # AK904
    error_codes: list[str] = Field(default_factory=list)  # AK905..AK909
    transaction_sets: list[TransactionSetAck] = Field(default_factory=list)


class InterchangeAck(_Model):
    """An interchange acknowledgment (TA1)."""

    control_number: str  # TA101
    interchange_date: dt.date | None = None  # TA102
    interchange_time: dt.time | None = None  # TA103
    status: AckStatus  # TA104: A, E, R
    note_code: str  # TA105: 000 no error, 001..031


class FunctionalAck(_Model):
    """A functional acknowledgment (997 or 999), or a TA1 interchange acknowledgment."""

    kind: Literal["functional_ack"] = "functional_ack"
    ack_type: Literal["997", "999", "TA1"]
    groups: list[GroupAck] = Field(default_factory=list)
    interchange_acks: list[InterchangeAck] = Field(default_factory=list)
    source: SourceEnvelope | None = None

    @property
    def business_key(self) -> str:
        """Acks have no business number; the acknowledged control numbers identify them."""
        parts = [f"{g.functional_id_code}:{g.group_control_number}" for g in self.groups]
        parts += [f"TA1:{t.control_number}" for t in self.interchange_acks]
        return ",".join(parts)


CanonicalDocument = Annotated[
    PurchaseOrder | ShipNotice | Invoice | FunctionalAck, Field(discriminator="kind")
]

PackLevel.model_rebuild()
OrderLevel.model_rebuild()


def all_models() -> dict[str, type[BaseModel]]:
    """The top-level canonical models by kind, for schema printing and JSON loading."""
    return {
        DocumentKind.PURCHASE_ORDER.value: PurchaseOrder,
        DocumentKind.SHIP_NOTICE.value: ShipNotice,
        DocumentKind.INVOICE.value: Invoice,
        DocumentKind.FUNCTIONAL_ACK.value: FunctionalAck,
    }
