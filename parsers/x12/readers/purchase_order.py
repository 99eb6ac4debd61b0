"""850 purchase order -> ``PurchaseOrder``: BEG, CUR, REF, PER, ITD, DTM, TD5, N9/MSG, N1 loops, PO1 lines, CTT, AMT."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from parsers.canonical import PurchaseOrder
from parsers.issues import Issue
from parsers.x12.readers._common import (
    PartyBuilder,
    allowance_charge,
    carrier_td5,
    date,
    date_ref,
    dec,
    el,
    envelope,
    integer,
    opt,
    reference,
    tax,
    terms,
    validated,
)
from parsers.x12.readers.totals import check_totals
from parsers.x12.stream import TransactionSet

_HEADER, _PARTY, _LINE, _SUMMARY = range(4)
_PARTY_DETAILS = frozenset({"N2", "N3", "N4", "PER"})


def read_850(ts: TransactionSet) -> tuple[PurchaseOrder, list[Issue]]:
    """Read an 850 into a PurchaseOrder, with the issues only the reader can see (CTT totals)."""
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
    ctx = _HEADER
    ctt_pos = 0
    po1_count = 0
    qty_sum = Decimal(0)
    details = _PARTY_DETAILS

    for pos, seg in enumerate(ts.segments, 1):
        sid = seg[0]
        if party is not None:
            if sid in details and party.add(seg):
                continue
            if sid in ("PO1", "N1", "CTT", "SE"):  # the party ends here (kept unless it sat inside a line)
                if ctx != _LINE:
                    parties.append(party.kwargs())
                party = None
        if sid == "PO1":  # the hot segment: elements read inline (no helper calls)
            ctx = _LINE
            po1_count += 1
            n = len(seg)
            qty = None
            if n > 2 and (v := seg[2].strip()):
                qty = dec(v)
                if qty is not None:
                    qty_sum += qty
            line = {"line_number": (seg[1].strip() or None) if n > 1 else None, "quantity": qty,
                    "unit_of_measure": (seg[3].strip() or None) if n > 3 else None,
                    "unit_price": dec(v) if n > 4 and (v := seg[4].strip()) else None,
                    "price_basis": (seg[5].strip() or None) if n > 5 else None}
            if n > 7:  # PO106..PO125: product ids by qualifier (empty lists are the models' defaults)
                ids = []
                for i in range(6, min(26, n - 1), 2):
                    if (q := seg[i].strip()) and (v := seg[i + 1].strip()):
                        ids.append({"qualifier": q, "value": v})
                if ids:
                    line["product_ids"] = ids
            lines.append(line)
        elif sid == "PID":
            desc = seg[5].strip() if len(seg) > 5 else ""
            if desc and line is not None:
                old = line.get("description")
                line["description"] = f"{old} {desc}" if old else desc
        elif sid == "N1":
            party = PartyBuilder(seg)
        elif sid == "BEG":
            head.update(po_number=el(seg, 3), purpose_code=opt(seg, 1), order_type=opt(seg, 2),
                        release_number=opt(seg, 4), order_date=date(opt(seg, 5)), contract_number=opt(seg, 6))
        elif sid == "REF":
            r = reference(seg)
            if r is not None and party is None:
                (line.setdefault("references", []) if line is not None else refs).append(r)
        elif sid == "DTM":
            d = date_ref(seg)
            if d is not None and party is None:
                (line.setdefault("dates", []) if line is not None else dates).append(d)
        elif sid == "SCH" and line is not None:
            q = el(seg, 5)
            if q:
                line.setdefault("dates", []).append(date_ref(["DTM", q, el(seg, 6), el(seg, 7)]))
        elif sid == "PO4" and line is not None:
            line.update(pack=dec(opt(seg, 1)), size=dec(opt(seg, 2)), size_unit=opt(seg, 3))
        elif sid == "SAC":
            ac = allowance_charge(seg)
            if ac is not None:
                (line.setdefault("allowances_charges", []) if line is not None else sacs).append(ac)
        elif sid == "TXI":
            (line.setdefault("taxes", []) if line is not None else taxes).append(tax(seg))
        elif sid == "CUR" and line is None:
            head["currency"] = opt(seg, 2)
        elif sid == "ITD":
            pay.append(terms(seg))
        elif sid == "TD5" and line is None and "carrier" not in head:
            head["carrier"] = carrier_td5(seg)
        elif sid == "N9":
            r = reference(seg)
            if r is not None and line is None:
                refs.append(r)
        elif sid in ("MSG", "NTE"):
            text = opt(seg, 1 if sid == "MSG" else 2)
            if text:
                notes.append(text)
        elif sid == "CTT":
            line = None
            ctx = _SUMMARY
            ctt_pos = pos
            head.update(line_count=integer(opt(seg, 1)), hash_total=dec(opt(seg, 2)))
        elif sid == "AMT":
            if line is not None:
                line["amount"] = dec(opt(seg, 2))
            elif el(seg, 1) == "TT" or (ctx == _SUMMARY and "total_amount" not in head):
                head["total_amount"] = dec(opt(seg, 2))
        elif sid == "SE":
            line = None
    if party is not None and ctx != _LINE:
        parties.append(party.kwargs())
    head.setdefault("po_number", "")
    head.update(references=refs, dates=dates, terms=pay, parties=parties, allowances_charges=sacs, taxes=taxes,
                notes=notes, lines=lines, source=envelope(ts))
    doc = validated(PurchaseOrder, head)
    issues = check_totals(head.get("line_count"), head.get("hash_total"), po1_count, qty_sum, ctt_pos, "PO1")
    return doc, issues

