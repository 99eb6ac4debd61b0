"""Duplicates at every layer, in-process on SQLite and PostgreSQL: same bytes, same interchange, same business
document; changes (replace / cancel) are delivered; a conflicting original alerts; the dedup window expires."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.app import Gateway

from .conftest import FakeClock, GatewayFactory
from .support import (
    RETAILER,
    GatewayLayout,
    ingest,
    interchange_850,
    purchase_order,
    read_ack_files,
    sink_documents,
    write_gateway_config,
)


def _states(gw: Gateway, file_id: str) -> list[tuple[str, str | None]]:
    """(state, business key) of each document of a file."""
    return [(d.state, d.business_key) for d in gw.store.documents_for_file(file_id)]


def _delivered(layout: GatewayLayout) -> list[tuple[str, str | None]]:
    """(PO number, purpose) of every document in the JSON sink."""
    return sorted((d["document"]["po_number"], d["document"].get("purpose_code")) for d in sink_documents(layout.erp))


def _event(gw: Gateway, document_id: str, state: str) -> dict[str, Any]:
    """The detail of the event that moved a document to ``state``."""
    [detail] = [e["detail"] for e in gw.store.history(document_id)
                if e["document_id"] == document_id and e["state_to"] == state]
    return dict(detail)


def _ack_rows(gw: Gateway) -> list[Any]:
    return [m for m in gw.store.find_outbox(kind="ack") if m.state == "sent"]


@pytest.fixture
def make_layout(tmp_path: Any, store_url: str) -> Any:
    """A layout with the retailer's ack policy overridden."""
    from .conftest import gateway_store_url

    def make(**acks: Any) -> GatewayLayout:
        retailer = {"acks": {"functional_ack": "997", "ta1": "never", **acks}}
        return write_gateway_config(tmp_path / "gw", gateway_store_url(store_url), retailer=retailer)

    return make


@pytest.mark.parametrize("reack", [True, False])
def test_same_bytes_under_a_new_name_is_a_content_duplicate_reacked_per_profile(
        make_layout: Any, open_gateway: GatewayFactory, reack: bool) -> None:
    layout = make_layout(reack_duplicates=reack)
    gw = open_gateway(layout)
    data = interchange_850(501, [[purchase_order("PO-501")]])
    first = ingest(gw, "po501.x12", data)
    again = ingest(gw, "po501-resent.x12", data)

    assert gw.store.get_file(first).state == "processed"
    dup = gw.store.get_file(again)
    assert dup.state == "duplicate" and dup.sha256 == gw.store.get_file(first).sha256
    [event] = [e for e in gw.store.history(again) if e["state_to"] == "duplicate"]
    assert event["detail"] == {"duplicate_of": first, "layer": "content"}
    assert gw.store.documents_for_file(again) == []
    assert _delivered(layout) == [("PO-501", "00")]
    acks = _ack_rows(gw)
    originals = [m for m in acks if m.idempotency_key.startswith(f"ack:{first}:")]
    reacks = [m for m in acks if m.idempotency_key.startswith(f"reack:{again}:")]
    assert len(originals) == 1
    if reack:  # the same 997 again, same control numbers, to the same file name
        assert len(reacks) == 1
        assert gw.store.outbox_payload(reacks[0]) == gw.store.outbox_payload(originals[0])
        assert reacks[0].destination == originals[0].destination
    else:
        assert reacks == []
    assert len(read_ack_files(layout.outbox())) == 1


@pytest.mark.parametrize("reack", [True, False])
def test_same_sender_and_isa13_with_other_content_is_an_interchange_duplicate(
        make_layout: Any, open_gateway: GatewayFactory, reack: bool) -> None:
    layout = make_layout(reack_duplicates=reack)
    gw = open_gateway(layout)
    first = ingest(gw, "a.x12", interchange_850(777, [[purchase_order("PO-A")]]))
    again = ingest(gw, "b.x12", interchange_850(777, [[purchase_order("PO-B", quantity=3)]]))

    assert _states(gw, first) == [("delivered", "PO-A")]
    [doc] = gw.store.documents_for_file(again)
    assert (doc.state, doc.business_key) == ("duplicate", "PO-B")
    assert _event(gw, doc.id, "duplicate") == {"layer": "interchange", "duplicate_of": first}
    assert _delivered(layout) == [("PO-A", "00")]  # PO-B was never delivered
    acked_files = {m.idempotency_key.split(":")[1] for m in _ack_rows(gw)}
    assert acked_files == ({first, again} if reack else {first})


