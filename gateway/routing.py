"""Routing: a 3PL's ship notice becomes our 856 (and, on request, an 810) to the retailer who placed the order.

Rules:
- Only ship notices from partners with role ``3pl`` are routed. Each PO number in the notice is looked
  up among the purchase orders we received (``purchase_order`` documents, direction in, not rejected
  or duplicate); the retailer is the partner that sent that PO (the latest one when several did).
- One 856 per retailer, holding only that retailer's orders, in the retailer's HL structure (SOPI or
  SOTPI; tares are flattened into their packs for a SOPI retailer). PO dates missing from the 3PL's
  notice are filled in from the order.
- ``invoice_on_ship``: one 810 per PO, quantities shipped x the PO's unit prices, items matched to PO
  lines by line number, else by a shared product id. The invoice number is the shipment id (with
  ``-<PO>`` when the shipment covers several POs). An item we cannot price is an alert; the 856 still goes.
- A notice naming a PO we never received is held whole: an alert, and a ``route`` outbox row that
  ``retry_pending`` retries (hourly, for a week) until the PO arrives; nothing is lost.
- What is routed is landed as an outbound file (transport id ``route:<document>:<retailer>``) and
  goes through ``OutboundFlow``: dedup, control numbers, outbox, expected acks. Safe to repeat.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ValidationError

from gateway.config import GatewayConfig
from gateway.outbound_flow import ErpOutboundWatcher, OutboundDocument, OutboundFlow, SendOutcome
from gateway.reconcile import Reconciler
from gateway.store import Store
from gateway.store.rows import DocumentRow
from parsers.canonical import Invoice, LineItem, OrderLevel, PackLevel, PurchaseOrder, ShipNotice, ShippedItem
from partners.directory import PartnerDirectory
from partners.profile import PartnerProfile

log = logging.getLogger(__name__)

RETRY_SECONDS = 3600.0
RETRY_FOR = dt.timedelta(days=7)
_PO_STATES_USABLE = ("acknowledged", "delivered")


class PricingError(Exception):
    """An invoice cannot be built from the order (an item with no matching PO line or no price)."""


@dataclass
class RouteOutcome:
    """What routing one 3PL ship notice did."""

    routed: dict[str, list[SendOutcome]] = field(default_factory=dict)  # retailer id -> documents queued
    unknown_pos: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every PO of the notice found its retailer."""
        return not self.unknown_pos


# --------------------------------------------------------------------------- pure helpers


def all_items(order: OrderLevel) -> list[ShippedItem]:
    """Every shipped item of an order: in packs (and packs on tares) and directly under it."""
    items: list[ShippedItem] = []

    def walk(pack: PackLevel) -> None:
        for child in pack.packs:
            walk(child)
        items.extend(pack.items)

    for pack in order.packs:
        walk(pack)
    items.extend(order.items)
    return items


def flatten_tares(order: OrderLevel) -> OrderLevel:
    """The order with pallets (HL T) replaced by their cartons, for retailers that read S/O/P/I only."""
    packs: list[PackLevel] = []
    for pack in order.packs:
        if pack.hl_code == "T":
            packs.extend(pack.packs)
            if pack.items:
                packs.append(pack.model_copy(update={"hl_code": "P", "packs": []}))
        else:
            packs.append(pack)
    return order.model_copy(update={"packs": packs})


def _match_line(item: ShippedItem, po: PurchaseOrder) -> LineItem | None:
    """The PO line an item fulfils: same line number, else a shared product id."""
    if item.line_number:
        for line in po.lines:
            if line.line_number and line.line_number.lstrip("0") == item.line_number.lstrip("0"):
                return line
    ids = {(p.qualifier, p.value) for p in item.product_ids}
    values = {p.value for p in item.product_ids}
    for line in po.lines:
        if any((p.qualifier, p.value) in ids for p in line.product_ids):
            return line
    for line in po.lines:
        if any(p.value in values for p in line.product_ids):
            return line
    return None


