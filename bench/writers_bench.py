"""Writer throughput: realistic 856 ship notices and 810 invoices written as whole interchanges, documents/s."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

from outbound.writers import X12Envelope, make_sscc, write_invoice, write_ship_notice
from parsers.canonical import (
    Carrier,
    Invoice,
    LineItem,
    OrderLevel,
    PackLevel,
    Party,
    PaymentTerms,
    ProductId,
    Reference,
    ShipNotice,
    ShippedItem,
)
from partners.profile import Delimiters, X12Identity

_WHEN = dt.datetime(2026, 3, 2, 9, 30)


def _envelope(n: int) -> X12Envelope:
    """A 4010 envelope from us to a retailer with control number ``n``."""
    return X12Envelope(sender=X12Identity(id="EDIGATEWAY"), receiver=X12Identity(id="ACMERETAIL"),
                       version="004010VICS", delimiters=Delimiters(), isa13=n, gs06=n, date=_WHEN.date(),
                       time=_WHEN.time())


def sample_ship_notice(n: int, cartons: int = 8, items_per_carton: int = 3) -> ShipNotice:
    """A pick-and-pack ASN: one pallet, ``cartons`` cartons with SSCCs, a few items each (about 90 segments)."""
    packs = []
    for c in range(cartons):
        items = [ShippedItem(line_number=str(i + 1), product_ids=[ProductId(qualifier="UP", value=f"0123456{i:05d}"),
                                                                    ProductId(qualifier="VN", value=f"SKU-{i}")],
                             quantity_shipped=Decimal(6 + i), unit_of_measure="EA", quantity_ordered=Decimal(12),
                             ordered_unit_of_measure="EA", description=f"Widget model {i}")
                 for i in range(items_per_carton)]
        packs.append(PackLevel(hl_code="P", sscc=make_sscc(0, "0012345", n * 100 + c), items=items,
                               weight=Decimal("12.5"), weight_unit="LB", packaging_code="CTN"))
    pallet = PackLevel(hl_code="T", sscc=make_sscc(1, "0012345", n), packs=packs)
    return ShipNotice(shipment_id=f"SH{n:08d}", purpose_code="00", notice_date=_WHEN.date(), ship_date=_WHEN.date(),
                      carrier=Carrier(id_qualifier="2", id="UPSN", transport_method="M", routing="UPS Ground"),
                      references=[Reference(qualifier="BM", value=f"BOL{n}")], tracking_numbers=[f"1Z{n:016d}"],
                      packaging_code="PLT", lading_quantity=Decimal(1), gross_weight=Decimal(100), weight_unit="LB",
                      parties=[Party(role="ST", name="ACME DC 12", id_qualifier="92", id="DC12"),
                               Party(role="SF", name="Swift Logistics", id_qualifier="92", id="SW1")],
                      orders=[OrderLevel(po_number=f"PO{n:08d}", po_date=_WHEN.date(), packs=[pallet])])


def sample_invoice(n: int, lines: int = 20) -> Invoice:
    """An invoice with ``lines`` priced lines, terms and parties (about 50 segments)."""
    items = [LineItem(line_number=str(i + 1), quantity=Decimal(3 + i), unit_of_measure="EA",
                      unit_price=Decimal("4.25") + i, price_basis="PE", description=f"Widget model {i}",
                      product_ids=[ProductId(qualifier="UP", value=f"0123456{i:05d}")]) for i in range(lines)]
    total = sum((ln.quantity or 0) * (ln.unit_price or 0) for ln in items)
    return Invoice(invoice_number=f"INV{n:08d}", invoice_date=_WHEN.date(), po_number=f"PO{n:08d}", currency="USD",
                   parties=[Party(role="BT", name="ACME Retail Inc", id_qualifier="92", id="HQ"),
                            Party(role="RE", name="Our Company", id_qualifier="92", id="US")],
                   terms=[PaymentTerms(type_code="01", basis_date_code="3", net_days=30)], lines=items,
                   total_amount=Decimal(total))


def _rate(label: str, count: int, write: object) -> None:
    start = time.perf_counter()
    size = 0
    for n in range(1, count + 1):
        size += len(write(n))  # type: ignore[operator]
    secs = time.perf_counter() - start
    print(f"{label:<40}{count:>8}{secs:>10.2f}{count / secs:>12,.0f}{size / secs / 1e6:>10.1f}")


def bench_writers(quick: bool) -> None:
    """Print 856 and 810 documents/s for write_ship_notice / write_invoice (10k documents each, 1k quick)."""
    count = 1000 if quick else 10_000
    notices = [sample_ship_notice(n) for n in range(1, 51)]
    invoices = [sample_invoice(n) for n in range(1, 51)]
    print("\n## writers: canonical document -> X12 interchange (one document per interchange)")
    print(f"{'writer':<40}{'docs':>8}{'seconds':>10}{'docs/s':>12}{'MB/s':>10}")
    _rate("856 write_ship_notice (SOTPI, 24 items)", count,
          lambda n: write_ship_notice(notices[n % 50], _envelope(n), 1, structure="SOTPI"))
    _rate("810 write_invoice (20 lines)", count, lambda n: write_invoice(invoices[n % 50], _envelope(n), 1))


if __name__ == "__main__":
    bench_writers(quick=False)
