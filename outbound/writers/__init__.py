"""Pure X12 writers: canonical documents + envelope parameters in, interchange bytes out."""

from outbound.writers.acks import ACK_999_VERSION, group_ack_set, ta1_segment, write_functional_ack
from outbound.writers.invoice import invoice_segments, write_invoice, write_invoices
from outbound.writers.purchase_order import purchase_order_segments, write_purchase_order, write_purchase_orders
from outbound.writers.ship_notice import (
    STRUCTURE_CODES,
    Structure,
    ship_notice_segments,
    write_ship_notice,
    write_ship_notices,
)
from outbound.writers.sscc import check_sscc, is_valid_sscc, make_sscc, sscc_check_digit
from outbound.writers.x12 import (
    FunctionalGroup,
    Segment,
    SegmentWriter,
    TransactionSet,
    WriterError,
    X12Envelope,
    format_decimal,
    format_implied,
    write_interchange,
)

__all__ = [
    "ACK_999_VERSION",
    "STRUCTURE_CODES",
    "FunctionalGroup",
    "Segment",
    "SegmentWriter",
    "Structure",
    "TransactionSet",
    "WriterError",
    "X12Envelope",
    "check_sscc",
    "format_decimal",
    "format_implied",
    "group_ack_set",
    "invoice_segments",
    "is_valid_sscc",
    "make_sscc",
    "purchase_order_segments",
    "ship_notice_segments",
    "sscc_check_digit",
    "ta1_segment",
    "write_functional_ack",
    "write_interchange",
    "write_invoice",
    "write_invoices",
    "write_purchase_order",
    "write_purchase_orders",
    "write_ship_notice",
    "write_ship_notices",
]