def invoice_for(notice: ShipNotice, order: OrderLevel, po: PurchaseOrder, number: str,
                invoice_date: dt.date) -> Invoice:
    """An 810 for what one order of a shipment shipped, priced from the PO; PricingError if it cannot be."""
    quantities: dict[int, Decimal] = {}
    units: dict[int, str | None] = {}
    for item in all_items(order):
        line = _match_line(item, po)
        where = f"item {item.line_number or item.product_id('UP', 'VN', 'EN', 'UK', 'IN', 'BP') or '?'}"
        if line is None:
            raise PricingError(f"{where} of PO {po.po_number} matches no line of the order")
        if line.unit_price is None:
            raise PricingError(f"PO {po.po_number} line {line.line_number or '?'} has no unit price")
        if item.quantity_shipped is None:
            raise PricingError(f"{where} of PO {po.po_number} has no shipped quantity")
        index = po.lines.index(line)
        quantities[index] = quantities.get(index, Decimal(0)) + item.quantity_shipped
        units[index] = units.get(index) or item.unit_of_measure
    if not quantities:
        raise PricingError(f"PO {po.po_number}: nothing shipped to invoice")
    lines: list[LineItem] = []
    total = Decimal(0)
    for index in sorted(quantities):
        line = po.lines[index]
        qty = quantities[index]
        assert line.unit_price is not None
        total += qty * line.unit_price
        lines.append(LineItem(line_number=line.line_number, quantity=qty,
                              unit_of_measure=line.unit_of_measure or units[index], unit_price=line.unit_price,
                              price_basis=line.price_basis, product_ids=line.product_ids,
                              description=line.description))
    return Invoice(invoice_number=number, invoice_date=invoice_date, po_number=po.po_number, po_date=po.order_date,
                   currency=po.currency, parties=po.parties, terms=po.terms, lines=lines,
                   references=[r for r in notice.references if r.qualifier in ("BM", "CN")],
                   total_amount=total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


# --------------------------------------------------------------------------- the router


class Router:
    """Routes 3PL ship notices to retailers (pipeline ``on_accepted`` hook) and retries held ones."""

    def __init__(self, cfg: GatewayConfig, store: Store, flow: OutboundFlow,
                 directory: PartnerDirectory | None = None) -> None:
        self.cfg = cfg
        self.store = store
        self.flow = flow
        self.directory = directory or PartnerDirectory(cfg.partners)

    def __call__(self, partner: PartnerProfile, document_id: str, document: BaseModel) -> None:
        """Pipeline hook: route every accepted ship notice of a 3PL."""
        if partner.role == "3pl" and isinstance(document, ShipNotice):
            self.route(partner, document_id, document)

    def _purchase_order(self, po_number: str) -> tuple[DocumentRow, PurchaseOrder] | None:
        """The latest usable inbound PO with this number, with its canonical order."""
        rows = [d for d in self.store.find_documents(kind="purchase_order", business_key=po_number, direction="in")
                if d.state in _PO_STATES_USABLE and d.canonical_json]
        for row in reversed(rows):
            try:
                return row, PurchaseOrder.model_validate_json(row.canonical_json or "")
            except ValidationError:
                continue
        return None

    def route(self, partner: PartnerProfile, document_id: str, notice: ShipNotice, *, hold: bool = True,
              ) -> RouteOutcome:
        """Send the notice on to the retailers whose POs it fulfils (idempotent); ``hold`` it (alert + retry
        row) when a PO is unknown."""
        outcome = RouteOutcome()
        by_retailer: dict[str, list[tuple[OrderLevel, PurchaseOrder]]] = {}
        for order in notice.orders:
            if not order.po_number:
                outcome.unknown_pos.append("(order without a PO number)")
                continue
            found = self._purchase_order(order.po_number)
            retailer = self.directory.get(found[0].partner_id) if found else None
            if found is None or retailer is None:
                outcome.unknown_pos.append(order.po_number)
                continue
            by_retailer.setdefault(retailer.id, []).append((order, found[1]))
        if not notice.orders:
            outcome.unknown_pos.append("(no orders in the notice)")
        if outcome.unknown_pos:
            if hold:
                    self._hold(partner, document_id, notice, outcome.unknown_pos)
            return outcome
        for retailer_id, orders in by_retailer.items():
            retailer = self.directory.get(retailer_id)
            assert retailer is not None
            docs = self._documents_for(retailer, partner, document_id, notice, orders, outcome)
            body = json.dumps({"routed_from": document_id, "partner": partner.id,
                               "documents": [d.model_dump(mode="json", exclude_none=True) for d in docs]},
                              ensure_ascii=False, sort_keys=True).encode()
            file_id = self.flow.land(body, filename=f"{notice.shipment_id}_{retailer_id}.json",
                                     transport_id=f"route:{document_id}:{retailer_id}", partner_id=retailer_id,
                                     metadata={"routed_from": document_id, "3pl": partner.id})
            outcome.routed[retailer_id] = self.flow.send_documents(retailer, file_id, docs, parent_id=document_id)
        return outcome

    def _documents_for(self, retailer: PartnerProfile, threepl: PartnerProfile, document_id: str,
                       notice: ShipNotice, orders: list[tuple[OrderLevel, PurchaseOrder]],
                       outcome: RouteOutcome) -> list[OutboundDocument]:
        """The 856 (and 810s) one retailer gets for its part of the shipment."""
        routed_orders = []
        for order, po in orders:
            updated = order
            if not order.po_date and po.order_date:
                updated = order.model_copy(update={"po_date": po.order_date})
            routed_orders.append(flatten_tares(updated) if retailer.hl_structure == "SOPI" else updated)
        asn = notice.model_copy(update={"orders": routed_orders, "source": None, "line_count": None,
                                        "structure_code": None})
        docs: list[OutboundDocument] = [asn]
        if retailer.invoice_on_ship:
            invoice_date = notice.ship_date or notice.notice_date or self.store.now().date()
            several = len(notice.po_numbers) > 1
            for order, po in orders:
                number = f"{notice.shipment_id}-{po.po_number}"[:22] if several else notice.shipment_id
                try:
                    docs.append(invoice_for(notice, order, po, number, invoice_date))
                except PricingError as exc:
                    outcome.problems.append(str(exc))
                    self.store.add_alert(
                        "routing.no_invoice", f"No invoice for PO {po.po_number} to {retailer.id}",
                        f"Ship notice {notice.shipment_id} from {threepl.id} was sent on to {retailer.id}, but the "
                        f"invoice on ship for PO {po.po_number} could not be built: {exc}.\n"
                        f"Trace: gateway trace {document_id}\n"
                        "What to do: invoice this shipment from the ERP (gateway send FILE --partner "
                        f"{retailer.id}).", partner_id=retailer.id,
                        dedup_key=f"routing.no_invoice:{document_id}:{po.po_number}")
        return docs

    def _hold(self, partner: PartnerProfile, document_id: str, notice: ShipNotice, unknown: list[str]) -> None:
        """Alert about a notice we cannot route yet and queue its retry (once)."""
        self.store.add_alert(
            "routing.unknown_po", f"Ship notice {notice.shipment_id} from {partner.id}: unknown PO "
            f"{', '.join(unknown[:3])}",
            f"{partner.id} sent ship notice {notice.shipment_id} for PO {', '.join(unknown)}, but we have received "
            "no such purchase order from any retailer, so it was not sent on. It is kept and retried every "
            f"{RETRY_SECONDS / 3600:g} hour(s) for {RETRY_FOR.days} days.\nTrace: gateway trace {document_id}\n"
            "What to do: check the PO number with the 3PL, or make sure the retailer's order arrives; it is then "
            "sent on by itself.", partner_id=partner.id, dedup_key=f"routing.unknown_po:{document_id}")
        self.store.enqueue("route", partner.id, json.dumps({"document_id": document_id, "unknown": unknown}),
                           f"route:{document_id}", None, document_id=document_id)

    def retry_pending(self, worker_id: str, limit: int = 50) -> int:
        """Try held ship notices again; returns how many were routed now."""
        routed = 0
        for row in self.store.claim_outbox(worker_id, limit, self.cfg.gateway.lease_seconds, kinds=("route",)):
            doc = self.store.get_document(row.document_id) if row.document_id else None
            partner = self.directory.get(row.partner_id)
            if doc is None or partner is None or not doc.canonical_json:
                self.store.mark_dead(row.id, "the ship notice or its partner is gone", worker=worker_id)
                continue
            outcome = self.route(partner, doc.id, ShipNotice.model_validate_json(doc.canonical_json),
                                 hold=False)
            if outcome.complete:
                self.store.mark_sent(row.id, worker=worker_id, detail={"routed_to": sorted(outcome.routed)})
                routed += 1
            elif self.store.now() - row.created_at > RETRY_FOR:
                self.store.mark_dead(row.id, f"PO {', '.join(outcome.unknown_pos)} never arrived", worker=worker_id)
            else:
                self.store.mark_failed(row.id, f"unknown PO {', '.join(outcome.unknown_pos)}",
                                       self.store.now() + dt.timedelta(seconds=RETRY_SECONDS), worker=worker_id)
        return routed


# --------------------------------------------------------------------------- wiring


class OrderToCash:
    """The order-to-cash loop in one object: ERP outbound folders, routing, sent hooks, acks, overdue checks."""

    def __init__(self, cfg: GatewayConfig, store: Store, directory: PartnerDirectory, *, worker_id: str,
                 on_accepted: list[Callable[[PartnerProfile, str, BaseModel], None]] | None = None,
                 on_sent: list[Callable[..., None]] | None = None) -> None:
        """Build the parts and register the hooks on the pipeline's ``on_accepted`` and delivery's ``on_sent``."""
        self.store = store
        self.worker_id = worker_id
        self.flow = OutboundFlow(cfg, store, directory)
        self.router = Router(cfg, store, self.flow, directory)
        self.reconciler = Reconciler(cfg, store, directory)
        self.watcher = ErpOutboundWatcher(self.flow)
        if on_accepted is not None:
            on_accepted.extend([self.reconciler, self.router])
        if on_sent is not None:
            on_sent.append(self.flow.after_sent)

    def tick(self, *, wait_stable: bool = True) -> dict[str, int]:
        """One pass of the periodic work; returns counts of what it did."""
        return {"erp_files": len(self.watcher.scan_once(wait_stable=wait_stable)),
                "swept": self.flow.sweep_sent(),
                "routed": self.router.retry_pending(self.worker_id),
                "overdue": self.reconciler.check_overdue()}

    def run(self, stop: threading.Event, interval: float = 1.0, slow_every: float = 30.0) -> None:
        """Daemon loop: ERP folders every ``interval`` s; sweeps, route retries and overdue checks every
        ``slow_every`` s."""
        last_slow = 0.0
        while not stop.is_set():
            try:
                self.watcher.scan_once()
                if time.monotonic() - last_slow >= slow_every:
                    last_slow = time.monotonic()
                    self.flow.sweep_sent()
                    self.router.retry_pending(self.worker_id)
                    self.reconciler.check_overdue()
            except Exception:
                log.exception("order-to-cash loop failed")
            stop.wait(interval)
