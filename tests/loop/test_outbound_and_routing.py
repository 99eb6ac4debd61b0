"""Outbound from the ERP (folder and `gateway send`), dedup, refusals, routing holds, and reconciliation
variants (999, TA1, unknown control numbers), on a real SQLite store and folder transports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.reconcile import describe_segment_note
from outbound.writers import write_functional_ack
from parsers.canonical import (
    AckStatus,
    ElementNote,
    FunctionalAck,
    GroupAck,
    InterchangeAck,
    SegmentNote,
    ShipNotice,
    TransactionSetAck,
)

from .support import (
    RETAILER,
    RETAILER_ID,
    THREEPL,
    FakeClock,
    Loop,
    asn_interchange,
    make_loop,
    po_interchange,
    read_sets,
    ship_notice,
    their_envelope,
)


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[Loop]:
    """A gateway with the retailer (no invoice on ship, SOTPI) and the 3PL, on SQLite."""
    made = make_loop(tmp_path, FakeClock(), invoice_on_ship=False, hl_structure="SOTPI")
    try:
        yield made
    finally:
        made.gw.close()


def erp_drop(loop: Loop, name: str, payload: object) -> Path:
    """The ERP writes a canonical JSON file into the retailer's outbound folder."""
    folder = loop.root / "erp_out" / RETAILER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(payload, default=str))
    return path


def notice_json(shipment_id: str = "SH-77") -> dict[str, object]:
    """A ship notice as our ERP writes it."""
    return ship_notice("PO-1", shipment_id).model_dump(mode="json", exclude_none=True)


def test_erp_folder_sends_once_and_dedups_same_content(loop: Loop) -> None:
    erp_drop(loop, "a.json", notice_json())
    loop.process()
    (sent,) = loop.sent_files(RETAILER, "856")
    (_, isa13, gs06, st02, asn), = read_sets(sent.read_bytes())
    assert isinstance(asn, ShipNotice) and asn.structure_code == "0002"  # the retailer reads SOTPI
    assert (loop.root / "erp_out" / RETAILER / "sent" / "a.json").exists()
    # DeliveryWorker's after-send hook (no sweep needed) recorded the expected ack
    doc = loop.gw.store.find_documents(direction="out", partner_id=RETAILER)[0]
    assert doc.state == "sent" and (doc.isa13, doc.gs06, doc.st02) == (isa13, gs06, st02)
    assert [a.status for a in loop.gw.store.find_acks_expected(document_id=doc.id)] == ["pending"]

    # the same shipment again with the same content (another file name): recorded, never sent twice
    erp_drop(loop, "b.json", {"documents": [notice_json()]})
    loop.process()
    assert len(loop.sent_files(RETAILER, "856")) == 1
    states = sorted(d.state for d in loop.gw.store.find_documents(direction="out", partner_id=RETAILER))
    assert states == ["duplicate", "sent"]
    # a corrected notice (same id, different content) goes out, with the next control numbers
    changed = notice_json()
    changed["purpose_code"] = "05"
    erp_drop(loop, "c.json", changed)
    loop.process()
    files = loop.sent_files(RETAILER, "856")
    assert len(files) == 2
    numbers = sorted(int(read_sets(p.read_bytes())[0][1]) for p in files)
    assert numbers[1] == numbers[0] + 1  # no gap: the duplicate used no control number


def test_unwritable_and_unreadable_erp_files_are_refused_in_words(loop: Loop) -> None:
    bad = notice_json("SH-BAD")
    bad["orders"][0]["packs"][0]["sscc"] = "123456789012345678"  # type: ignore[index]
    erp_drop(loop, "bad.json", bad)
    erp_drop(loop, "junk.json", {"kind": "purchase_order", "po_number": "X"})
    loop.process()
    assert loop.sent_files(RETAILER, "856") == []
    (doc,) = loop.gw.store.find_documents(direction="out", partner_id=RETAILER)
    assert doc.state == "rejected" and doc.isa13 is None
    assert "check digit" in (doc.issues_json or "")
    alerts = {a.kind: a for a in loop.gw.store.pending_alerts()}
    assert "SSCC 123456789012345678 has check digit" in alerts["outbound.rejected"].body
    assert "we send 'ship_notice' or 'invoice'" in alerts["outbound.unreadable"].body
    assert (loop.root / "erp_out" / RETAILER / "failed" / "junk.json").exists()
    # the next good document starts at control number 2 (1 went to nothing else): no number was wasted
    erp_drop(loop, "good.json", notice_json("SH-GOOD"))
    loop.process()
    (sent,) = loop.sent_files(RETAILER, "856")
    assert read_sets(sent.read_bytes())[0][1] == "000000001"


