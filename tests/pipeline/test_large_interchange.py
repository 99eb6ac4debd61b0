"""A very large interchange is processed in parts (flat memory), yet acknowledged as a whole."""

from __future__ import annotations

from .conftest import GatewayFactory
from .support import (
    GatewayLayout,
    ingest,
    interchange_850,
    purchase_order,
    read_ack_files,
    sink_documents,
)


def test_an_interchange_released_in_parts_gets_one_complete_997(layout: GatewayLayout,
                                                               open_gateway: GatewayFactory) -> None:
    groups = [[purchase_order(f"PO-A{i:03d}") for i in range(30)], [purchase_order(f"PO-B{i:03d}") for i in range(25)]]
    data = interchange_850(900, groups, gs06=900)
    gw = open_gateway(layout)
    gw.pipeline.max_buffered_segments = 40  # a few sets per part: the groups are split across many parts
    file_id = ingest(gw, "big.x12", data)

    docs = gw.store.documents_for_file(file_id)
    assert len(docs) == 55 and {d.state for d in docs} == {"delivered"}
    assert sorted(d["document"]["po_number"] for d in sink_documents(layout.erp)) == sorted(
        po.po_number for group in groups for po in group)

    (ack_file,) = read_ack_files(layout.outbox())
    assert ack_file.issues == []
    # one 997 interchange for the one inbound interchange, a 997 transaction set per functional group
    by_group = {g.group_control_number: g for ack in ack_file.acks for g in ack.groups}
    assert len(ack_file.acks) == 2
    assert set(by_group) == {"900", "901"}
    for gs06, count in (("900", 30), ("901", 25)):
        g = by_group[gs06]
        assert (g.status.value, g.sets_included, g.sets_received, g.sets_accepted) == ("A", count, count, count)
        assert len(g.transaction_sets) == count  # every set of the group, not only the last part's
