"""810 invoice -> ``Invoice``: BIG, CUR, REF, N1 loops, ITD, DTM, IT1 lines, PID, SAC, TXI, TDS, CAD, CTT."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from parsers.canonical import Invoice
from parsers.issues import Issue
from parsers.x12.readers._common import (
    PartyBuilder,
    allowance_charge,
    date,
    date_ref,
    dec,
    el,
    envelope,
    implied,
    integer,
    opt,
    product_ids,
    reference,
    tax,
    terms,
    validated,
)
from parsers.x12.readers.totals import check_totals
from parsers.x12.stream import TransactionSet


def read_810(ts: TransactionSet) -> tuple[Invoice, list[Issue]]:
    """Read an 810 into an Invoice, with the issues only the reader can see (CTT totals)."""
    head: dict[str, Any] = {}
    refs: list[dict[str, Any]] = []
    dates: list[dict[str, Any]] = []
    pay: list[dict[str, Any]] = []
    parties: list[dict[str, Any]] = []
    sacs: list[dict[str, Any]] = []
    taxes: list[dict[str, Any]] = []
    notes: list[str] = []
    lines: list[dict[str, Any]] = []
    line: dict[str, Any] | None = None
    party: PartyBuilder | None = None
    in_line_party = False
    ctt_pos = 0
    it1_count = 0
    qty_sum = Decimal(0)

    def close_party() -> None:
        nonlocal party
        if party is not None and not in_line_party:
            parties.append(party.kwargs())
        party = None

    def close_line() -> None:
        nonlocal line
        if line is not None:
            lines.append(line)
            line = None

    for pos, seg in enumerate(ts.segments, 1):
        sid = seg[0]
        if party is not None and sid in ("N2", "N3", "N4", "PER") and party.add(seg):
            continue
        if party is not None and sid == "REF":
            continue  # references of a party: Party has no place for them
        if sid == "IT1":
            close_party()
            close_line()
            it1_count += 1
            qty = dec(opt(seg, 2))
            if qty is not None:
                qty_sum += qty
            line = {"line_number": opt(seg, 1), "quantity": qty, "unit_of_measure": opt(seg, 3),
                    "unit_price": dec(opt(seg, 4)), "price_basis": opt(seg, 5), "product_ids": product_ids(seg, 6),
                    "dates": [], "references": [], "allowances_charges": [], "taxes": []}
        elif sid == "N1":
            close_party()
            in_line_party = line is not None
            party = PartyBuilder(seg)
        elif sid == "BIG":
            head.update(invoice_date=date(opt(seg, 1)), invoice_number=el(seg, 2), po_date=date(opt(seg, 3)),
                        po_number=opt(seg, 4), transaction_type=opt(seg, 7), purpose_code=opt(seg, 8))
        elif sid == "TDS":
            close_party()
            close_line()
            head.update(total_amount=implied(opt(seg, 1)), amount_subject_to_discount=implied(opt(seg, 2)),
                        discounted_amount_due=implied(opt(seg, 3)))
        elif sid == "REF":
            r = reference(seg)
            if r is not None:
                (line["references"] if line is not None else refs).append(r)
        elif sid == "DTM":
            d = date_ref(seg)
            if d is not None:
                (line["dates"] if line is not None else dates).append(d)
        elif sid == "PID":
            desc = opt(seg, 5)
            if desc and line is not None:
                line["description"] = f"{line['description']} {desc}" if line.get("description") else desc
        elif sid == "PO4" and line is not None:
            line.update(pack=dec(opt(seg, 1)), size=dec(opt(seg, 2)), size_unit=opt(seg, 3))
        elif sid == "SAC":
            close_party()
            ac = allowance_charge(seg)
            if ac is not None:
                (line["allowances_charges"] if line is not None else sacs).append(ac)
        elif sid == "TXI":
            (line["taxes"] if line is not None else taxes).append(tax(seg))
        elif sid == "CUR" and line is None:
            head["currency"] = opt(seg, 2)
        elif sid == "ITD":
            pay.append(terms(seg))
        elif sid == "CAD" and "carrier" not in head:
            head["carrier"] = {"transport_method": opt(seg, 1), "id_qualifier": "2" if opt(seg, 4) else None,
                               "id": opt(seg, 4), "routing": opt(seg, 5)}
        elif sid == "NTE":
            text = opt(seg, 2)
            if text:
                notes.append(text)
        elif sid == "AMT" and line is not None:
            line["amount"] = dec(opt(seg, 2))
        elif sid == "CTT":
            close_party()
            close_line()
            ctt_pos = pos
            head["line_count"] = integer(opt(seg, 1))
            hash_total = dec(opt(seg, 2))
            if hash_total is not None:
                head["_hash"] = hash_total
    close_party()
    close_line()
    hash_total = head.pop("_hash", None)
    head.setdefault("invoice_number", "")
    head.update(references=refs, dates=dates, terms=pay, parties=parties, allowances_charges=sacs, taxes=taxes,
                notes=notes, lines=lines, source=envelope(ts))
    doc = validated(Invoice, head)
    issues = check_totals(head.get("line_count"), hash_total, it1_count, qty_sum, ctt_pos, "IT1")
    return doc, issues