def test_unknown_po_is_held_then_routed_when_the_order_arrives(loop: Loop) -> None:
    loop.drop(THREEPL, "asn.x12", asn_interchange("PO-LATE"))
    assert loop.sent_files(RETAILER, "856") == []
    (threepl_doc,) = loop.gw.store.find_documents(partner_id=THREEPL, kind="ship_notice")
    assert threepl_doc.state in ("acknowledged", "delivered")  # recorded and delivered to our ERP, not lost
    alert = next(a for a in loop.gw.store.pending_alerts() if a.kind == "routing.unknown_po")
    assert "PO-LATE" in alert.subject and f"gateway trace {threepl_doc.id}" in alert.body
    loop.process()  # retried: still unknown, no second alert
    assert [a.kind for a in loop.gw.store.pending_alerts()].count("routing.unknown_po") == 1

    loop.drop(RETAILER, "po.x12", po_interchange("PO-LATE"))
    loop.clock.advance(hours=1, seconds=1)  # the retry is due
    loop.process()
    (sent,) = loop.sent_files(RETAILER, "856")
    (_, _, _, _, asn), = read_sets(sent.read_bytes())
    assert asn.orders[0].po_number == "PO-LATE"
    (route_row,) = loop.gw.store.find_outbox(kind="route")
    assert route_row.state == "sent"
    out_doc = loop.gw.store.find_documents(direction="out", partner_id=RETAILER)[0]
    assert out_doc.parent_id == threepl_doc.id


def _sent_asn(loop: Loop) -> tuple[str, str, str]:
    loop.drop(RETAILER, "po.x12", po_interchange())
    loop.drop(THREEPL, "asn.x12", asn_interchange())
    (sent,) = loop.sent_files(RETAILER, "856")
    (_, isa13, gs06, st02, _), = read_sets(sent.read_bytes())
    return isa13, gs06, st02


def test_999_with_padded_group_number_reconciles(tmp_path: Path) -> None:
    made = make_loop(tmp_path, FakeClock(), invoice_on_ship=False)
    try:
        _, gs06, st02 = _sent_asn(made)
        note = SegmentNote(segment_id="PRF", position=9, error_code="8",
                           elements=[ElementNote(position=1, error_code="4", bad_value="P")])
        ack = FunctionalAck(ack_type="999", groups=[GroupAck(
            functional_id_code="SH", group_control_number=gs06.zfill(9), version="005010", status=AckStatus.ACCEPTED,
            sets_included=1, sets_received=1, sets_accepted=1,
            transaction_sets=[TransactionSetAck(transaction_set_id="856", control_number=st02,
                                                status=AckStatus.ACCEPTED_WITH_ERRORS, segments=[note])])])
        data = write_functional_ack(ack, replace(their_envelope(RETAILER_ID, 300), version="005010X231A1"), [1])
        made.drop(RETAILER, "999.x12", data)
        (view,) = made.gw.order_to_cash.reconciler.list_acks(partner_id=RETAILER)
        assert view.status == "accepted_with_errors"
        assert view.detail == "segment PRF at position 9: data element PRF01 too short, value 'P' (IK4 code 4)"
        assert made.gw.store.find_documents(direction="out", partner_id=RETAILER)[0].state == "accepted"
    finally:
        made.gw.close()


