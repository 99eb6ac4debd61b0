"""What the writers produce reads back through the project's own X12 envelope reader without any issue.

The canonical readers (write -> read -> equal canonical object) are not there yet; this checks the
envelope layer: control numbers, counts, ISA layout, delimiters.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from outbound.writers import make_sscc, write_functional_ack, write_invoice, write_purchase_order, write_ship_notice
from parsers.canonical import (
    AckStatus,
    FunctionalAck,
    GroupAck,
    InterchangeAck,
    Invoice,
    LineItem,
    OrderLevel,
    PackLevel,
    ProductId,
    PurchaseOrder,
    ShipNotice,
    ShippedItem,
    TransactionSetAck,
)
from partners.profile import Delimiters

from .support import envelope

stream = pytest.importorskip("parsers.x12.stream")

_LINE = LineItem(line_number="1", quantity=Decimal(2), unit_of_measure="EA", unit_price=Decimal("3.5"),
                 product_ids=[ProductId(qualifier="UP", value="012345678905")])
_NOTICE = ShipNotice(shipment_id="S1", orders=[OrderLevel(po_number="P1", packs=[PackLevel(
    sscc=make_sscc(0, "0614141", 7), items=[ShippedItem(product_ids=[ProductId(qualifier="UP", value="1")],
                                                        quantity_shipped=Decimal(1), unit_of_measure="EA")])])])
_ACK = FunctionalAck(
    ack_type="997",
    groups=[GroupAck(functional_id_code="PO", group_control_number="5", status=AckStatus.ACCEPTED,
                     transaction_sets=[TransactionSetAck(transaction_set_id="850", control_number="0001",
                                                         status=AckStatus.ACCEPTED)])],
    interchange_acks=[InterchangeAck(control_number="9", interchange_date=dt.date(2024, 1, 1),
                                     interchange_time=dt.time(1, 1), status=AckStatus.ACCEPTED, note_code="000")],
)


@pytest.mark.parametrize("version", ["004010", "004010VICS", "005010"])
@pytest.mark.parametrize("delims", [Delimiters(), Delimiters(element="|", component=">", segment="\n",
                                                             segment_suffix="", repetition="^")])
def test_written_interchanges_read_back_without_issues(version: str, delims: Delimiters) -> None:
    env = envelope(version, delimiters=delims, isa13=31, gs06=4)
    outputs = {
        "850": write_purchase_order(PurchaseOrder(po_number="P1", lines=[_LINE]), env, 11),
        "810": write_invoice(Invoice(invoice_number="I1", lines=[_LINE], total_amount=Decimal(7)), env, 12),
        "856": write_ship_notice(_NOTICE, env, 13),
        "997": write_functional_ack(_ACK, env, [14]),
    }
    for set_id, data in outputs.items():
        events = stream.read_x12(data)
        issues = [i for e in events for i in getattr(e, "issues", [])]
        assert issues == [], (set_id, [i.message for i in issues])
        sets = [e for e in events if isinstance(e, stream.TransactionSet)]
        assert [s.id for s in sets] == [set_id]
        assert sets[0].control_number == f"{10 + list(outputs).index(set_id) + 1:04d}"
        starts = [e for e in events if isinstance(e, stream.InterchangeStart)]
        assert starts[0].control_number == "000000031" and starts[0].sender_id == "SENDERID"
