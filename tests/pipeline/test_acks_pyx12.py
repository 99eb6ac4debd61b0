"""End to end: the 997 (4010) and 999 (5010) the gateway writes for a broken 850 pass pyx12's own maps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from writers.support import pyx12_validate, widen_ack_maps  # the writer tests' pyx12 map helpers

from gateway.app import Gateway
from inbox.base import RawDocument

from .conftest import GatewayFactory, gateway_store_url
from .support import RETAILER, interchange_850, purchase_order, read_ack_files
from .support import write_gateway_config as write_config


@pytest.fixture(scope="module")
def ack_maps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pyx12's 997/999 maps with PO / 850 added to AK101 / AK201 (pyx12 ships HIPAA codes only)."""
    return widen_ack_maps(tmp_path_factory.mktemp("pyx12maps"), ["PO"], ["850"])


def _broken_850s(version: str) -> bytes:
    """Two 850s in one group: a bad date in BEG05 in the first, a bad unit code in PO103 of the second."""
    data = interchange_850(61, [[purchase_order("PO-61"), purchase_order("PO-62")]], version=version)
    data = data.replace(b"BEG*00*SA*PO-61**20261127", b"BEG*00*SA*PO-61**20261399", 1)
    head, sep, tail = data.partition(b"BEG*00*SA*PO-62")
    return head + sep + tail.replace(b"*24*EA*", b"*24*QQQ*", 1)


def _ingest(gw: Gateway, data: bytes) -> None:
    gw.store.land(RawDocument("api", "test:broken", "broken.x12", gw.store.now(), body=data, partner_hint=RETAILER))
    gw.drain()


def _segments(text: str) -> list[list[str]]:
    return [s.strip().split("*") for s in text.split("~") if s.strip()]


def test_997_for_a_broken_4010_850_has_ak3_ak4_and_passes_pyx12(
        tmp_path: Path, store_url: str, open_gateway: GatewayFactory, ack_maps: Path) -> None:
    layout = write_config(tmp_path / "gw", gateway_store_url(store_url))
    gw = open_gateway(layout)
    _ingest(gw, _broken_850s("004010"))

    assert [d.state for f in gw.store.find_files() for d in gw.store.documents_for_file(f.id)] == [
        "rejected", "rejected"]
    [ack] = read_ack_files(layout.outbox())
    assert ack.issues == [] and [a.ack_type for a in ack.acks] == ["997"]
    segs = _segments(ack.path.read_text())
    assert ["AK1", "PO", "61"] in segs
    assert ["AK3", "BEG", "2", "", "8"] in segs and ["AK4", "5", "373", "8", "20261399"] in segs
    assert ["AK3", "PO1", "3", "", "8"] in segs and ["AK4", "3", "355", "7", "QQQ"] in segs
    assert ["AK9", "R", "2", "2", "0"] in segs
    ok, errors = pyx12_validate(ack.path.read_bytes(), ack_maps)
    assert errors == [] and ok
    # pyx12 is a real second opinion: the same 997 without its AK9 fails it.
    broken = b"~".join(s for s in ack.path.read_bytes().split(b"~") if not s.strip().startswith(b"AK9"))
    broken = broken.replace(b"SE*14*", b"SE*13*")
    ok, errors = pyx12_validate(broken, ack_maps)
    assert not ok and errors


def test_999_for_a_broken_5010_850_has_ik3_ik4_and_passes_pyx12(
        tmp_path: Path, store_url: str, open_gateway: GatewayFactory, ack_maps: Path) -> None:
    retailer: dict[str, Any] = {"version": "005010", "acks": {"functional_ack": "999", "ta1": "never"}}
    layout = write_config(tmp_path / "gw", gateway_store_url(store_url), retailer=retailer)
    gw = open_gateway(layout)
    _ingest(gw, _broken_850s("005010"))

    [ack] = read_ack_files(layout.outbox())
    assert ack.issues == [] and [a.ack_type for a in ack.acks] == ["999"]
    segs = _segments(ack.path.read_text())
    assert segs[1][0] == "GS" and segs[1][8] == "005010X231A1"
    assert segs[2] == ["ST", "999", "0001", "005010X231A1"]
    assert ["AK1", "PO", "61", "005010"] in segs
    assert ["IK3", "BEG", "2", "", "8"] in segs and ["IK4", "5", "373", "8", "20261399"] in segs
    assert ["IK3", "PO1", "3", "", "8"] in segs and ["IK4", "3", "355", "7", "QQQ"] in segs
    assert ["IK5", "R", "5"] in segs and ["AK9", "R", "2", "2", "0"] in segs
    ok, errors = pyx12_validate(ack.path.read_bytes(), ack_maps)
    assert errors == [] and ok


def test_accepted_group_gets_an_accepting_997_that_passes_pyx12(
        tmp_path: Path, store_url: str, open_gateway: GatewayFactory, ack_maps: Path) -> None:
    layout = write_config(tmp_path / "gw", gateway_store_url(store_url))
    gw = open_gateway(layout)
    _ingest(gw, interchange_850(70, [[purchase_order("PO-70")], [purchase_order("PO-71")]], gs06=700))
    [ack] = read_ack_files(layout.outbox())
    assert sorted(g.group_control_number for a in ack.acks for g in a.groups) == ["700", "701"]
    assert {g.status.value for a in ack.acks for g in a.groups} == {"A"}
    ok, errors = pyx12_validate(ack.path.read_bytes(), ack_maps)
    assert errors == [] and ok