def test_ta1_rejection_and_unmatched_ack(loop: Loop) -> None:
    isa13, _, _ = _sent_asn(loop)
    ta1 = FunctionalAck(ack_type="TA1", interchange_acks=[InterchangeAck(
        control_number=isa13, interchange_date=loop.clock().date(), interchange_time=loop.clock().time(),
        status=AckStatus.REJECTED, note_code="008")])
    loop.drop(RETAILER, "ta1.x12", write_functional_ack(ta1, their_envelope(RETAILER_ID, 301)))
    (view,) = loop.gw.order_to_cash.reconciler.list_acks(partner_id=RETAILER)
    assert view.status == "rejected"
    assert view.detail == f"interchange {isa13} rejected: invalid interchange receiver ID (TA1 note code 008)"
    rejected = [a for a in loop.gw.store.pending_alerts() if a.kind == "ack.rejected"]
    assert len(rejected) == 1 and "invalid interchange receiver ID" in rejected[0].body

    stray = FunctionalAck(ack_type="997", groups=[GroupAck(functional_id_code="SH", group_control_number="4242",
                                                           status=AckStatus.ACCEPTED)])
    loop.drop(RETAILER, "stray.x12", write_functional_ack(stray, their_envelope(RETAILER_ID, 302)))
    unmatched = [a for a in loop.gw.store.pending_alerts() if a.kind == "ack.unmatched"]
    assert len(unmatched) == 1 and "SH group 4242" in unmatched[0].body


def test_describe_segment_note_codes() -> None:
    note = SegmentNote(segment_id="TD5", position=7, error_code="7")
    assert describe_segment_note(note) == ["segment TD5 at position 7: segment not in proper sequence (AK3 code 7)"]
    unknown = SegmentNote(segment_id="N1", position=5, elements=[ElementNote(position=4, error_code="99")])
    assert describe_segment_note(unknown, "999") == ["segment N1 at position 5: data element N104 error (IK4 code 99)"]


def _write_config(loop: Loop) -> Path:
    """The loop's configuration as a gateway.toml for the CLI."""
    lines = ['[gateway]', f'data_dir = "{loop.root / "var"}"', '', '[identity]', 'id = "EDIGATEWAY"', '']
    for p in loop.cfg.partners:
        lines += ['[[partners]]', f'id = "{p.id}"', f'role = "{p.role}"', f'hl_structure = "{p.hl_structure}"',
                  f'x12 = {{ id = "{p.x12.id if p.x12 else ""}" }}',
                  f'outbound = {{ type = "folder", path = "{loop.outbox(p.id)}" }}', '']
    path = loop.root / "gateway.toml"
    path.write_text("\n".join(lines))
    return path


def test_cli_send_and_acks(loop: Loop) -> None:
    config = _write_config(loop)
    loop.gw.close()
    doc = loop.root / "asn.json"
    doc.write_text(json.dumps(notice_json("SH-CLI")))
    runner = CliRunner()
    result = runner.invoke(main, ["send", str(doc), "--partner", RETAILER, "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "ship_notice SH-CLI" in result.output and " sent " in f" {result.output} "
    assert len(list(loop.outbox(RETAILER).glob("*856*"))) == 1
    again = runner.invoke(main, ["send", str(doc), "--partner", RETAILER, "--config", str(config)])
    assert again.exit_code == 0 and len(list(loop.outbox(RETAILER).glob("*856*"))) == 1  # same file: nothing new
    listing = runner.invoke(main, ["acks", "--partner", RETAILER, "--config", str(config)])
    assert listing.exit_code == 0 and "SH-CLI" in listing.output and "pending" in listing.output
    overdue = runner.invoke(main, ["acks", "--overdue", "--config", str(config)])
    assert overdue.exit_code == 0 and "no acknowledgments overdue" in overdue.output
    junk = loop.root / "junk.json"
    junk.write_text("{not json")
    refused = runner.invoke(main, ["send", str(junk), "--partner", RETAILER, "--config", str(config)])
    assert refused.exit_code == 1 and "not valid JSON" in refused.output
    assert "Traceback" not in refused.output
