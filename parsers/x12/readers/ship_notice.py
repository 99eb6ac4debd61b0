"""856 ship notice -> ``ShipNotice``: the HL tree built from HL01/HL02 ids (any order), S/O/T/P/I levels.

Rules:
- Every HL opens a level; the segments after it (until the next HL) belong to that level.
- The tree is built from HL01 (id) and HL02 (parent id), not from the order of the segments, so
  children may come before their parents. An unknown parent, a repeated HL01 or a cycle is an
  error on HL02 / HL01 (AK4 code 7) and the level hangs under the shipment.
- Items (I) may sit under an order (O), a pack (P) or a tare (T); packs under a tare or an order;
  an item or pack without any order ancestor goes into an order without a PO number.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from parsers.canonical import ShipNotice
from parsers.issues import Issue, Level, error
from parsers.x12.readers._common import (
    PartyBuilder,
    Segment,
    carrier_td5,
    date,
    date_ref,
    dec,
    el,
    envelope,
    integer,
    opt,
    reference,
    time,
    validated,
)
from parsers.x12.readers.totals import check_totals
from parsers.x12.stream import TransactionSet

_TRACKING_REFS = frozenset({"2I", "CN", "PRO"})


class _Level:
    """One HL with its segments, parent id and built children."""

    __slots__ = ("children", "code", "hl_id", "parent_id", "position", "segments")

    def __init__(self, hl: Segment, position: int) -> None:
        n = len(hl)
        self.hl_id = hl[1].strip() if n > 1 else ""
        self.parent_id = hl[2].strip() if n > 2 else ""
        self.code = hl[3].strip() if n > 3 else ""
        self.position = position
        self.segments: list[Segment] = []
        self.children: list[_Level] = []


def _hl_issue(msg: str, position: int, element: int, value: str, ref: str) -> Issue:
    return error("x12.hl.structure", msg, level=Level.ELEMENT, segment="HL", position=position, element=element,
                 x12_code="7", reference_number=ref, value=value[:99])


def _parties(segments: list[Segment]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    party: PartyBuilder | None = None
    for seg in segments:
        if seg[0] == "N1":
            if party is not None:
                out.append(party.kwargs())
            party = PartyBuilder(seg)
        elif party is not None and not party.add(seg) and seg[0] != "REF":
            out.append(party.kwargs())
            party = None
    if party is not None:
        out.append(party.kwargs())
    return out


def _own_refs(segments: list[Segment]) -> list[dict[str, Any]]:
    """REF segments of a level that are not inside its N1 loops."""
    out: list[dict[str, Any]] = []
    in_party = False
    for seg in segments:
        sid = seg[0]
        if sid == "N1":
            in_party = True
        elif sid == "REF" and not in_party:
            r = reference(seg)
            if r is not None:
                out.append(r)
        elif sid not in _PARTY_SEGMENTS:
            in_party = False
    return out


_PARTY_SEGMENTS = frozenset({"N2", "N3", "N4", "PER", "REF"})
_REF_OR_DTM = frozenset({"REF", "DTM"})
_HEADER_IDS = frozenset({"BSN", "CTT", "ST", "SE"})  # read by read_856 itself, not kept with a level


def _dates(segments: list[Segment]) -> list[dict[str, Any]]:
    return [d for seg in segments if seg[0] == "DTM" and (d := date_ref(seg)) is not None]


def _item(level: _Level) -> dict[str, Any]:
    """An item (I) level as ShippedItem fields (LIN and SN1 read inline: they are the hot segments)."""
    segments = level.segments
    f: dict[str, Any] = {}
    refs = False
    for seg in segments:
        sid = seg[0]
        if sid == "LIN":
            n = len(seg)
            f["line_number"] = (seg[1].strip() or None) if n > 1 else None
            ids = f.setdefault("product_ids", [])
            for i in range(2, min(32, n - 1), 2):  # LIN02..LIN31: product ids by qualifier
                if (q := seg[i].strip()) and (v := seg[i + 1].strip()):
                    ids.append({"qualifier": q, "value": v})
        elif sid == "SN1":
            n = len(seg)
            if not f.get("line_number"):
                f["line_number"] = (seg[1].strip() or None) if n > 1 else None
            f["quantity_shipped"] = dec(seg[2].strip()) if n > 2 else None
            f["unit_of_measure"] = (seg[3].strip() or None) if n > 3 else None
            f["quantity_ordered"] = dec(seg[5].strip()) if n > 5 else None
            f["ordered_unit_of_measure"] = (seg[6].strip() or None) if n > 6 else None
        elif sid == "PO4":
            f.update(pack=dec(opt(seg, 1)), size=dec(opt(seg, 2)), size_unit=opt(seg, 3))
        elif sid == "PID":
            desc = opt(seg, 5)
            if desc:
                f["description"] = f"{f['description']} {desc}" if f.get("description") else desc
        elif sid in _REF_OR_DTM:
            refs = True
    if refs:  # otherwise references and dates are left to the model's (empty) defaults
        f["references"] = _own_refs(segments)
        f["dates"] = _dates(segments)
    return f


def _pack(level: _Level, items: list[dict[str, Any]], packs: list[dict[str, Any]]) -> dict[str, Any]:
    """A pack (P) or tare (T) level as PackLevel fields."""
    f: dict[str, Any] = {"hl_code": "T" if level.code == "T" else "P", "items": items, "packs": packs}
    for seg in level.segments:
        sid = seg[0]
        if sid == "MAN":
            n = len(seg)
            q = seg[1].strip() if n > 1 else ""
            v = (seg[2].strip() or None) if n > 2 else None
            if q == "GM" and v and "sscc" not in f:
                f["sscc"] = v
            elif q:
                f.setdefault("marks", []).append({"qualifier": q, "value": v})
        elif sid == "PO4":
            f.update(packaging_code=opt(seg, 4) or f.get("packaging_code"), weight=dec(opt(seg, 6)),
                     weight_unit=opt(seg, 7))
        elif sid == "TD1":
            f["packaging_code"] = opt(seg, 1) or f.get("packaging_code")
            if opt(seg, 7):
                f.update(weight=dec(opt(seg, 7)), weight_unit=opt(seg, 8))
    return f


def _order(level: _Level | None) -> dict[str, Any]:
    f: dict[str, Any] = {"packs": [], "items": [], "references": [], "parties": []}
    if level is None:
        return f
    f["references"] = _own_refs(level.segments)
    f["parties"] = _parties(level.segments)
    for seg in level.segments:
        if seg[0] == "PRF":
            f.update(po_number=opt(seg, 1), release_number=opt(seg, 2), po_date=date(opt(seg, 4)))
    for r in f["references"]:
        if r["qualifier"] == "IV" and r["value"]:
            f["invoice_number"] = r["value"]
            break
    return f


def _tree_in_order(levels: list[_Level]) -> list[_Level] | None:
    """The roots of the HL tree when every parent comes before its children (the usual case), else None."""
    by_id: dict[str, _Level] = {}
    roots: list[_Level] = []
    for lv in levels:
        hl_id, parent_id = lv.hl_id, lv.parent_id
        if hl_id in by_id:
            return None
        if parent_id:
            parent = by_id.get(parent_id)
            if parent is None:
                return None
            parent.children.append(lv)
        else:
            roots.append(lv)
        by_id[hl_id] = lv
    return roots


def _tree(levels: list[_Level], issues: list[Issue]) -> list[_Level]:
    """The roots of the HL tree in any order; repeated ids, unknown parents and cycles go to ``issues``."""
    for lv in levels:
        lv.children.clear()  # (the in-order attempt may have linked some)
    by_id: dict[str, _Level] = {}
    for lv in levels:
        if lv.hl_id in by_id:
            issues.append(_hl_issue(f"HL01 id {lv.hl_id!r} is used twice", lv.position, 1, lv.hl_id, "628"))
            continue
        by_id[lv.hl_id] = lv
    roots: list[_Level] = []
    acyclic: set[str] = set()  # ids whose parent chain is known to end (it cannot lead back to a later level)
    for lv in levels:
        if by_id.get(lv.hl_id) is not lv:
            continue
        parent = by_id.get(lv.parent_id) if lv.parent_id else None
        if lv.parent_id and parent is None:
            issues.append(_hl_issue(f"HL02 parent id {lv.parent_id!r} of HL {lv.hl_id} does not exist", lv.position, 2,
                                    lv.parent_id, "734"))
        # cycle check: walk up from the parent
        p = parent
        seen: set[str] | None = None
        while p is not None and p.hl_id not in acyclic:
            if seen is None:
                seen = {lv.hl_id}
            if p.hl_id in seen:
                issues.append(_hl_issue(f"HL {lv.hl_id}: parent chain loops back on itself", lv.position, 2,
                                        lv.parent_id, "734"))
                parent = None
                break
            seen.add(p.hl_id)
            p = by_id.get(p.parent_id) if p.parent_id else None
        else:
            acyclic.add(lv.hl_id)
        (parent.children if parent is not None else roots).append(lv)
    return roots


def read_856(ts: TransactionSet) -> tuple[ShipNotice, list[Issue]]:
    """Read an 856 into a ShipNotice, with the HL tree and CTT issues only the reader can see."""
    issues: list[Issue] = []
    head: dict[str, Any] = {}
    header_segments: list[Segment] = []
    levels: list[_Level] = []
    ctt_pos = 0
    line_count: int | None = None
    special = _HEADER_IDS
    keep = header_segments.append  # where the next non-HL segment goes: the current level, or the header
    for pos, seg in enumerate(ts.segments, 1):
        sid = seg[0]
        if sid == "HL":
            level = _Level(seg, pos)
            levels.append(level)
            keep = level.segments.append
        elif sid not in special:
            keep(seg)
        elif sid == "BSN":
            head.update(purpose_code=opt(seg, 1), shipment_id=el(seg, 2), notice_date=date(opt(seg, 3)),
                        notice_time=time(opt(seg, 4)), structure_code=opt(seg, 5))
        elif sid == "CTT":
            ctt_pos = pos
            line_count = integer(opt(seg, 1))
            keep = header_segments.append

    # ---- the tree, from ids
    roots = _tree_in_order(levels)
    if roots is None:  # a child before its parent, a repeated id, an unknown parent: the general way
        roots = _tree(levels, issues)

    # ---- shipment level: header segments + every S level
    ship_segments = list(header_segments)
    for lv in levels:
        if lv.code == "S":
            ship_segments.extend(lv.segments)
    carrier: dict[str, Any] | None = None
    tracking: list[str] = []
    for seg in ship_segments:
        sid = seg[0]
        if sid == "TD1" and "packaging_code" not in head:
            head.update(packaging_code=opt(seg, 1), lading_quantity=dec(opt(seg, 2)), gross_weight=dec(opt(seg, 7)),
                        weight_unit=opt(seg, 8))
        elif sid == "TD5" and carrier is None:
            carrier = carrier_td5(seg)
        elif sid == "DTM":
            q, d = el(seg, 1), date(opt(seg, 2))
            if q == "011" and "ship_date" not in head:
                head["ship_date"] = d
            elif q in ("017", "067") and "estimated_delivery_date" not in head:
                head["estimated_delivery_date"] = d
    refs = _own_refs(ship_segments)
    for r in refs:
        if r["qualifier"] in _TRACKING_REFS and r["value"]:
            tracking.append(r["value"])

    # ---- orders, packs, items
    orders: list[dict[str, Any]] = []
    loose = _order(None)
    for root in roots:
        _walk(root, orders, loose)
    if loose["items"] or loose["packs"]:
        orders.append(loose)

    head.setdefault("shipment_id", "")
    head.update(parties=_parties(ship_segments), references=refs, dates=_dates(ship_segments), carrier=carrier,
                tracking_numbers=tracking, orders=orders, line_count=line_count, source=envelope(ts))
    doc = validated(ShipNotice, head)
    item_count = sum(1 for lv in levels if lv.code == "I")
    issues += check_totals(line_count, None, len(levels), Decimal(0), ctt_pos, "HL", also_accept=item_count)
    return doc, issues


# The tree walk: module-level functions that pass ``orders`` along (nested closures calling each other
# would form reference cycles, keeping every document's dicts alive until the cyclic GC runs).


def _build_pack(lv: _Level, orders: list[dict[str, Any]]) -> dict[str, Any]:
    """A pack (P or T) level with its items, inner packs and orders (S/T/P/O/I) emitted to ``orders``."""
    items: list[dict[str, Any]] = []
    packs: list[dict[str, Any]] = []
    for ch in lv.children:
        if ch.code == "I":
            items.append(_item(ch))
        elif ch.code in ("P", "T"):
            packs.append(_build_pack(ch, orders))
        elif ch.code == "O":  # order under a pack (S/T/P/O/I): keep the order, with its items
            _emit_order(ch, orders)
    return _pack(lv, items, packs)


def _fill(lv: _Level, order_fields: dict[str, Any], orders: list[dict[str, Any]]) -> None:
    """Put the items and packs under ``lv`` into ``order_fields`` (orders found below go to ``orders``)."""
    for ch in lv.children:
        if ch.code == "I":
            order_fields["items"].append(_item(ch))
        elif ch.code in ("P", "T"):
            order_fields["packs"].append(_build_pack(ch, orders))
        elif ch.code == "O":
            _emit_order(ch, orders)
        else:
            _fill(ch, order_fields, orders)


def _emit_order(lv: _Level, orders: list[dict[str, Any]]) -> None:
    """An order (O) level with everything under it, appended to ``orders``."""
    f = _order(lv)
    _fill(lv, f, orders)
    orders.append(f)


def _walk(lv: _Level, orders: list[dict[str, Any]], loose: dict[str, Any]) -> None:
    """Walk from a root level: orders to ``orders``; items and packs without an order to ``loose``."""
    if lv.code == "O":
        _emit_order(lv, orders)
    elif lv.code == "I":
        loose["items"].append(_item(lv))
    elif lv.code in ("P", "T"):
        loose["packs"].append(_build_pack(lv, orders))
    else:
        for ch in lv.children:
            _walk(ch, orders, loose)

