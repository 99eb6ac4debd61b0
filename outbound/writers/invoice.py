"""810 invoice writer: canonical Invoice -> BIG, NTE, CUR, REF, N1, ITD, DTM, IT1 loops, TDS, TXI, CAD, SAC, CTT.

Rules:
- BIG01 is the invoice date (else the envelope date), BIG02 the number, BIG03/BIG04 PO date and
  number, BIG07 the transaction type (CR credit memo, DI debit invoice), BIG08 the purpose code.
- Notes are NTE*GEN; the currency is CUR*SE (the seller's currency).
- IT1*line*quantity*unit*price*basis*qualifier/value pairs (at most 10: IT106..IT125), then per
  line TXI, PID, PO4, REF, DTM, SAC. ``LineItem.amount`` has no IT1 element and is not written.
- TDS01..TDS03 and SAC05 are N2: the amount in cents, no decimal point; an amount with more than
  two decimals is refused, never rounded. TXI02 is R (a plain decimal).
- The carrier goes in CAD (CAD01 method, CAD04 SCAC, CAD05 routing): 4010's 810 has no TD5 in
  its header. CTT01 is the number of IT1 segments (recomputed, ``line_count`` is not written).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from outbound.writers._segments import (
    cents,
    date_or_none,
    dtm_segments,
    itd_segment,
    n1_loops,
    pid_segment,
    product_id_elements,
    real,
    ref_segments,
    required,
    sac_segment,
    txi_segment,
)
from outbound.writers.x12 import Segment, TransactionSet, WriterError, X12Envelope, format_date, write_interchange
from parsers.canonical import Carrier, Invoice, LineItem

_IT1_PAIRS = 10


def item_line(tag: str, line: LineItem, max_pairs: int) -> Segment:
    """IT1 / PO1: line number, quantity, unit, unit price, price basis, product id pairs."""
    where = f"line {line.line_number or '?'}"
    if line.quantity is not None and not line.unit_of_measure:
        raise WriterError(f"{where} quantity {line.quantity} has no unit of measure", field=f"{tag}03")
    if line.unit_price is not None and line.quantity is None:
        raise WriterError(f"{where} has a unit price but no quantity", field=f"{tag}02")
    if line.price_basis and line.unit_price is None:
        raise WriterError(f"{where} has a price basis but no unit price", field=f"{tag}04")
    if not line.product_ids:
        raise WriterError(f"{where} has no product id", field=f"{tag}06")
    return [
        tag,
        line.line_number,
        real(line.quantity, f"{tag}02"),
        line.unit_of_measure,
        real(line.unit_price, f"{tag}04"),
        line.price_basis,
        *product_id_elements(line.product_ids, max_pairs, f"{tag}06"),
    ]


def po4_segment(line: LineItem) -> Segment | None:
    """PO4*pack*size*unit when the line states a pack or a size."""
    if line.pack is None and line.size is None:
        return None
    if line.size is not None and not line.size_unit:
        raise WriterError(f"line {line.line_number or '?'} size {line.size} has no unit", field="PO403")
    unit = line.size_unit if line.size is not None else None
    return ["PO4", real(line.pack, "PO401"), real(line.size, "PO402"), unit]


def _cad(carrier: Carrier) -> Segment:
    if not carrier.id and not carrier.routing:
        raise WriterError("carrier needs a SCAC or a routing", field="CAD04")
    return ["CAD", carrier.transport_method, None, None, carrier.id, carrier.routing]


def invoice_segments(invoice: Invoice, *, date: dt.date) -> TransactionSet:
    """The 810 transaction set (ST first, no SE). ``date`` fills BIG01 when the invoice has none."""
    segments: list[Segment] = [
        ["ST", "810"],
        [
            "BIG",
            format_date(invoice.invoice_date or date),
            required(invoice.invoice_number, "BIG02", "invoice number"),
            date_or_none(invoice.po_date),
            invoice.po_number,
            None,
            None,
            invoice.transaction_type,
            invoice.purpose_code,
        ],
    ]
    segments.extend(["NTE", "GEN", note] for note in invoice.notes if note)
    if invoice.currency:
        segments.append(["CUR", "SE", invoice.currency])
    segments.extend(ref_segments(invoice.references))
    segments.extend(n1_loops(invoice.parties))
    segments.extend(itd_segment(t) for t in invoice.terms)
    segments.extend(dtm_segments(invoice.dates))
    for line in invoice.lines:
        segments.append(item_line("IT1", line, _IT1_PAIRS))
        segments.extend(txi_segment(t) for t in line.taxes)
        if line.description:
            segments.append(pid_segment(line.description))
        po4 = po4_segment(line)
        if po4 is not None:
            segments.append(po4)
        segments.extend(ref_segments(line.references))
        segments.extend(dtm_segments(line.dates))
        segments.extend(sac_segment(ac) for ac in line.allowances_charges)
    if invoice.total_amount is None:
        raise WriterError("the invoice total is required", field="TDS01")
    segments.append([
        "TDS",
        cents(invoice.total_amount, "TDS01"),
        cents(invoice.amount_subject_to_discount, "TDS02"),
        cents(invoice.discounted_amount_due, "TDS03"),
    ])
    segments.extend(txi_segment(t) for t in invoice.taxes)
    if invoice.carrier is not None:
        segments.append(_cad(invoice.carrier))
    segments.extend(sac_segment(ac) for ac in invoice.allowances_charges)
    segments.append(["CTT", str(len(invoice.lines))])
    return segments


def write_invoices(invoices: Sequence[Invoice], envelope: X12Envelope, st_numbers: Sequence[int]) -> bytes:
    """One interchange with one GS*IN group holding an 810 per invoice."""
    sets = [invoice_segments(inv, date=envelope.date) for inv in invoices]
    return write_interchange(envelope, [("IN", sets)], st_numbers)


def write_invoice(invoice: Invoice, envelope: X12Envelope, st_number: int = 1) -> bytes:
    """One interchange carrying one 810."""
    return write_invoices([invoice], envelope, [st_number])
