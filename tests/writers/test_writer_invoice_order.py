"""810 and 850 writing: implied-decimal totals, SAC, TXI, CTT counts; generated documents via pyx12."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outbound.writers import WriterError, write_invoice, write_invoices, write_purchase_order, write_purchase_orders
from parsers.canonical import (
    AllowanceCharge,
    Carrier,
    Contact,
    DateRef,
    Invoice,
    LineItem,
    Party,
    PaymentTerms,
    ProductId,
    PurchaseOrder,
    Reference,
    Tax,
)

from .support import check_envelope, envelope, pyx12_read, safe_text, tokenize


def _line(n: int, qty: str, price: str) -> LineItem:
    return LineItem(line_number=str(n), quantity=Decimal(qty), unit_of_measure="EA", unit_price=Decimal(price),
                    price_basis="PE",
                    product_ids=[ProductId(qualifier="UP", value=f"01234567890{n}"),
                                 ProductId(qualifier="VN", value=f"V-{n}")],
                    description=f"Item {n}", pack=Decimal(12), size=Decimal("0.5"), size_unit="LB")


def test_invoice_segments_and_implied_decimals() -> None:
    invoice = Invoice(
        invoice_number="INV-100", invoice_date=dt.date(2024, 4, 1), po_number="PO-9", po_date=dt.date(2024, 3, 20),
        currency="USD", notes=["Thank you"],
        parties=[Party(role="RE", name="Supplier Inc", id_qualifier="1", id="123456789",
                       contacts=[Contact(function_code="AR", name="Ann", phone="555-1212", email="ann@example.com")])],
        references=[Reference(qualifier="IA", value="V77")],
        terms=[PaymentTerms(type_code="01", basis_date_code="3", discount_percent=Decimal("2.00"), discount_days=10,
                            net_days=30, discount_amount=Decimal("4.10"), description="2% 10 NET 30")],
        dates=[DateRef(qualifier="011", date=dt.date(2024, 3, 30))],
        carrier=Carrier(id="ABCD", transport_method="M"),
        lines=[_line(1, "10", "12.50"), _line(2, "2", "40")],
        allowances_charges=[AllowanceCharge(indicator="C", code="D240", amount=Decimal("15.00")),
                            AllowanceCharge(indicator="A", code="C310", percent=Decimal("1.5"), amount=Decimal("3"))],
        taxes=[Tax(type_code="ST", amount=Decimal("16.91"), percent=Decimal("7.25"))],
        total_amount=Decimal("233.16"), amount_subject_to_discount=Decimal("205"),
    )
    data = write_invoice(invoice, envelope(), 3)
    tokens = tokenize(data)
    (tx,) = check_envelope(tokens)
    assert [s[0] for s in tx] == [
        "ST", "BIG", "NTE", "CUR", "REF", "N1", "PER", "ITD", "DTM",
        "IT1", "PID", "PO4", "IT1", "PID", "PO4", "TDS", "TXI", "CAD", "SAC", "SAC", "CTT", "SE",
    ]
    assert tokens.find("BIG")[0] == ["BIG", "20240401", "INV-100", "20240320", "PO-9"]
    assert tokens.find("IT1")[0] == ["IT1", "1", "10", "EA", "12.5", "PE", "UP", "012345678901", "VN", "V-1"]
    assert tokens.find("PO4")[0] == ["PO4", "12", "0.5", "LB"]
    assert tokens.find("PER")[0] == ["PER", "AR", "Ann", "TE", "555-1212", "EM", "ann@example.com"]
    assert tokens.find("ITD")[0] == ["ITD", "01", "3", "2", "", "10", "", "30", "410", "", "", "", "2% 10 NET 30"]
    assert tokens.find("TDS")[0] == ["TDS", "23316", "20500"]
    assert tokens.find("TXI")[0] == ["TXI", "ST", "16.91", "7.25"]
    assert tokens.find("CAD")[0] == ["CAD", "M", "", "", "ABCD"]
    assert tokens.find("SAC") == [
        ["SAC", "C", "D240", "", "", "1500"],
        ["SAC", "A", "C310", "", "", "300", "3", "1.5"],
    ]
    assert tokens.find("CTT")[0] == ["CTT", "2"]
    assert tokens.find("GS")[0][1] == "IN"
    _, errors = pyx12_read(data)
    assert errors == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"total_amount": Decimal("10.005")}, "TDS01"),
        ({"total_amount": None}, "TDS01"),
        ({"allowances_charges": [AllowanceCharge(indicator="C", amount=Decimal(1))]}, "SAC02"),
        ({"lines": [LineItem(quantity=Decimal(1), product_ids=[ProductId(qualifier="UP", value="1")])]}, "IT103"),
        ({"lines": [LineItem(quantity=Decimal(1), unit_of_measure="EA")]}, "IT106"),
        ({"parties": [Party(role="ST")]}, "N102"),
        ({"parties": [Party(role="ST", name="A*B")]}, "N102"),
        ({"taxes": [Tax(type_code="ST")]}, "TXI02"),
    ],
)
def test_bad_invoices_are_refused_with_the_element(change: dict[str, object], field: str) -> None:
    invoice = Invoice(invoice_number="I1", total_amount=Decimal(1)).model_copy(update=change)
    with pytest.raises(WriterError) as info:
        write_invoice(invoice, envelope())
    assert info.value.field == field


def test_purchase_order_segments_and_ctt_amt() -> None:
    order = PurchaseOrder(
        po_number="PO-1", order_date=dt.date(2024, 1, 15), currency="USD",
        references=[Reference(qualifier="DP", value="042")],
        dates=[DateRef(qualifier="002", date=dt.date(2024, 1, 30))],
        carrier=Carrier(id="ABCD", transport_method="M", routing="Ground"),
        notes=["Deliver to dock 4"],
        parties=[Party(role="ST", name="Store 12", id_qualifier="92", id="0012")],
        lines=[_line(1, "10", "12.50"), _line(2, "2.5", "40")],
        total_amount=Decimal("225.00"),
    )
    data = write_purchase_order(order, envelope("005010"))
    tokens = tokenize(data)
    (tx,) = check_envelope(tokens)
    assert [s[0] for s in tx] == [
        "ST", "BEG", "CUR", "REF", "DTM", "TD5", "N9", "MSG", "N1",
        "PO1", "PID", "PO4", "PO1", "PID", "PO4", "CTT", "AMT", "SE",
    ]
    assert tokens.find("BEG")[0] == ["BEG", "00", "SA", "PO-1", "", "20240115"]
    assert tokens.find("CTT")[0] == ["CTT", "2", "12.5"]
    assert tokens.find("AMT")[0] == ["AMT", "TT", "225"]
    assert tokens.find("TD5")[0] == ["TD5", "", "2", "ABCD", "M", "Ground"]
    stated = order.model_copy(update={"line_count": 7, "hash_total": Decimal(3)})
    assert tokenize(write_purchase_order(stated, envelope())).find("CTT")[0] == ["CTT", "7", "3"]
    _, errors = pyx12_read(data)
    assert errors == []


# --------------------------------------------------------------------------- generated documents

_money = st.decimals(min_value=Decimal("-9999.99"), max_value=Decimal("99999.99"), places=2, allow_nan=False)
_lines = st.builds(
    LineItem,
    line_number=st.one_of(st.none(), st.integers(1, 9999).map(str)),
    quantity=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999"), places=2, allow_nan=False),
    unit_of_measure=st.sampled_from(["EA", "CA"]),
    unit_price=st.decimals(min_value=Decimal("0"), max_value=Decimal("999.9999"), places=4, allow_nan=False),
    product_ids=st.lists(st.builds(ProductId, qualifier=st.sampled_from(["UP", "VN", "BP"]),
                                   value=safe_text(max_size=14)), min_size=1, max_size=10),
    description=st.one_of(st.none(), safe_text(max_size=60)),
    allowances_charges=st.lists(st.builds(AllowanceCharge, indicator=st.sampled_from(["A", "C"]),
                                          code=st.sampled_from(["D240", "C310"]), amount=_money), max_size=2),
)


@settings(max_examples=40, deadline=None)
@given(
    invoices=st.lists(
        st.builds(Invoice, invoice_number=safe_text(max_size=22), lines=st.lists(_lines, max_size=6),
                  total_amount=_money,
                  allowances_charges=st.lists(st.builds(AllowanceCharge, indicator=st.sampled_from(["A", "C"]),
                                                        code=st.just("D240"), amount=_money), max_size=3)),
        min_size=1, max_size=3),
    version=st.sampled_from(["004010", "005010"]),
)
def test_generated_invoices_have_consistent_counts(invoices: list[Invoice], version: str) -> None:
    data = write_invoices(invoices, envelope(version), list(range(1, len(invoices) + 1)))
    sets = check_envelope(tokenize(data))
    for tx, invoice in zip(sets, invoices, strict=True):
        it1 = [s for s in tx if s[0] == "IT1"]
        assert len(it1) == len(invoice.lines)
        assert next(s for s in tx if s[0] == "CTT")[1] == str(len(invoice.lines))
        assert [Decimal(s[2]) for s in it1] == [line.quantity for line in invoice.lines]
        tds = next(s for s in tx if s[0] == "TDS")
        assert Decimal(tds[1]) / 100 == invoice.total_amount
        sacs = [s for s in tx if s[0] == "SAC"]
        all_acs = [ac for line in invoice.lines for ac in line.allowances_charges] + invoice.allowances_charges
        assert [Decimal(s[5]) / 100 for s in sacs] == [ac.amount for ac in all_acs]
    _, errors = pyx12_read(data)
    assert errors == []


@settings(max_examples=40, deadline=None)
@given(
    orders=st.lists(st.builds(PurchaseOrder, po_number=safe_text(max_size=22), lines=st.lists(_lines, max_size=6)),
                    min_size=1, max_size=3),
    version=st.sampled_from(["004010", "004010VICS", "005010"]),
)
def test_generated_orders_have_consistent_counts(orders: list[PurchaseOrder], version: str) -> None:
    data = write_purchase_orders(orders, envelope(version), list(range(1, len(orders) + 1)))
    sets = check_envelope(tokenize(data))
    for tx, order in zip(sets, orders, strict=True):
        po1 = [s for s in tx if s[0] == "PO1"]
        assert len(po1) == len(order.lines)
        ctt = next(s for s in tx if s[0] == "CTT")
        assert ctt[1] == str(len(order.lines))
        if order.lines:
            assert Decimal(ctt[2]) == sum(line.quantity or 0 for line in order.lines)
    _, errors = pyx12_read(data)
    assert errors == []
