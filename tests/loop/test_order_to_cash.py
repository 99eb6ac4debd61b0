"""End to end on folder transports: retailer 850 -> 997 + ERP order; 3PL 856 -> our 856 (+810) to the
retailer -> their 997 reconciles it; silence -> overdue alert mail; a rejecting 997 -> rejection mail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from store_urls import make_store_url
from writers.support import pyx12_read  # pyx12's X12Reader, as the writer tests read with it

from gateway.alerts import AlertMailer
from parsers.canonical import FunctionalAck, Invoice, ShipNotice

from .support import (
    N102_MISSING,
    RETAILER,
    RETAILER_ID,
    THREEPL,
    FakeClock,
    Loop,
    Mailbox,
    asn_interchange,
    free_port,
    make_loop,
    po_interchange,
    read_sets,
    retailer_997,
    start_smtp,
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """SQLite in the data folder, or PostgreSQL when GATEWAY_TEST_PG_DSN is set."""
    if request.param == "sqlite":
        yield None
    else:
        with make_store_url("postgresql", tmp_path) as url:
            yield url


@pytest.fixture
def clock() -> FakeClock:
    """The store's clock, moved by the tests."""
    return FakeClock()


@pytest.fixture
def smtp() -> Iterator[tuple[int, Mailbox]]:
    """A real aiosmtpd server on a free loopback port."""
    port, mailbox = free_port(), Mailbox()
    controller = start_smtp(port, mailbox)
    try:
        yield port, mailbox
    finally:
        controller.stop()


@pytest.fixture
def loop(tmp_path: Path, clock: FakeClock, store_url: str | None, smtp: tuple[int, Mailbox]) -> Iterator[Loop]:
    """The gateway with a retailer (invoice on ship, SOPI) and a 3PL."""
    made = make_loop(tmp_path, clock, store_url, smtp_port=smtp[0])
    try:
        yield made
    finally:
        made.gw.close()


def order_and_ship(loop: Loop) -> tuple[Path, Path]:
    """Retailer orders, 3PL ships: returns our 856 and 810 files in the retailer's outbound folder."""
    loop.drop(RETAILER, "po.x12", po_interchange())
    loop.drop(THREEPL, "asn.x12", asn_interchange())
    asns, invoices = loop.sent_files(RETAILER, "856"), loop.sent_files(RETAILER, "810")
    assert len(asns) == 1 and len(invoices) == 1, sorted(p.name for p in loop.outbox(RETAILER).iterdir())
    return asns[0], invoices[0]


def mails(loop: Loop, mailbox: Mailbox) -> list[tuple[str, str]]:
    """Send the due alerts through the real SMTP server and return what it received."""
    mailer = AlertMailer(loop.gw.store, loop.cfg.smtp, loop.gw.directory)
    mailer.send_due(flush=True)
    return mailbox.texts()


def test_order_to_cash_loop_reconciles_accepted(loop: Loop) -> None:
    loop.drop(RETAILER, "po.x12", po_interchange())
    # the retailer got a 997 for its order, the ERP got the canonical order
    acks = loop.sent_files(RETAILER, "997")
    assert len(acks) == 1
    (_, _, _, _, ack), = read_sets(acks[0].read_bytes())
    assert isinstance(ack, FunctionalAck) and ack.groups[0].status.value == "A"
    erp = [json.loads(p.read_text()) for p in loop.erp.glob("*.json")]
    assert [d["document"]["po_number"] for d in erp if d["kind"] == "purchase_order"] == ["PO-4711"]

    loop.drop(THREEPL, "asn.x12", asn_interchange())
    asn_path, inv_path = loop.sent_files(RETAILER, "856")[0], loop.sent_files(RETAILER, "810")[0]
    assert len(loop.sent_files(THREEPL, "997")) == 1  # the 3PL's ASN was acknowledged to them

    # our 856: read back by our reader, retailer's envelope, SOPI (the 3PL's pallet flattened), PO date filled in
    (st01, isa13, gs06, st02, asn), = read_sets(asn_path.read_bytes())
    assert st01 == "856" and isinstance(asn, ShipNotice)
    assert asn.source is not None and asn.source.receiver_id == RETAILER_ID and asn.source.sender_id == "EDIGATEWAY"
    assert asn.shipment_id == "SH-9001" and asn.structure_code == "0001"
    assert [p.hl_code for p in asn.orders[0].packs] == ["P", "P"]
    assert asn.orders[0].po_number == "PO-4711" and str(asn.orders[0].po_date) == "2026-03-01"
    # our 810: shipped quantities x PO prices (10 x 4.25 + 3 x 19.99)
    (inv_st01, inv_isa13, inv_gs06, inv_st02, invoice), = read_sets(inv_path.read_bytes())
    assert inv_st01 == "810" and isinstance(invoice, Invoice)
    assert invoice.po_number == "PO-4711" and invoice.invoice_number == "SH-9001"
    assert [(ln.line_number, ln.quantity, ln.unit_price) for ln in invoice.lines] == [
        ("1", Decimal(10), Decimal("4.25")), ("2", Decimal(3), Decimal("19.99"))]
    assert invoice.total_amount == Decimal("102.47")
    assert isa13 != inv_isa13  # one interchange each, numbered from the retailer's outbound counter
    # pyx12 reads both with its own envelope and count checks
    for path, body in ((asn_path, "BSN"), (inv_path, "BIG")):
        ids, errors = pyx12_read(path.read_bytes())
        assert errors == [], errors
        assert ids[:3] == ["ISA", "GS", "ST"] and ids[-3:] == ["SE", "GE", "IEA"] and body in ids

    store = loop.gw.store
    out_docs = store.find_documents(partner_id=RETAILER, direction="out")
    assert {(d.kind, d.state) for d in out_docs} == {("ship_notice", "sent"), ("invoice", "sent")}
    assert {a.status for a in store.find_acks_expected(partner_id=RETAILER)} == {"pending"}

    # the retailer acknowledges both; both reconcile as accepted
    loop.drop(RETAILER, "997.x12", retailer_997([("SH", gs06, st02), ("IN", inv_gs06, inv_st02)], isa13=102))
    views = loop.gw.order_to_cash.reconciler.list_acks(partner_id=RETAILER)
    assert sorted((v.kind, v.status) for v in views) == [("invoice", "accepted"), ("ship_notice", "accepted")]
    assert {d.state for d in store.find_documents(partner_id=RETAILER, direction="out")} == {"accepted"}
    # the trace of our 856 shows its ack status
    from gateway.tracing import format_trace, trace_report

    asn_doc = next(d for d in out_docs if d.kind == "ship_notice")
    report = trace_report(store, asn_doc.id)
    assert report is not None
    assert "ack accepted" in format_trace(report)
    # nothing is overdue later, and nothing was alerted about acks
    loop.clock.advance(hours=48)
    assert loop.gw.order_to_cash.reconciler.check_overdue() == 0