def test_new_isa13_same_purchase_order_is_a_business_duplicate(
        make_layout: Any, open_gateway: GatewayFactory) -> None:
    layout = make_layout()
    gw = open_gateway(layout)
    first = ingest(gw, "a.x12", interchange_850(10, [[purchase_order("PO-9")]]))
    again = ingest(gw, "b.x12", interchange_850(11, [[purchase_order("PO-9")]]))

    [original] = gw.store.documents_for_file(first)
    [doc] = gw.store.documents_for_file(again)
    assert original.state == "delivered" and doc.state == "duplicate"
    assert doc.duplicate_of == original.id
    assert _event(gw, doc.id, "duplicate") == {"layer": "business", "duplicate_of": original.id,
                                               "same_content": True}
    assert _delivered(layout) == [("PO-9", "00")]
    assert [a.kind for a in gw.store.pending_alerts()] == []  # same content: nothing to tell anyone
    # Both interchanges are acknowledged: the partner's second transmission was received.
    assert len(read_ack_files(layout.outbox())) == 2


def test_replace_and_cancel_with_new_content_are_changes_and_delivered(
        make_layout: Any, open_gateway: GatewayFactory) -> None:
    layout = make_layout()
    gw = open_gateway(layout)
    ingest(gw, "orig.x12", interchange_850(20, [[purchase_order("PO-7")]]))
    replace = ingest(gw, "replace.x12", interchange_850(21, [[purchase_order("PO-7", purpose="05", quantity=30)]]))
    cancel = ingest(gw, "cancel.x12", interchange_850(22, [[purchase_order("PO-7", purpose="01", quantity=30)]]))
    replace_again = ingest(gw, "replace2.x12",
                           interchange_850(23, [[purchase_order("PO-7", purpose="05", quantity=30)]]))

    assert _states(gw, replace) == [("delivered", "PO-7")]
    assert _states(gw, cancel) == [("delivered", "PO-7")]
    assert _states(gw, replace_again) == [("duplicate", "PO-7")]  # the very same change, re-sent
    assert _delivered(layout) == [("PO-7", "00"), ("PO-7", "01"), ("PO-7", "05")]


def test_same_po_resent_as_original_with_other_content_is_a_duplicate_with_a_conflict_alert(
        make_layout: Any, open_gateway: GatewayFactory) -> None:
    layout = make_layout()
    gw = open_gateway(layout)
    first = ingest(gw, "a.x12", interchange_850(30, [[purchase_order("PO-5", quantity=10)]]))
    again = ingest(gw, "b.x12", interchange_850(31, [[purchase_order("PO-5", quantity=99)]]))

    [original] = gw.store.documents_for_file(first)
    [doc] = gw.store.documents_for_file(again)
    assert doc.state == "duplicate" and doc.duplicate_of == original.id
    assert _event(gw, doc.id, "duplicate")["same_content"] is False
    [alert] = [a for a in gw.store.pending_alerts() if a.kind == "inbound.conflicting_original"]
    assert alert.partner_id == RETAILER and "PO-5" in alert.subject
    assert original.id in alert.body and doc.id in alert.body
    [delivered] = sink_documents(layout.erp)
    assert delivered["document_id"] == original.id
    assert delivered["document"]["lines"][0]["quantity"] == "10"


def test_dedup_window_uses_the_store_clock(tmp_path: Any, store_url: str, open_gateway: GatewayFactory) -> None:
    from .conftest import gateway_store_url

    layout = write_gateway_config(tmp_path / "gw", gateway_store_url(store_url),
                                  retailer={"dedup": {"window_days": 30}})
    clock = FakeClock()
    gw = open_gateway(layout, clock=clock)
    data = interchange_850(40, [[purchase_order("PO-W")]])
    first = ingest(gw, "day0.x12", data)
    clock.advance(days=29)
    inside = ingest(gw, "day29.x12", data)  # same bytes, same ISA13, same PO: a duplicate at the first layer
    clock.advance(days=2)
    outside = ingest(gw, "day31.x12", data)  # 31 days after the first: every key has expired

    assert gw.store.get_file(first).state == "processed"
    assert gw.store.get_file(inside).state == "duplicate"
    assert gw.store.get_file(outside).state == "processed"
    assert _states(gw, outside) == [("delivered", "PO-W")]
    assert [d["document_id"] for d in sink_documents(layout.erp)] == sorted(
        d.id for f in (first, outside) for d in gw.store.documents_for_file(f))
    # Day 31 is again inside the window of the day-31 copy.
    clock.advance(days=1)
    assert gw.store.get_file(ingest(gw, "day32.x12", data)).state == "duplicate"


def test_a_duplicate_is_traceable_to_its_original(make_layout: Any, open_gateway: GatewayFactory) -> None:
    from gateway.tracing import trace_report

    layout = make_layout()
    gw = open_gateway(layout)
    ingest(gw, "a.x12", interchange_850(50, [[purchase_order("PO-T")]]))
    again = ingest(gw, "b.x12", interchange_850(51, [[purchase_order("PO-T")]]))
    [doc] = gw.store.documents_for_file(again)
    report = trace_report(gw.store, doc.id)
    assert report is not None
    text = json.dumps(report, default=str)
    assert doc.duplicate_of is not None and doc.duplicate_of in text
