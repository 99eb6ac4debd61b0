"""850 purchase order writer: canonical PurchaseOrder -> BEG ... PO1 loops ... CTT/AMT.

Used to produce partner input for tests and benchmarks, and for routing orders on.

Rules:
- Header: BEG (purpose, default 00; type, default SA; PO number; release; date, else the envelope
  date; contract), CUR*BY, REF, SAC, ITD, DTM, TD5, TXI, N9*L1 + MSG per note, N1 loops (with PER
  for the parties' contacts). There is no canonical FOB or header contact, so no FOB/header PER.
- Lines: PO1*line*quantity*unit*price*basis*pairs (at most 10), PID, PO4, REF, SAC, DTM, TXI.
- Summary: CTT*lines*hash total, AMT*TT*total. CTT01/CTT02 are ``line_count``/``hash_total``
  when the order states them (so tests can write what a partner sent, wrong counts included),
  else the number of PO1 segments and the sum of PO102 quantities.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from outbound.writers._segments import (
    dtm_segments,
    itd_segment,
    n1_loops,
    pid_segment,
    real,
    ref_segments,
    required,
    sac_segment,
    td5_segment,
    txi_segment,
)
from outbound.writers.invoice import item_line, po4_segment
from outbound.writers.x12 import Segment, TransactionSet, X12Envelope, format_date, write_interchange
from parsers.canonical import PurchaseOrder

_PO1_PAIRS = 10


def purchase_order_segments(order: PurchaseOrder, *, date: dt.date) -> TransactionSet:
    """The 850 transaction set (ST first, no SE). ``date`` fills BEG05 when the order has none."""
    segments: list[Segment] = [
        ["ST", "850"],
        [
            "BEG",
            order.purpose_code or "00",
            order.order_type or "SA",
            required(order.po_number, "BEG03", "PO number"),
            order.release_number,
            format_date(order.order_date or date),
            order.contract_number,
        ],
    ]
    if order.currency:
        segments.append(["CUR", "BY", order.currency])
    segments.extend(ref_segments(order.references))
    segments.extend(sac_segment(ac) for ac in order.allowances_charges)
    segments.extend(itd_segment(t) for t in order.terms)
    segments.extend(dtm_segments(order.dates))
    if order.carrier is not None:
        segments.append(td5_segment(order.carrier))
    segments.extend(txi_segment(t) for t in order.taxes)
    notes = [n for n in order.notes if n]
    if notes:
        segments.append(["N9", "L1", "NOTES"])
        segments.extend(["MSG", note] for note in notes)
    segments.extend(n1_loops(order.parties))
    hash_total = Decimal(0)
    for line in order.lines:
        segments.append(item_line("PO1", line, _PO1_PAIRS))
        hash_total += line.quantity or 0
        if line.description:
            segments.append(pid_segment(line.description))
        po4 = po4_segment(line)
        if po4 is not None:
            segments.append(po4)
        segments.extend(ref_segments(line.references))
        segments.extend(sac_segment(ac) for ac in line.allowances_charges)
        segments.extend(dtm_segments(line.dates))
        segments.extend(txi_segment(t) for t in line.taxes)
    line_count = order.line_count if order.line_count is not None else len(order.lines)
    stated_hash = order.hash_total if order.hash_total is not None else hash_total
    segments.append(["CTT", str(line_count), real(stated_hash, "CTT02") if order.lines else None])
    if order.total_amount is not None:
        segments.append(["AMT", "TT", real(order.total_amount, "AMT02")])
    return segments


def write_purchase_orders(orders: Sequence[PurchaseOrder], envelope: X12Envelope, st_numbers: Sequence[int]) -> bytes:
    """One interchange with one GS*PO group holding an 850 per order."""
    sets = [purchase_order_segments(po, date=envelope.date) for po in orders]
    return write_interchange(envelope, [("PO", sets)], st_numbers)


def write_purchase_order(order: PurchaseOrder, envelope: X12Envelope, st_number: int = 1) -> bytes:
    """One interchange carrying one 850."""
    return write_purchase_orders([order], envelope, [st_number])