def test_silent_retailer_gets_one_overdue_alert_mail(loop: Loop, smtp: tuple[int, Mailbox]) -> None:
    asn_path, _ = order_and_ship(loop)
    reconciler = loop.gw.order_to_cash.reconciler
    loop.clock.advance(hours=23)
    assert reconciler.check_overdue() == 0
    loop.clock.advance(hours=2)  # past the retailer's 24 hours
    loop.process()  # the daemon's tick runs the overdue check
    overdue = reconciler.list_acks(overdue=True)
    assert sorted((v.kind, v.status) for v in overdue) == [("invoice", "overdue"), ("ship_notice", "overdue")]
    assert reconciler.check_overdue() == 0  # once, not every loop
    loop.clock.advance(hours=5)
    loop.process()

    received = mails(loop, smtp[1])
    overdue_mails = [(s, b) for s, b in received if "No acknowledgment" in b or "No acknowledgment" in s]
    assert len(overdue_mails) == 1  # one digest for the retailer...
    subject, body = overdue_mails[0]
    assert "acme" in subject
    assert body.count("No acknowledgment from acme") == 2  # ...with exactly one alert per document
    assert "ship notice (ASN) SH-9001" in body and "invoice SH-9001" in body and "gateway trace" in body
    # a late 997 still reconciles the 856
    (_, _, gs06, st02, _), = read_sets(asn_path.read_bytes())
    loop.drop(RETAILER, "late997.x12", retailer_997([("SH", gs06, st02)], isa13=103))
    statuses = {v.kind: v.status for v in reconciler.list_acks(partner_id=RETAILER)}
    assert statuses == {"ship_notice": "accepted", "invoice": "overdue"}


def test_rejecting_997_sends_rejection_mail(loop: Loop, smtp: tuple[int, Mailbox]) -> None:
    asn_path, _ = order_and_ship(loop)
    (_, _, gs06, st02, _), = read_sets(asn_path.read_bytes())
    loop.drop(RETAILER, "reject997.x12", retailer_997([("SH", gs06, st02)], isa13=104, reject=N102_MISSING))
    store = loop.gw.store
    asn_doc = store.find_documents(partner_id=RETAILER, direction="out", kind="ship_notice")[0]
    assert asn_doc.state == "rejected"
    (exp,) = store.find_acks_expected(document_id=asn_doc.id)
    assert exp.status == "rejected"
    assert ("segment N1 at position 5: mandatory data element N102 missing (AK4 code 1; data element 93; loop N1)"
            in (exp.detail or ""))

    received = mails(loop, smtp[1])
    rejection = [(s, b) for s, b in received if "rejected our ship notice" in b]
    assert len(rejection) == 1
    subject, body = rejection[0]
    assert "acme" in subject
    assert "Partner acme rejected our ship notice (ASN) SH-9001" in body
    assert "segment N1 at position 5: mandatory data element N102 missing" in body
    assert "one or more segments in error (AK5 code 5)" in body
    assert f"gateway trace {asn_doc.id}" in body and "What to do" in body
    # the same 997 again (a re-send) changes nothing and alerts nothing new
    loop.drop(RETAILER, "reject997-again.x12", retailer_997([("SH", gs06, st02)], isa13=105, reject=N102_MISSING))
    assert len([b for _, b in mails(loop, smtp[1]) if "rejected our ship notice" in b]) == 1
